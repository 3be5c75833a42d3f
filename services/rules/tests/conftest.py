"""Rules service fixtures: the real migrations on a real PostgreSQL, apps in-process for several nodes
of the demo topology over one database (rows another node owns stand in for its replicas), each test in
a transaction rolled back at the end."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_platform.settings import Settings
from kam_platform.testing.plugin import app_client, bearer, bind_session
from kam_rules.main import MIGRATIONS, create_app

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "deploy" / "topologies" / "demo.yaml"
NODES = ("hq", "gd", "gd-gz", "js")


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_rules", [MIGRATIONS])


def make_settings(database_url: str, jwks: dict[str, Any], node: str) -> Settings:
    return Settings(
        node=node,
        service="rules",
        topology_file=DEMO,
        database_url=database_url,
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        nats_url="nats://127.0.0.1:1",
        jwks_json=json.dumps(jwks),
    )


@pytest.fixture(scope="session")
async def rules_apps(database_url: str, jwks: dict[str, Any]) -> AsyncIterator[dict[str, FastAPI]]:
    apps = {n: create_app(make_settings(database_url, jwks, n)) for n in NODES}
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield apps


@pytest.fixture
async def clients(
    rules_apps: dict[str, FastAPI], rollback_conn: AsyncConnection
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    out: dict[str, httpx.AsyncClient] = {}
    for node, app in rules_apps.items():
        bind_session(app, rollback_conn)
        app.state.rules_cache.clear()
        out[node] = await app_client(app, f"http://{node}.kam.test")
    try:
        yield out
    finally:
        for node, c in out.items():
            await c.aclose()
            rules_apps[node].dependency_overrides.clear()


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """auth("hq", user="author") — rules:read/write/approve unless `perms` says otherwise."""

    def make(
        node: str, *, user: str = "author", perms: list[str] | None = None, scope: str | None = None
    ) -> dict[str, str]:
        return bearer(
            make_token(
                user,
                node,
                perms=["rules:read", "rules:write", "rules:approve"] if perms is None else perms,
                scope=scope,
                roles=["ka_dept_manager"],
            )
        )

    return make


def sla_params(response_a: int = 30) -> dict[str, Any]:
    timers = {
        g: {t: {"responseMinutes": m, "resolveMinutes": m * 8} for t in ("COMPLAINT", "FAULT", "REQUEST")}
        for g, m in {"A": 30, "B": 60, "C": 120}.items()
    }
    timers["A"]["COMPLAINT"]["responseMinutes"] = response_a
    return {"timers": timers, "escalation": [{"afterMinutes": 60, "to": "ka_dept_manager"}]}


SLA_BOUNDS = [{"path": "timers.*.*.responseMinutes", "allow": "decrease", "min": 5}]
