"""Fixtures of the org service tests: real PostgreSQL with the real migrations, the app with its
lifespan, per-test rollback, and helpers to create users and log them in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from kam_org.main import MIGRATIONS, create_app
from kam_org.models import Staff
from kam_org.seed import system_caller
from kam_org.staff import service as staff_service
from kam_org.staff.schemas import StaffCreate
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import app_client, bind_session
from kam_platform.topology import Topology

TOPOLOGY = topology_file("demo")
PASSWORD = "correct-horse-9"
NODE = "gd-gz"
TOPO = Topology.load(TOPOLOGY)


def settings_for(node: str, database_url: str, nats_url: str) -> Settings:
    return Settings(
        node=node,
        topology_file=TOPOLOGY,
        database_url=database_url,
        nats_url=nats_url,
        relay_enabled=False,
        service="org",
    )


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_org", [MIGRATIONS])


@pytest.fixture(scope="session")
async def app(database_url: str, nats_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(settings_for(NODE, database_url, nats_url))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI, rollback_conn: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    bind_session(app, rollback_conn)
    async with await app_client(app) as c:
        yield c
    app.dependency_overrides.clear()


@pytest.fixture
async def session(rollback_conn: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session inside the test's transaction, for arranging data and checking rows."""
    async with AsyncSession(
        bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    ) as s:
        yield s


MakeUser = Callable[..., Coroutine[Any, Any, Staff]]


async def make_staff(
    session: AsyncSession,
    node: str,
    username: str,
    roles: list[str],
    *,
    password: str = PASSWORD,
    display_name: str | None = None,
    is_active: bool = True,
) -> Staff:
    data = StaffCreate(
        username=username, display_name=display_name or username, password=password, roles=roles, is_active=is_active
    )
    staff, _ = await staff_service.create_staff(session, caller=system_caller(node, TOPO), data=data)
    await session.flush()
    return staff


@pytest.fixture
def make_user(session: AsyncSession) -> MakeUser:
    """Create a staff member of this node (through the service) inside the test's transaction."""

    async def make(username: str, roles: list[str], **kw: Any) -> Staff:
        return await make_staff(session, NODE, username, roles, **kw)

    return make


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, scope_node: str | None = None
) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    if scope_node:
        form["scope_node"] = scope_node
    return await client.post("/api/v1/auth/token", data=form)


async def token_for(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    resp = await login(client, username, password)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
async def admin(make_user: MakeUser, client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization header of a sys_admin of this node."""
    await make_user("root", ["sys_admin"])
    return await token_for(client, "root")


# --- a province node (gd) with its own database, for scope narrowing and ownership ------------


@pytest.fixture(scope="session")
def province_database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_org_gd", [MIGRATIONS])


@pytest.fixture(scope="session")
async def province_app(province_database_url: str, nats_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(settings_for("gd", province_database_url, nats_url))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def province(
    province_app: FastAPI, province_database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncSession]]:
    """A client of the gd node and a session in the same rolled-back transaction."""
    engine = create_async_engine(province_database_url, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        trans = await conn.begin()
        bind_session(province_app, conn)
        try:
            async with (
                await app_client(province_app) as c,
                AsyncSession(
                    bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
                ) as s,
            ):
                yield c, s
        finally:
            province_app.dependency_overrides.clear()
            await trans.rollback()
    await engine.dispose()
