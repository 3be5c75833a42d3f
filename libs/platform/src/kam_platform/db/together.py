"""New rows of several tables written in one statement (one round trip, no unit of work).

`insert_together(session, org, customer, assignment, audit)` writes new ORM objects, each of a different
table, as one ``INSERT`` whose other inserts are data-modifying CTEs::

    WITH w0 AS (INSERT INTO organization …), w1 AS (INSERT INTO assignment …), …
    INSERT INTO customer …

PostgreSQL runs every CTE's insert whether or not it is referenced, all in the one statement: all rows
or none, and a unique or foreign-key violation raises `IntegrityError` as a flush would. A hot path
(the API create) pays one execution instead of a flush's unit of work and one INSERT per table. The
objects are then attached to the session as persistent rows, as if flushed.

Every value comes from the object: the attributes the caller set, then each column's Python-side
default (set on the object too, so it shows what was stored); a column with neither is left to its
server default. Nothing is read back, so a caller must not need server-generated values.

The outbox rows the transaction has deferred so far (`kam_platform.outbox.add_event(defer=True)`, one
schema's) are written by the same statement, as its main insert, waking the relay as the commit's
write would: a create pays one round trip for its rows and its events, not two.

The statement's text is made once per shape (the tables, in order, the columns each row sets, and the
outbox rows' schema, count and wake-up) and run on the asyncpg connection under the session
(`kam_platform.db.driver`), each value passed through its column type's bind processor (JSON
serialised as SQLAlchemy would): building it as a Core ``insert().values()`` each time cost a bind
parameter, a coercion and a cache key per value, about 40 % of a create's Python time, and
SQLAlchemy's execution steps as much again as asyncpg's own (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import Table, exc, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from kam_platform.db.driver import driver_connection
from kam_platform.outbox import OUTBOX_COLUMNS, channel, outbox_values, take_pending

Shape = tuple[tuple[Table, tuple[str, ...]], ...]
# the deferred outbox rows written too: their schema, how many, and whether the statement wakes the relay
Events = tuple[str, int, bool] | None


def _values(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    for prop in state.mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in state.dict:
            values[column.key] = state.dict[prop.key]
            continue
        default = column.default
        if default is None:
            if column.server_default is None and column.computed is None:
                # NULL, as a flush would write it; set so that reading it does not load it
                setattr(obj, prop.key, None)
                values[column.key] = None
            continue  # else the server's value: expired on the object, as after a flush
        if default.is_callable:
            value = default.arg(None)
        elif default.is_scalar:
            value = default.arg
        else:
            continue  # a SQL expression or a sequence: the statement's own default
        setattr(obj, prop.key, value)
        values[column.key] = value
    return values


@lru_cache(maxsize=256)
def _statement(shape: Shape, events: Events, dialect: Dialect) -> tuple[str, tuple[Callable[[Any], Any] | None, ...]]:
    """The SQL of one shape — ``WITH together_0 AS (INSERT …), … INSERT …``, the last insert (the outbox's,
    when there are events) the main statement, parameters numbered in order — and each parameter's
    bind processor (the outbox's values need none)."""
    quote = dialect.identifier_preparer
    processors: list[Callable[[Any], Any] | None] = []
    inserts = []
    for table, keys in shape:
        columns = [table.c[k] for k in keys]
        params = [f"${len(processors) + i + 1}" for i in range(len(columns))]
        processors += [c.type._cached_bind_processor(dialect) for c in columns]
        names = ", ".join(quote.quote(c.name) for c in columns)
        inserts.append(f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({', '.join(params)})")
    if events is not None:
        schema, count, notify = events
        inserts.append(outbox_values(schema, count, len(processors) + 1, notify=notify))
        processors += [None] * (count * len(OUTBOX_COLUMNS) + notify)
    *first, last = inserts
    ctes = ", ".join(f"together_{i} AS ({sql})" for i, sql in enumerate(first))
    return (f"WITH {ctes} {last}" if ctes else last), tuple(processors)


async def insert_together(session: AsyncSession, *objects: Any) -> None:
    """Write the new `objects` (each of its own table) and the deferred outbox rows in one statement;
    see the module docstring."""
    if not objects:
        return
    rows = [(inspect(obj).mapper.local_table, _values(obj)) for obj in objects]
    conn = await driver_connection(session)
    taken = take_pending(session.info)
    events: Events = None
    values = [v for _, row in rows for v in row.values()]
    if taken is not None:
        schema, outbox_rows, notify = taken
        events = (schema, len(outbox_rows), notify)
        values += [v for row in outbox_rows for v in row] + ([channel(schema)] if notify else [])
    dialect = session.sync_session.get_bind().dialect
    sql, processors = _statement(tuple((table, tuple(row)) for table, row in rows), events, dialect)
    args = tuple(v if f is None else f(v) for f, v in zip(processors, values, strict=True))
    try:
        await conn.execute(sql, *args)
    except asyncpg.IntegrityConstraintViolationError as error:
        # as a flush raises it: callers catch IntegrityError, and str(exc.orig) names the constraint
        raise exc.IntegrityError(sql, args, error) from error
    for obj in objects:
        make_transient_to_detached(obj)
        session.add(obj)


async def flush_new(session: AsyncSession) -> None:
    """`session.flush()` for a session holding only new objects, each of its own table (a create): one
    statement (`insert_together`). Anything else — two rows of one table, a pending change or delete —
    is flushed by the unit of work as usual."""
    new = list(session.new)
    if not new or session.dirty or session.deleted or len({inspect(o).mapper for o in new}) != len(new):
        await session.flush()
        return
    for obj in new:
        session.expunge(obj)
    await insert_together(session, *new)
