"""pytest plugin (loaded with ``-p kam_platform.testing.plugin``): real PostgreSQL and real
nats-server started on free ports in temp dirs, token minting, per-test rollback sessions.

`DATABASE_URL` / `NATS_URL`, when set, point the fixtures at external servers instead.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from kam_platform.auth import generate_signing_key, public_jwk, sign_token
from kam_platform.db.engine import get_session
from kam_platform.db.migrate import upgrade
from kam_platform.embedded.nats import nats_server_binary
from kam_platform.embedded.ports import free_port, port_is_open
from kam_platform.embedded.postgres import EmbeddedPostgres, asyncpg_url, ensure_database, plain_dsn, with_database
from kam_platform.testing import shared
from kam_platform.testing.helpers import wait_for as wait_for  # tests import it from here too

TOKEN_KID = "test-key"


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Server DSN (``postgresql://…/postgres``) of a real PostgreSQL for this test session."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield plain_dsn(external)
        return
    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", fast=True)
    pg.start()
    try:
        yield pg.dsn()
    finally:
        pg.stop()


def nats_server_bin() -> str:
    """The nats-server binary (kam_platform.embedded.nats finds it, for the runtime and tests alike)."""
    return str(nats_server_binary())


def _start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [nats_server_bin(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store), "--server_name", "test"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not port_is_open(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("nats-server did not start")
        time.sleep(0.05)
    return proc, f"nats://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real nats-server with JetStream for this test session."""
    external = os.environ.get("NATS_URL")
    if external:
        yield external
        return
    proc, url = _start_nats(tmp_path_factory.mktemp("nats"))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def private_nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A nats-server of the test module's own, for tests whose streams, consumers or stream settings must
    not meet those other tests left on the session's server (e.g. a node stream read from its start)."""
    proc, url = _start_nats(tmp_path_factory.mktemp("nats-private"))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def make_database(pg_dsn: str) -> Callable[[str, list[str]], str]:
    """Create (once per session) a database with the given migrations applied; returns its URL."""
    made: dict[str, str] = {}

    def make(name: str, migrations: list[str]) -> str:
        if name not in made:
            ensure_database(pg_dsn, name)
            url = asyncpg_url(with_database(pg_dsn, name))
            for loc in migrations:
                upgrade(url, loc)
            made[name] = url
        return made[name]

    return make


# --- tokens -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def signing_key() -> Any:
    return generate_signing_key()


@pytest.fixture(scope="session")
def jwks(signing_key: Any) -> dict[str, Any]:
    return {"keys": [public_jwk(signing_key, TOKEN_KID)]}


TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def make_token(signing_key: Any) -> TokenFactory:
    def make(
        user: str = "tester",
        node: str = "hq",
        *,
        roles: list[str] | None = None,
        perms: list[str] | None = None,
        scope: str | None = None,
        expires_in: int = 3600,
        key: Any = None,
        kid: str = TOKEN_KID,
        audience: str = "kam",
    ) -> str:
        now = int(time.time())
        claims = {
            "sub": user,
            "node": node,
            "scope_node": scope or node,
            "roles": roles or [],
            "perms": perms if perms is not None else ["*"],
            "name": user,
            "iat": now,
            "exp": now + expires_in,
            "aud": audience,
            "iss": f"kam:{node}",
            "jti": f"{user}-{now}",
        }
        return sign_token(key or signing_key, kid, claims)

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- per-test transaction and app client ------------------------------------------------------


@pytest.fixture
async def rollback_conn(request: pytest.FixtureRequest) -> AsyncIterator[AsyncConnection]:
    """A connection in an open transaction, rolled back after the test.

    Requires a fixture named ``database_url`` in the using conftest.
    """
    url: str = request.getfixturevalue("database_url")
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            yield conn
        finally:
            await trans.rollback()
    await engine.dispose()


def bind_session(app: FastAPI, conn: AsyncConnection) -> None:
    """Make the app's per-request session join the test's outer transaction (savepoints)."""

    async def override() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        ) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()

    app.dependency_overrides[get_session] = override


async def app_client(app: FastAPI, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


# --- shared fixtures (kam_platform.testing.shared): modules using one run in a row, it stops after the last


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    shared.group_by_shared_fixture(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    shared.count_users(session.items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        module = shared.module_id(item)
        if nextitem is None or shared.module_id(nextitem) != module:
            shared.REGISTRY.module_done(module)


def pytest_sessionfinish(session: pytest.Session) -> None:
    shared.REGISTRY.stop_all()
