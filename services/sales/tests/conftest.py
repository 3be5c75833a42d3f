"""Sales service fixtures: the real sales and rules migrations on a real PostgreSQL, sales and rules apps
in-process for several nodes of the demo topology over one database (rows another node owns stand in
for its replicas), the sales apps asking their node's rules app over HTTP (ASGI), the national default
rules published once, each test in a transaction rolled back at the end."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import app_client, bearer, bind_session
from kam_platform.topology import Topology
from kam_rules.client import RulesClient
from kam_rules.main import MIGRATIONS as RULES_MIGRATIONS
from kam_rules.main import create_app as create_rules_app
from kam_rules.seed import seed as seed_rules
from kam_sales.clock import MovableClock
from kam_sales.main import MIGRATIONS, create_app

NODES = ("hq", "gd", "gd-gz", "js", "js-nj")
# the one clock every sales app's jobs read; each test starts it at T0 and moves it
T0 = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
CLOCK = MovableClock(T0)
ALL = [
    "sales.catalog:read",
    "sales.catalog:write",
    "sales.opportunity:read",
    "sales.opportunity:write",
    "sales.agreement:read",
    "sales.agreement:write",
    "rules:read",
]


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_sales", [MIGRATIONS, RULES_MIGRATIONS])


def make_settings(database_url: str, jwks: dict[str, Any], node: str, service: str) -> Settings:
    return Settings(
        node=node,
        service=service,
        topology_file=topology_file("demo"),
        database_url=database_url,
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        nats_url="nats://127.0.0.1:1",
        jwks_json=json.dumps(jwks),
    )


@pytest.fixture(scope="session")
async def apps(database_url: str, jwks: dict[str, Any]) -> AsyncIterator[dict[str, tuple[FastAPI, FastAPI]]]:
    """node → (sales app, rules app)."""
    await seed_rules(database_url, "hq", Topology.load(topology_file("demo")))
    out: dict[str, tuple[FastAPI, FastAPI]] = {}
    for n in NODES:
        rules_app = create_rules_app(make_settings(database_url, jwks, n, "rules"))
        settings = make_settings(database_url, jwks, n, "sales")
        client = RulesClient(f"http://{n}.kam.test", transport=httpx.ASGITransport(app=rules_app))
        sales_app = create_app(settings, rules_client=client, clock=CLOCK, reminders_every=None)
        out[n] = (sales_app, rules_app)
    async with contextlib.AsyncExitStack() as stack:
        for pair in out.values():
            for app in pair:
                await stack.enter_async_context(app.router.lifespan_context(app))
        yield out


@pytest.fixture
async def clients(
    apps: dict[str, tuple[FastAPI, FastAPI]], rollback_conn: AsyncConnection
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    out: dict[str, httpx.AsyncClient] = {}
    CLOCK.set(T0)
    for node, (sales_app, rules_app) in apps.items():
        bind_session(sales_app, rollback_conn)
        bind_session(rules_app, rollback_conn)
        rules_app.state.rules_cache.clear()
        out[node] = await app_client(sales_app, f"http://{node}.kam.test")
    try:
        yield out
    finally:
        for node, c in out.items():
            await c.aclose()
            for app in apps[node]:
                app.dependency_overrides.clear()


@pytest.fixture
def clock() -> MovableClock:
    return CLOCK


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """auth("gd-gz", user="am1") — every sales permission (and rules:read) unless `perms` says otherwise."""

    def make(
        node: str, *, user: str = "am1", perms: list[str] | None = None, scope: str | None = None
    ) -> dict[str, str]:
        return bearer(
            make_token(user, node, perms=ALL if perms is None else perms, scope=scope, roles=["account_manager"])
        )

    return make
