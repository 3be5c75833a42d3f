"""Sales service fixtures: the real sales, rules and org migrations on a real PostgreSQL, sales, rules
and org apps in-process for several nodes of the demo topology over one database (rows another node
owns stand in for its replicas), the sales apps asking their node's rules and org apps over HTTP
(ASGI), the national default rules published once, the org apps verifying the test tokens (their
signing key is the test key), each test in a transaction rolled back at the end."""

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

from kam_customer.main import MIGRATIONS as CUSTOMER_MIGRATIONS
from kam_customer.main import create_app as create_customer_app
from kam_org.auth.repository import SigningKeyRepository
from kam_org.client import OrgClient
from kam_org.main import MIGRATIONS as ORG_MIGRATIONS
from kam_org.main import create_app as create_org_app
from kam_platform.auth import private_key_pem, public_jwk
from kam_platform.db import create_database
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import TOKEN_KID, app_client, bearer, bind_session
from kam_platform.topology import Topology
from kam_rules.client import RulesClient
from kam_rules.main import MIGRATIONS as RULES_MIGRATIONS
from kam_rules.main import create_app as create_rules_app
from kam_rules.seed import seed as seed_rules
from kam_sales.clock import MovableClock
from kam_sales.customers import CustomerDirectory
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
    "sales.quote:read",
    "sales.quote:write",
    "sales.campaign:read",
    "sales.campaign:write",
    "customer:read",
    "customer:create",
    "rules:read",
]


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_sales", [MIGRATIONS, RULES_MIGRATIONS, ORG_MIGRATIONS, CUSTOMER_MIGRATIONS])


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


async def _org_trusts_test_tokens(database_url: str, signing_key: Any) -> None:
    """The org apps sign and verify with the key in their schema: make it the test key, so the tokens the
    tests make are good at org too (the sales app asks org with the caller's token)."""
    db = create_database(database_url, pool_size=1)
    try:
        async with db.sessionmaker() as session, session.begin():
            repo = SigningKeyRepository.from_session(session)
            if await repo.active() is None:
                await repo.insert_if_none_active(
                    kid=TOKEN_KID,
                    private_pem=private_key_pem(signing_key),
                    public_jwk=public_jwk(signing_key, TOKEN_KID),
                )
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
async def apps(
    database_url: str, jwks: dict[str, Any], signing_key: Any
) -> AsyncIterator[dict[str, tuple[FastAPI, ...]]]:
    """node → (sales app, rules app, org app, customer app)."""
    await seed_rules(database_url, "hq", Topology.load(topology_file("demo")))
    await _org_trusts_test_tokens(database_url, signing_key)
    out: dict[str, tuple[FastAPI, ...]] = {}
    for n in NODES:
        rules_app = create_rules_app(make_settings(database_url, jwks, n, "rules"))
        org_app = create_org_app(make_settings(database_url, jwks, n, "org"))
        settings = make_settings(database_url, jwks, n, "sales")
        client = RulesClient(f"http://{n}.kam.test", transport=httpx.ASGITransport(app=rules_app))
        customer_app = create_customer_app(make_settings(database_url, jwks, n, "customer"))
        org = OrgClient(f"http://{n}.kam.test", transport=httpx.ASGITransport(app=org_app))
        customers = CustomerDirectory(f"http://{n}.kam.test", transport=httpx.ASGITransport(app=customer_app))
        sales_app = create_app(
            settings,
            rules_client=client,
            org_client=org,
            customer_directory=customers,
            clock=CLOCK,
            reminders_every=None,
        )
        out[n] = (sales_app, rules_app, org_app, customer_app)
    async with contextlib.AsyncExitStack() as stack:
        for pair in out.values():
            for app in pair:
                await stack.enter_async_context(app.router.lifespan_context(app))
        yield out


@pytest.fixture
async def clients(
    apps: dict[str, tuple[FastAPI, ...]], rollback_conn: AsyncConnection
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    out: dict[str, httpx.AsyncClient] = {}
    CLOCK.set(T0)
    for node, (sales_app, rules_app, org_app, customer_app) in apps.items():
        for app in (sales_app, rules_app, org_app, customer_app):
            bind_session(app, rollback_conn)
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


@pytest.fixture
async def org_clients(
    apps: dict[str, tuple[FastAPI, ...]], clients: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """node → a client of that node's org app (in the test's transaction, bound by `clients`)."""
    out = {node: await app_client(apps_[2], f"http://{node}.kam.test") for node, apps_ in apps.items()}
    try:
        yield out
    finally:
        for c in out.values():
            await c.aclose()


@pytest.fixture
async def customer_clients(
    apps: dict[str, tuple[FastAPI, ...]], clients: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """node → a client of that node's customer app (in the test's transaction, bound by `clients`)."""
    out = {node: await app_client(apps_[3], f"http://{node}.kam.test") for node, apps_ in apps.items()}
    try:
        yield out
    finally:
        for c in out.values():
            await c.aclose()
