"""Snapshots (resync) in the platform: a service republishes the current state of the records in
scope as events, so a replica that was away past the streams' retention, or joined late, equals its
owner (DESIGN §3). The service names what to republish; the chunked, keyset-paged read and the bulk
outbox write are here::

    await republish(session, schema=SCHEMA, service="customer", settings=settings, items=[
        Republish("customer", Customer, (Customer.owner_node == me,), state=customer_changed),
        Republish("staff", Staff, (Staff.owner_node == me,), states=staff_with_roles),  # per chunk
    ])

Own records go up (``up.<node>…``); reference data the node publishes to its subtree goes down
(``down=True``: ``down.<scope>…``); an ancestor's copies of a restored node's records go down to it
(``restore=True``). Every event is marked ``snapshot=true`` and written in the caller's transaction,
one INSERT per chunk (`kam_platform.outbox.write_rows`); the relay is woken at commit.

`answer_resync` is the one answer of every service to a ``ResyncRequested`` (docs/federation.md):
who republishes what, given where the request came from.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.federation import down_scope
from kam_platform.outbox import build_event, write_rows
from kam_platform.replication import Event

log = logging.getLogger("kam.snapshot")

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
    restore: bool = False,
) -> tuple[Any, ...]:
    """One outbox row (for `kam_platform.outbox.write_rows`) from this node (``restore``: a restore copy,
    always downward)."""
    event_id, subject, event_type, payload = build_event(
        node=settings.node,
        service=service,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor=actor,
        snapshot=snapshot,
        down_scope=down_scope(settings.topology, settings.node) if down or restore else None,
        restore=restore,
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
    restore: bool = False,
) -> int:
    """Republish every item's rows; returns how many events were written. ``restore``: the rows are this
    node's replicas of a restored descendant's records, sent down to it as restore copies."""
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
                        restore=restore,
                    )
                    for r, m in zip(rows, messages, strict=True)
                ],
            )
            count += len(rows)
    return count


# --- answering a resync request -------------------------------------------------------------------

Came = Literal["self", "below", "above"]


@dataclass(frozen=True)
class ResyncAsk:
    """A ``ResyncRequested`` as one node sees it: who asks, whether it was restored from a backup, and
    where the request came from (``self``: this node's own request; ``below``: a descendant's, over an
    upward stream; ``above``: an ancestor's, over a downward stream)."""

    requester: str
    restore: bool
    came: Came

    @classmethod
    def of(cls, ev: Event, node: str) -> ResyncAsk:
        q = ev.payload_as(envelope_pb2.ResyncRequested)
        came: Came = "self" if ev.origin == node else "below" if ev.subject.startswith("up.") else "above"
        return cls(requester=q.node, restore=q.restore, came=came)


# (session, owners, restore) → events written: republish the records owned by `owners`, up (restore
# False: this node's own records) or down as restore copies (restore True: a restored child's subtree)
OwnRecords = Callable[[AsyncSession, Sequence[str], bool], Awaitable[int]]
# (session) → events written: republish the reference data this node publishes down
Reference = Callable[[AsyncSession], Awaitable[int]]


async def answer_resync(
    session: AsyncSession,
    settings: Any,
    ev: Event,
    *,
    own: OwnRecords | None = None,
    reference: Reference | None = None,
) -> int:
    """What a service republishes for a resync request (docs/federation.md, "Catch-up and resync"):

    - its own request (``self``): its own records up (where it has a parent) and its reference data
      down — the replicas of what it owns equal it again everywhere;
    - from above: its own records up (an ancestor re-reads its subtree);
    - from below: its reference data down (a descendant re-reads what its ancestors publish) and, for a
      ``restore`` request of a child, its replicas of every record owned in the child's subtree, down
      as restore copies (applied at the child only where newer than what it holds).
    """
    ask = ResyncAsk.of(ev, settings.node)
    topology, me = settings.topology, settings.node
    has_parent = topology.node(me).parent is not None
    count = 0
    if ask.came in ("self", "above") and own is not None and has_parent:
        count += await own(session, [me], False)
    if ask.came in ("self", "below") and reference is not None:
        count += await reference(session)
    if ask.came == "below" and ask.restore and own is not None and topology.node(ask.requester).parent == me:
        count += await own(session, topology.subtree(ask.requester), True)
    log.info("resync of %s (%s%s): %d events republished", ask.requester, ask.came, ", restore" * ask.restore, count)
    return count
