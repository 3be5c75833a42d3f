"""Service service fixtures: the real migrations of the service, customer and rules services on one real
PostgreSQL; apps in-process for nodes of the demo topology, each test in a transaction rolled back at the
end. The service app asks the real customer and rules apps of its node (over ASGI, with the caller's
token), as it asks them over the node's gateway in production."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from kam_customer.main import MIGRATIONS as CUSTOMER_MIGRATIONS
from kam_customer.main import create_app as create_customer_app
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import app_client, bearer, bind_session
from kam_rules.main import MIGRATIONS as RULES_MIGRATIONS
from kam_rules.main import create_app as create_rules_app
from kam_service.lookups import Lookups
from kam_service.main import MIGRATIONS, create_app

NODES = ("hq", "gd", "gd-gz")
# Monday 2026-03-02 09:00 Asia/Shanghai
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

PERMS = [
    "service.ticket:read",
    "service.ticket:write",
    "service.calendar:write",
    "customer:read",
    "rules:read",
    "rules:write",
    "rules:approve",
]


class MovableClock:
    """The injectable clock: tests set and move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_service", [MIGRATIONS, CUSTOMER_MIGRATIONS, RULES_MIGRATIONS])


def settings_for(database_url: str, jwks: dict[str, Any], node: str, service: str) -> Settings:
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


def dispatcher(customer: FastAPI, rules: FastAPI) -> Any:
    """One ASGI app routing by path, standing in for the node's gateway."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        target = rules if scope.get("path", "").startswith("/api/v1/rules") else customer
        await target(scope, receive, send)

    return app


@pytest.fixture(scope="session")
def clock() -> MovableClock:
    return MovableClock(T0)


@pytest.fixture(scope="session")
async def apps(
    database_url: str, jwks: dict[str, Any], clock: MovableClock
) -> AsyncIterator[dict[str, dict[str, FastAPI]]]:
    out: dict[str, dict[str, FastAPI]] = {"service": {}, "customer": {}, "rules": {}}
    for node in NODES:
        out["customer"][node] = create_customer_app(settings_for(database_url, jwks, node, "customer"))
        out["rules"][node] = create_rules_app(settings_for(database_url, jwks, node, "rules"))
        gateway = dispatcher(out["customer"][node], out["rules"][node])

        def client(gateway: Any = gateway, node: str = node) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url=f"http://{node}.kam.test")

        out["service"][node] = create_app(
            settings_for(database_url, jwks, node, "service"), lookups=Lookups(client), clock=clock, evaluate_every=None
        )
    async with contextlib.AsyncExitStack() as stack:
        for by_node in out.values():
            for app in by_node.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
        yield out


@pytest.fixture
async def clients(
    apps: dict[str, dict[str, FastAPI]], rollback_conn: AsyncConnection, clock: MovableClock
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clock.now = T0
    for by_node in apps.values():
        for app in by_node.values():
            bind_session(app, rollback_conn)
    for app in apps["rules"].values():
        app.state.rules_cache.clear()
    out = {node: await app_client(apps["service"][node], f"http://{node}.kam.test") for node in NODES}
    rules = {f"rules:{node}": await app_client(apps["rules"][node], f"http://{node}.kam.test") for node in NODES}
    out.update(rules)
    try:
        yield out
    finally:
        for c in out.values():
            await c.aclose()
        for by_node in apps.values():
            for app in by_node.values():
                app.dependency_overrides.clear()


@pytest.fixture
def sessions(rollback_conn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions joining the test's transaction (what an evaluator of a restarted node would open)."""
    return async_sessionmaker(bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def make(
        node: str, *, user: str = "agent", perms: list[str] | None = None, scope: str | None = None
    ) -> dict[str, str]:
        return bearer(
            make_token(user, node, perms=PERMS if perms is None else perms, scope=scope, roles=["service_agent"])
        )

    return make


@pytest.fixture
def insert_customer(rollback_conn: AsyncConnection) -> Callable[..., Any]:
    """A customer row owned by `owner_node` (what the customer service holds there)."""

    async def insert(owner_node: str, name: str = "中国工商银行广州分行", **over: Any) -> str:
        cid = uuid.uuid4()
        row = {
            "id": cid,
            "owner_node": owner_node,
            "version": 1,
            "customer_code": f"KAT{cid.hex[-12:].upper()}",
            "name": name,
            "customer_type": "SINGLE",
            "mgmt_level": "LOCAL",
            "industry": "FINANCE",
            "grade": "A",
            "life_status": "ACTIVE",
            "recog_status": "CONFIRMED",
            "account_manager": "am-li",
        }
        row.update(over)
        cols = ", ".join(row)
        vals = ", ".join(f":{k}" for k in row)
        await rollback_conn.execute(text(f"INSERT INTO customer.customer ({cols}) VALUES ({vals})"), row)
        return str(cid)

    return insert


def sla_parameters(calendar: str = "business") -> dict[str, Any]:
    timers = {
        g: {
            t: {"responseMinutes": m, "resolveMinutes": m * 8, "calendar": calendar}
            for t in ("COMPLAINT", "FAULT", "REQUEST")
        }
        for g, m in {"A": 30, "B": 60, "C": 120}.items()
    }
    return {
        "timers": timers,
        "escalation": [
            {"afterMinutes": 20, "to": "handler"},
            {"afterMinutes": 240, "to": "team_leader"},
            {"afterMinutes": 480, "to": "department"},
        ],
    }


@pytest.fixture
def publish_sla(clients: dict[str, httpx.AsyncClient], auth: Callable[..., dict[str, str]]) -> Callable[..., Any]:
    """Publish a national SLA rule at hq (author, another approver, publish)."""

    async def publish(calendar: str = "business") -> dict[str, Any]:
        c = clients["rules:hq"]
        body = {
            "kind": "sla",
            "name": "服务时限",
            "validFor": {"startDate": "2026-01-01"},
            "parameters": sla_parameters(calendar),
            "bounds": [{"path": "timers.*.*.responseMinutes", "allow": "decrease", "min": 5}],
        }
        r = await c.post("/api/v1/rules/ruleSet", json=body, headers=auth("hq", user="author"))
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        r = await c.post(f"/api/v1/rules/ruleSet/{rid}/approve", headers=auth("hq", user="approver"))
        assert r.status_code == 200, r.text
        r = await c.post(f"/api/v1/rules/ruleSet/{rid}/publish", headers=auth("hq", user="author"))
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    return publish
