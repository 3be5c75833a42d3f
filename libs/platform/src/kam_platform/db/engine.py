"""The async engine and sessionmaker of one service, made in the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(url: str, *, pool_size: int = 10, application_name: str = "kam") -> Database:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    event.listen(engine.sync_engine.pool, "checkout", _drop_closed)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False))


def _drop_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Replace a pooled connection the server has closed (restart, idle timeout) before it is used.

    Instead of ``pool_pre_ping``, which costs three round trips per checkout with asyncpg (BEGIN, ping,
    ROLLBACK): asyncpg sees the server's close on the idle socket, so asking costs nothing. A connection
    that dies silently (no FIN) fails its first statement and SQLAlchemy then recycles the whole pool.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("connection closed by the server")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back on any error.

    Declared with ``scope="function"`` so the commit happens before the response is sent.
    """
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session that lives until the response is fully sent (streamed exports); never commits."""
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        try:
            yield session
        finally:
            await session.rollback()


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(get_read_session)]
