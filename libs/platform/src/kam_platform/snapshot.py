"""Snapshots (resync) in the platform: a service republishes the current state of the records in
scope as events, so a replica that was away past the streams' retention, or joined late, equals its
owner (DESIGN §3). The service names what to republish; the chunked, keyset-paged read and the bulk
outbox write are here::

    await republish(session, schema=SCHEMA, service="customer", settings=settings, items=[
        Republish("customer", Customer, (Customer.owner_node == me,), state=customer_changed),
        Republish("staff", Staff, (Staff.owner_node == me,), states=staff_with_roles),  # per chunk
    ])

Own records go up (``up.<node>…``); reference data the node publishes to its subtree goes down
(``down=True``: ``down.<scope>…``). Every event is marked ``snapshot=true`` and written in the caller's
transaction, one INSERT per chunk (`kam_platform.outbox.write_rows`); the relay is woken at commit.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.federation import down_scope
from kam_platform.outbox import build_event, write_rows

CHUNK = 2000
ACTOR = "system:resync"


@dataclass(frozen=True)
class Republish:
    """One kind of record to republish: rows of `model` matching `where`, each as the event `state`
    builds (or, where a chunk needs a look-up first, the events `states` builds for the chunk)."""

    aggregate_type: str
    model: Any
    where: tuple[Any, ...] = ()
    state: Callable[[Any], Message] | None = None
    states: Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Message]]] | None = None


async def chunks(session: AsyncSession, model: Any, where: Sequence[Any], *, size: int = CHUNK) -> AsyncIterator[Any]:
    """The matching rows, keyset-paged by id (constant memory however many there are)."""
    last: uuid.UUID | None = None
    while True:
        stmt = select(model).where(*where).order_by(model.id).limit(size)
        if last is not None:
            stmt = stmt.where(model.id > last)
        rows = (await session.scalars(stmt)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def event_row(
    settings: Any,
    *,
    service: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID | str,
    version: int,
    message: Message,
    down: bool = False,
    actor: str = ACTOR,
    snapshot: bool = True,
) -> tuple[Any, ...]:
    """One outbox row (for `kam_platform.outbox.write_rows`) from this node."""
    event_id, subject, event_type, payload = build_event(
        node=settings.node,
        service=service,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor=actor,
        snapshot=snapshot,
        down_scope=down_scope(settings.topology, settings.node) if down else None,
    )
    return (event_id, subject, event_type, str(aggregate_id), version, payload)


async def republish(
    session: AsyncSession,
    *,
    schema: str,
    service: str,
    settings: Any,
    items: Sequence[Republish],
    down: bool = False,
) -> int:
    """Republish every item's rows; returns how many events were written."""
    count = 0
    for item in items:
        async for rows in chunks(session, item.model, item.where):
            if item.states is not None:
                messages = list(await item.states(session, rows))
            elif item.state is not None:
                messages = [item.state(r) for r in rows]
            else:
                raise ValueError(f"Republish({item.aggregate_type!r}) needs state or states")
            await write_rows(
                session,
                schema=schema,
                rows=[
                    event_row(
                        settings,
                        service=service,
                        aggregate_type=item.aggregate_type,
                        aggregate_id=r.id,
                        version=r.version,
                        message=m,
                        down=down,
                    )
                    for r, m in zip(rows, messages, strict=True)
                ],
            )
            count += len(rows)
    return count
