"""Customer service fixtures: the real migrations on a real PostgreSQL, the app in-process,
each test in a transaction rolled back at the end, tokens signed with a test key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_customer.main import MIGRATIONS, create_app
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import app_client, bearer, bind_session

DEMO = topology_file("demo")

ALL_CUSTOMER_PERMS = [
    "customer:read",
    "customer:create",
    "customer:update",
    "customer:delete",
    "customer:import",
    "customer:export",
    "customer:transfer",
    "customer.pii:read",
    "customer.history:read",
]


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_customer", [MIGRATIONS])


def make_settings(database_url: str, jwks: dict[str, Any], node: str = "gd-gz", **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "node": node,
        "service": "customer",
        "topology_file": DEMO,
        "database_url": database_url,
        "relay_enabled": False,
        "replication_enabled": False,
        "hub_enabled": False,
        "nats_url": "nats://127.0.0.1:1",  # never the machine's own NATS: a test that needs one passes it
        "jwks_json": json.dumps(jwks),
    }
    values.update(kw)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings_for() -> Callable[..., Settings]:
    """make_settings(database_url, jwks, node=..., **overrides)."""
    return make_settings


@pytest.fixture(scope="session")
async def customer_app(database_url: str, jwks: dict[str, Any]) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url, jwks))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(customer_app: FastAPI, rollback_conn: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    bind_session(customer_app, rollback_conn)
    async with await app_client(customer_app, "http://gd-gz.kam.test") as c:
        yield c
    customer_app.dependency_overrides.clear()


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Headers for a user: auth("gd-gz"), auth("hq", scope="js"), auth("gd-gz", perms=[...])."""

    def make(
        node: str = "gd-gz",
        *,
        user: str = "am01",
        perms: list[str] | None = None,
        scope: str | None = None,
        roles: list[str] | None = None,
    ) -> dict[str, str]:
        return bearer(
            make_token(
                user,
                node,
                perms=ALL_CUSTOMER_PERMS if perms is None else perms,
                scope=scope,
                roles=roles or ["account_manager"],
            )
        )

    return make


def valid_credit_code(first17: str = "91440101MA59UQXY1") -> str:
    from kam_customer.customer.rules import credit_check_char

    return first17 + credit_check_char(first17)


def wrong_check_char(code: str) -> str:
    """`code` with its check character replaced by another (a credit code that fails the check)."""
    return code[:17] + ("1" if code[17] == "0" else "0")


def _customer_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "中国工商银行广州分行",
        "industry": "FINANCE",
        "grade": "A",
        "customerType": "SINGLE",
        "nature": "ENTERPRISE",
    }
    body.update(over)
    return body


@pytest.fixture
def customer_body() -> Callable[..., dict[str, Any]]:
    """A valid POST body; keyword arguments override attributes."""
    return _customer_body


@pytest.fixture
def insert_customer(rollback_conn: AsyncConnection) -> Callable[..., Any]:
    """Insert a customer row owned by any node directly (stands in for a replica)."""
    from sqlalchemy import text

    from kam_platform.ids import uuid7

    async def insert(owner_node: str, name: str, **over: Any) -> str:
        cid = uuid7()
        row = {
            "id": cid,
            "owner_node": owner_node,
            "version": 1,
            "customer_code": f"KAT{cid.hex[-12:].upper()}",
            "name": name,
            "customer_type": "SINGLE",
            "mgmt_level": "LOCAL",
            "industry": "FINANCE",
            "grade": "B",
            "life_status": "ACTIVE",
            "recog_status": "CONFIRMED",
        }
        row.update(over)
        cols = ", ".join(row)
        vals = ", ".join(f":{k}" for k in row)
        await rollback_conn.execute(text(f"INSERT INTO customer.customer ({cols}) VALUES ({vals})"), row)
        return str(cid)

    return insert
