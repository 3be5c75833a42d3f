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
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached


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


async def insert_together(session: AsyncSession, *objects: Any) -> None:
    """Write the new `objects` (each of its own table) in one statement; see the module docstring."""
    if not objects:
        return
    *first, last = objects
    stmt = insert(inspect(last).mapper.local_table).values(_values(last))
    for i, obj in enumerate(first):
        table = inspect(obj).mapper.local_table
        stmt = stmt.add_cte(insert(table).values(_values(obj)).cte(f"together_{i}"))
    await session.execute(stmt)
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
