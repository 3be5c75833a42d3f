"""Statements a hot path runs on the asyncpg connection under its session, inside the session's transaction.

SQLAlchemy's execution steps around a statement cost about as much CPU as asyncpg's own (measured on
this machine: ``exec_driver_sql`` 124 µs, ``session.execute(text(…))`` 206 µs, asyncpg 62 µs per
``SELECT $1``). A create runs a few statements per request, so the ones built once and kept — the
write of its new rows (`kam_platform.db.together`) and its duplicate count — run on the driver.

`driver_connection` hands out that connection with the session's transaction begun: SQLAlchemy's
asyncpg adapter begins it lazily, at its first statement, so a statement sent on the bare connection
before any other would otherwise run outside the transaction (autocommit) and survive a rollback.

`compile_kept` turns a statement built once and kept (no expanding ``IN`` parameter) into its SQL text,
the names of its parameters in order, each one's bind processor and the values bound in the statement
itself (a scope's nodes), so that running it is one call of asyncpg with values bound by name.

A write on the driver raises asyncpg's errors: a caller that catches SQLAlchemy's `IntegrityError` (as
from a flush) wraps the violation itself, as `kam_platform.db.together.insert_together` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_DRIVER = "kam:driver_connection"


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, inside the session's transaction (begun now if no
    statement has begun it yet); kept on the session until that transaction ends."""
    conn: asyncpg.Connection | None = session.info.get(_DRIVER)
    if conn is not None:
        return conn
    raw = await (await session.connection()).get_raw_connection()
    adapted = raw.dbapi_connection
    # the adapter (sqlalchemy.dialects.postgresql.asyncpg) begins its transaction at the first cursor
    # execute; begin it the same way, so that it also commits or rolls back with the session
    if getattr(adapted, "_transaction", False) is None:
        await adapted._start_transaction()  # type: ignore[union-attr]
    conn = raw.driver_connection
    session.info[_DRIVER] = conn
    return conn


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, _transaction: Any) -> None:
    # the connection goes back to the pool (or a savepoint ended): ask for it again next time
    session.info.pop(_DRIVER, None)


@dataclass(frozen=True)
class Kept:
    """A kept statement compiled for the driver (`compile_kept`)."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    bound: Mapping[str, Any]

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional arguments for `params` by name (the statement's own values where not given)."""
        out = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = params[name] if name in params else self.bound[name]
            out.append(value if process is None or value is None else process(value))
        return tuple(out)


def compile_kept(statement: ClauseElement, dialect: Dialect) -> Kept:
    """`statement` as driver SQL with numbered parameters (see the module docstring). A statement with an
    expanding parameter (rendered per call) cannot be kept this way: ValueError."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    binds = compiled.binds
    if any(binds[name].expanding for name in binds):
        raise ValueError("a statement with an expanding parameter is rendered per call, not kept")
    names = tuple(compiled.positiontup or ())
    processors = tuple(binds[name].type._cached_bind_processor(dialect) for name in names)
    bound = {name: binds[name].effective_value for name in names if not binds[name].required}
    return Kept(compiled.string, names, processors, bound)
