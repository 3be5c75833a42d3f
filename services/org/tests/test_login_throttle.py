"""The password grant is throttled (issue 6, finding 13: 30 wrong passwords then the right one were all
answered in 4.9 s): failures per user name and per client address lock the key out with 429 and
Retry-After, the lockout is audited, and a success clears the user's failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_org.main import create_app
from kam_org.models import Audit
from kam_platform.testing.plugin import app_client, bind_session, wait_for

from .conftest import NODE, PASSWORD, MakeUser, settings_for

TOKEN = "/api/v1/auth/token"


async def _login(
    c: httpx.AsyncClient, username: str, password: str = PASSWORD, address: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else None  # as the node's gateway sets it
    form = {"grant_type": "password", "username": username, "password": password}
    return await c.post(TOKEN, data=form, headers=headers)


def _assert_locked_out(resp: httpx.Response) -> int:
    assert resp.status_code == 429, resp.text
    body = resp.json()
    assert body["@type"] == "Error" and body["code"] == "TOO_MANY_REQUESTS" and body["status"] == "429"
    retry_after = int(resp.headers["Retry-After"])
    assert retry_after > 0 and body["details"]["retryAfter"] == retry_after
    assert "access_token" not in body
    return retry_after


@asynccontextmanager
async def _app_with(
    database_url: str, nats_url: str, conn: AsyncConnection, **limits: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(NODE, database_url, nats_url).model_copy(update=limits))
    async with app.router.lifespan_context(app):
        bind_session(app, conn)
        async with await app_client(app) as c:
            yield c


async def test_wrong_passwords_then_the_right_one_are_refused_with_429(
    client: httpx.AsyncClient, make_user: MakeUser, session: AsyncSession
) -> None:
    await make_user("am_li", ["account_manager"])
    for _ in range(10):  # the default limit
        assert (await _login(client, "am_li", "guess")).status_code == 401
    # locked: even the right password is not checked now
    _assert_locked_out(await _login(client, "am_li"))
    _assert_locked_out(await _login(client, "am_li", "guess"))
    rows = (
        await session.scalars(select(Audit).where(Audit.entity_type == "login_throttle", Audit.action == "lockout"))
    ).all()
    assert [(r.actor, r.changes["kind"][1], r.changes["failures"][1]) for r in rows] == [("am_li", "user", 10)]
    # another user of the same address is not locked out by am_li's failures
    await make_user("am_wang", ["account_manager"])
    assert (await _login(client, "am_wang")).status_code == 200


async def test_a_successful_login_clears_the_users_failures(
    database_url: str, nats_url: str, rollback_conn: AsyncConnection, make_user: MakeUser
) -> None:
    await make_user("am_zhao", ["account_manager"])
    async with _app_with(database_url, nats_url, rollback_conn, login_max_failures_per_user=3) as c:
        for _ in range(2):
            assert (await _login(c, "am_zhao", "guess")).status_code == 401
        assert (await _login(c, "am_zhao")).status_code == 200
        for _ in range(2):  # would be the 3rd and 4th failure without the reset
            assert (await _login(c, "am_zhao", "guess")).status_code == 401
        assert (await _login(c, "am_zhao")).status_code == 200
        for _ in range(3):
            assert (await _login(c, "am_zhao", "guess")).status_code == 401
        _assert_locked_out(await _login(c, "am_zhao"))


async def test_failures_from_one_address_lock_that_address_out(
    database_url: str, nats_url: str, rollback_conn: AsyncConnection, make_user: MakeUser, session: AsyncSession
) -> None:
    await make_user("am_sun", ["account_manager"])
    limits = {"login_max_failures_per_user": 100, "login_max_failures_per_address": 4}
    async with _app_with(database_url, nats_url, rollback_conn, **limits) as c:
        for i in range(4):  # a different user name each time: only the address limit applies
            assert (await _login(c, f"spray{i}", "guess", address="203.0.113.9")).status_code == 401
        _assert_locked_out(await _login(c, "am_sun", address="203.0.113.9"))
        assert (await _login(c, "am_sun", address="198.51.100.7")).status_code == 200
    rows = (await session.scalars(select(Audit).where(Audit.action == "lockout"))).all()
    assert [(r.changes["kind"][1], r.changes["key"][1]) for r in rows] == [("address", "203.0.113.9")]


async def test_a_lockout_ends_after_its_period(
    database_url: str, nats_url: str, rollback_conn: AsyncConnection, make_user: MakeUser
) -> None:
    await make_user("am_qian", ["account_manager"])
    limits = {"login_max_failures_per_user": 2, "login_lockout_seconds": 1}
    async with _app_with(database_url, nats_url, rollback_conn, **limits) as c:
        for _ in range(2):
            assert (await _login(c, "am_qian", "guess")).status_code == 401
        _assert_locked_out(await _login(c, "am_qian"))

        async def unlocked() -> bool:
            resp = await _login(c, "am_qian")
            assert resp.status_code in (200, 429), resp.text
            return resp.status_code == 200

        await wait_for(unlocked, timeout=30, interval=0.3)


async def test_a_nul_byte_or_a_huge_user_name_is_refused_without_a_500(client: httpx.AsyncClient) -> None:
    resp = await _login(client, "am\x00li")
    assert resp.status_code == 400 and resp.json()["code"] == "BAD_REQUEST" and "username" in resp.json()["message"]
    resp = await _login(client, "x" * 5000, "guess")
    assert resp.status_code == 401 and resp.json()["@type"] == "Error"
