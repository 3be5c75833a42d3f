"""A node's bootstrap administrator (issue 9): created with a one-time password whose tokens can do
nothing and say must_change_password, until the password is changed at POST /api/v1/auth/password
(checked like a login); then a normal administrator's token."""

from __future__ import annotations

import base64
import json

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.auth.bootstrap import BOOTSTRAP_ROLES, bootstrap_admin
from kam_org.staff.repository import StaffRepository

from .conftest import NODE, TOPO

TOKEN = "/api/v1/auth/token"
PASSWORD = "/api/v1/auth/password"


def _claims(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


async def _login(c: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await c.post(TOKEN, data={"grant_type": "password", "username": username, "password": password})


async def test_bootstrap_admin_must_change_its_one_time_password(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    done = await bootstrap_admin(session, node=NODE, topology=TOPO, username="boot")
    assert done is not None and done.created and len(done.password) == 16
    await session.commit()
    staff = await StaffRepository.from_session(session).get_by_username(NODE, "boot")
    assert staff is not None and staff.must_change_password
    assert sorted((await StaffRepository.from_session(session).roles_of([staff.id]))[staff.id]) == sorted(
        BOOTSTRAP_ROLES
    )

    r = await _login(client, "boot", done.password)
    assert r.status_code == 200, r.text
    claims = _claims(r.json()["access_token"])
    assert claims["must_change_password"] is True and claims["perms"] == []
    # that token is refused by what the role would allow
    assert (
        await client.get("/api/v1/org/staff", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    ).status_code == 403

    # a wrong current password is a failed login (401, envelope), a too-short or unchanged new one 422
    bad = await client.post(
        PASSWORD, data={"username": "boot", "current_password": "nope-nope", "new_password": "brand-new-pass-1"}
    )
    assert bad.status_code == 401 and bad.json()["@type"] == "Error"
    short = await client.post(
        PASSWORD, data={"username": "boot", "current_password": done.password, "new_password": "short"}
    )
    assert short.status_code == 422 and short.json()["details"]["field"] == "new_password"
    same = await client.post(
        PASSWORD, data={"username": "boot", "current_password": done.password, "new_password": done.password}
    )
    assert same.status_code == 422

    ok = await client.post(
        PASSWORD, data={"username": "boot", "current_password": done.password, "new_password": "brand-new-pass-1"}
    )
    assert ok.status_code == 204, ok.text
    assert (await _login(client, "boot", done.password)).status_code == 401
    r = await _login(client, "boot", "brand-new-pass-1")
    assert r.status_code == 200
    claims = _claims(r.json()["access_token"])
    assert "must_change_password" not in claims and "org.staff:write" in claims["perms"]  # type: ignore[operator]


async def test_bootstrap_never_overwrites_an_existing_user_unless_reset(session: AsyncSession) -> None:
    first = await bootstrap_admin(session, node=NODE, topology=TOPO, username="boot2")
    assert first is not None
    assert await bootstrap_admin(session, node=NODE, topology=TOPO, username="boot2") is None
    again = await bootstrap_admin(session, node=NODE, topology=TOPO, username="boot2", reset=True)
    assert again is not None and not again.created and again.password != first.password


async def test_password_change_refuses_nul(client: httpx.AsyncClient) -> None:
    r = await client.post(PASSWORD, data={"username": "a\x00b", "current_password": "x", "new_password": "y" * 10})
    assert r.status_code == 400 and r.json()["@type"] == "Error"
