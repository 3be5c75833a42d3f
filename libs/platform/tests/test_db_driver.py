"""Statements on the asyncpg connection under a session (kam_platform.db.driver) are part of the
session's transaction, even as its first statement, and a kept statement compiled for the driver binds
the values a caller gives by name and its own values where the caller gives none."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Integer, String, bindparam, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from kam_platform.db.driver import compile_kept, driver_connection


@pytest.fixture
async def scratch(pg_dsn: str) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine and a table of its own (x int, label text), dropped after the test."""
    engine = create_async_engine(pg_dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    name = f"driver_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {name} (x int, label text)"))
    try:
        yield engine, name
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE {name}"))
        await engine.dispose()


async def _count(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one())


async def test_a_first_statement_on_the_driver_is_rolled_back_with_the_session(
    scratch: tuple[AsyncEngine, str],
) -> None:
    engine, name = scratch
    async with AsyncSession(engine) as session:
        conn = await driver_connection(session)
        await conn.execute(f"INSERT INTO {name} VALUES (1, 'driver')")
        # and later statements, of SQLAlchemy or the driver, share that transaction
        await session.execute(text(f"INSERT INTO {name} VALUES (2, 'orm')"))
        assert await (await driver_connection(session)).fetchval(f"SELECT count(*) FROM {name}") == 2
        assert await _count(engine, name) == 0  # nothing is visible outside before the commit
        await session.rollback()
        assert await _count(engine, name) == 0
        # the session's next transaction: the driver's statement is in it too, not in the last one's place
        await (await driver_connection(session)).execute(f"INSERT INTO {name} VALUES (3, 'driver')")
        await session.rollback()
    assert await _count(engine, name) == 0


async def test_a_first_statement_on_the_driver_is_committed_with_the_session(scratch: tuple[AsyncEngine, str]) -> None:
    engine, name = scratch
    async with AsyncSession(engine) as session:
        await (await driver_connection(session)).execute(f"INSERT INTO {name} VALUES (1, 'driver')")
        await session.commit()
    assert await _count(engine, name) == 1


async def test_a_kept_statement_binds_by_name_and_keeps_its_own_values(scratch: tuple[AsyncEngine, str]) -> None:
    engine, name = scratch
    t = table(name, column("x", Integer), column("label", String))
    stmt = select(t.c.label).where(t.c.x >= bindparam("least", type_=Integer), t.c.label != "hidden")
    async with AsyncSession(engine) as session:
        await session.execute(text(f"INSERT INTO {name} VALUES (1, 'a'), (2, 'b'), (3, 'hidden')"))
        kept = compile_kept(stmt, engine.dialect)
        conn = await driver_connection(session)
        assert [r[0] for r in await conn.fetch(kept.sql, *kept.args({"least": 2}))] == ["b"]
        assert sorted(r[0] for r in await conn.fetch(kept.sql, *kept.args({"least": 0}))) == ["a", "b"]
        await session.rollback()


def test_a_statement_rendered_per_call_is_not_kept(scratch: tuple[AsyncEngine, str]) -> None:
    engine, _ = scratch
    t = table("anything", column("x", Integer))
    with pytest.raises(ValueError, match="expanding"):
        compile_kept(select(t.c.x).where(t.c.x.in_(bindparam("xs", expanding=True))), engine.dialect)
