"""A request whose database connection is refused or lost answers 503 with Retry-After in the error
envelope — the database restarting is a retryable outage, not an internal error (500)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_platform.embedded.ports import free_port
from kam_platform.errors import install_error_handlers


def _app(url: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/query")
    async def query() -> dict[str, int]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return {"one": int((await conn.execute(text("SELECT 1"))).scalar_one())}
        finally:
            await engine.dispose()

    @app.get("/lost")
    async def lost() -> dict[str, int]:
        # the server ends this backend mid-session, as a crash or restart of PostgreSQL does
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
                return {"one": int((await conn.execute(text("SELECT 1"))).scalar_one())}
        finally:
            await engine.dispose()

    @app.get("/bug")
    async def bug() -> dict[str, int]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table"))
                return {"one": 1}
        finally:
            await engine.dispose()

    return app


@pytest.fixture
async def client(pg_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    url = pg_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    transport = httpx.ASGITransport(app=_app(url), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    body = r.json()
    assert body["@type"] == "Error" and body["status"] == "503" and body["code"] == "SERVICE_UNAVAILABLE"


async def test_refused_database_connection_answers_503_with_retry_after(pg_dsn: str) -> None:
    down = f"postgresql+asyncpg://kam:kam@127.0.0.1:{free_port()}/kam"
    transport = httpx.ASGITransport(app=_app(down), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        _assert_unavailable(await c.get("/query"))


async def test_connection_lost_mid_request_answers_503_with_retry_after(client: httpx.AsyncClient) -> None:
    assert (await client.get("/query")).json() == {"one": 1}
    _assert_unavailable(await client.get("/lost"))


async def test_a_failing_query_is_still_a_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/bug")
    assert r.status_code == 500 and "Retry-After" not in r.headers
