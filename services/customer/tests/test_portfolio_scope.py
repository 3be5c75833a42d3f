"""The portfolio levels of the data scope (F19 职责): an account manager scoped to their own portfolio,
or to their team's, sees only those customers — in lists, counts, exports, history and get-by-id —
enforced in the query by the platform's scoped repository."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_platform.auth import sign_token
from kam_platform.db.engine import get_read_session
from kam_platform.testing.plugin import TOKEN_KID, bearer

from .conftest import ALL_CUSTOMER_PERMS

URL = "/tmf-api/customerManagement/v4/customer"
CONTACTS = "/tmf-api/party/v4/individual"
EXPORTS = "/api/v1/customer/exports"
TAG = "组合范围"


@pytest.fixture
def portfolio_auth(signing_key: Any) -> Callable[..., dict[str, str]]:
    """Headers for a gd-gz user at a portfolio level, as org issues them (claims scope_level, portfolio)."""

    def make(user: str, level: str, portfolio: list[str] | None = None, node: str = "gd-gz") -> dict[str, str]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user,
            "node": node,
            "scope_node": node,
            "scope_level": level,
            "roles": ["account_manager"],
            "perms": ALL_CUSTOMER_PERMS,
            "name": user,
            "iat": now,
            "exp": now + 3600,
            "aud": "kam",
            "iss": f"kam:{node}",
            "jti": f"{user}-{now}-{level}",
        }
        if portfolio is not None:
            claims["portfolio"] = portfolio
        return bearer(sign_token(signing_key, TOKEN_KID, claims))

    return make


@pytest.fixture
def ie(customer_app: FastAPI, client: httpx.AsyncClient, rollback_conn: AsyncConnection) -> httpx.AsyncClient:
    """The client, with exports (ReadSession) also reading inside the test's transaction."""

    async def read_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(
            bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        ) as session:
            yield session

    customer_app.dependency_overrides[get_read_session] = read_session  # cleared by the client fixture
    return client


@pytest.fixture
async def book(ie: httpx.AsyncClient, auth: Any, customer_body: Any) -> dict[str, dict[str, Any]]:
    """Three gd-gz customers managed by am01, am02 and am03, one contact each, written node-scoped."""
    out: dict[str, dict[str, Any]] = {}
    for manager in ("am01", "am02", "am03"):
        r = await ie.post(
            URL,
            json=customer_body(
                name=f"{TAG}客户{manager}", relatedParty=[{"id": manager, "name": manager, "role": "accountManager"}]
            ),
            headers=auth(),
        )
        assert r.status_code == 201, r.text
        out[manager] = r.json()
        r = await ie.post(
            CONTACTS,
            json={"givenName": manager, "familyName": "联系人", "customer": {"id": out[manager]["id"]}},
            headers=auth(),
        )
        assert r.status_code == 201, r.text
        out[manager]["contact"] = r.json()
    return out


async def names_listed(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[set[str], int]:
    r = await client.get(URL, params={"q": TAG}, headers=headers)
    assert r.status_code == 200, r.text
    return {c["name"] for c in r.json()}, int(r.headers["X-Total-Count"])


async def names_exported(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    r = await client.get(EXPORTS, params={"q": TAG}, headers=headers)
    assert r.status_code == 200, r.text
    return {row["name"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}


async def test_own_portfolio_sees_only_own_customers_everywhere(ie, book, portfolio_auth) -> None:
    own = portfolio_auth("am01", "own")
    names, total = await names_listed(ie, own)
    assert names == {f"{TAG}客户am01"} and total == 1
    assert await names_exported(ie, own) == {f"{TAG}客户am01"}

    mine, theirs = book["am01"], book["am02"]
    assert (await ie.get(f"{URL}/{mine['id']}", headers=own)).status_code == 200
    r = await ie.get(f"{URL}/{theirs['id']}", headers=own)
    assert r.status_code == 404 and r.json()["@type"] == "Error"

    history = await ie.get(f"/api/v1/customer/customers/{mine['id']}/history", headers=own)
    assert history.status_code == 200 and int(history.headers["X-Total-Count"]) >= 1
    assert (await ie.get(f"/api/v1/customer/customers/{theirs['id']}/history", headers=own)).status_code == 404

    contacts = await ie.get(CONTACTS, params={"q": "联系人"}, headers=own)
    assert {c["id"] for c in contacts.json()} == {mine["contact"]["id"]}
    assert int(contacts.headers["X-Total-Count"]) == 1
    assert (await ie.get(f"{CONTACTS}/{theirs['contact']['id']}", headers=own)).status_code == 404


async def test_team_portfolio_sees_the_teams_customers(ie, book, portfolio_auth, auth) -> None:
    team = portfolio_auth("am01", "team", ["am02"])
    names, total = await names_listed(ie, team)
    assert names == {f"{TAG}客户am01", f"{TAG}客户am02"} and total == 2
    assert await names_exported(ie, team) == names
    assert (await ie.get(f"{URL}/{book['am02']['id']}", headers=team)).status_code == 200
    assert (await ie.get(f"{URL}/{book['am03']['id']}", headers=team)).status_code == 404
    # the node level is unchanged: every customer of the node
    names, total = await names_listed(ie, auth())
    assert total == 3


async def test_portfolio_scope_refuses_writes_outside_the_portfolio(ie, book, portfolio_auth) -> None:
    own = portfolio_auth("am01", "own")
    r = await ie.patch(f"{URL}/{book['am02']['id']}", json={"description": "不是我的"}, headers=own)
    assert r.status_code == 404 and r.json()["@type"] == "Error"
    r = await ie.patch(f"{URL}/{book['am01']['id']}", json={"description": "我的"}, headers=own)
    assert r.status_code == 200, r.text


async def test_reassignment_moves_the_customer_between_portfolios(ie, book, portfolio_auth, auth) -> None:
    cid = book["am02"]["id"]
    r = await ie.put(
        f"/api/v1/customer/customers/{cid}/account-manager",
        json={"accountManager": "am01", "accountManagerName": "am01", "reason": "调整"},
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    names, total = await names_listed(ie, portfolio_auth("am01", "own"))
    assert names == {f"{TAG}客户am01", f"{TAG}客户am02"} and total == 2
    names, total = await names_listed(ie, portfolio_auth("am02", "own"))
    assert names == set() and total == 0


async def test_unknown_scope_level_is_refused(ie, portfolio_auth) -> None:
    r = await ie.get(URL, headers=portfolio_auth("am01", "everything"))
    assert r.status_code == 401 and r.json()["@type"] == "Error"


async def test_portfolio_scope_cannot_import_or_register_listeners(ie, portfolio_auth) -> None:
    own = portfolio_auth("am01", "own")
    body = "customerCode,name,customerType,industry,grade\nKAGDGZPF0001,组合导入,SINGLE,FINANCE,A\n".encode()
    r = await ie.post("/api/v1/customer/imports", content=body, headers={**own, "Content-Type": "text/csv"})
    assert r.status_code == 403 and r.json()["@type"] == "Error"
    r = await ie.post(
        "/tmf-api/customerManagement/v4/hub", json={"callback": "https://hooks.example.com/kam"}, headers=own
    )
    assert r.status_code == 403 and r.json()["@type"] == "Error"
