"""Downward datasets (DESIGN §2, issue 8 §3): reference data owned by an ancestor — rules, catalogue,
knowledge, notices, campaigns, analysis results — versioned, effective-dated (``validFor``), replicated
to the owner's whole subtree (and up to its ancestors, so they see what their subtree refined), read-only
everywhere but at the owner, resynced by snapshot.

A dataset is a table + an event type + the owner column. A service declares one `Dataset` per table:

    RULE_SETS = Dataset(
        name="rule_set", service="rules", schema="rules", model=RuleSet,
        message=rules_pb2.RuleSetChanged, to_message=rule_set_message, to_row=rule_set_row,
    )

and gets, without writing them again: the outbox rows of a change (`publish`), the integrity claims its
events make (`claims`: the platform `Screen` then accepts an ancestor-owned record only from above, or a
descendant's only from below in its own subtree — a descendant cannot forge an ancestor's record), the
versioned apply (`apply`), the snapshot a late or long-away node asks for (`republish`), the replica's
refusal of writes (`ensure_owner`), and the queries "records in force at node N on date D"
(`in_force_at`). `DatasetApplier` bundles a service's datasets into the replication consumer's callback
(including the sync service's resync requests) and `dataset_consumers` starts them on the node's inbound
streams.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from sqlalchemy import Select, Table, and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.errors import Conflict, NotOwner
from kam_platform.federation import down_scope, inbound_streams
from kam_platform.outbox import add_event, build_event, channel
from kam_platform.replication import (
    RESYNC_REQUESTED,
    Claim,
    Event,
    Refused,
    ReplicationConsumer,
    newest_per_aggregate,
    resync_claims,
    upsert_newest,
)
from kam_platform.settings import Settings
from kam_platform.snapshot import answer_resync
from kam_platform.topology import Topology

R = TypeVar("R")

SNAPSHOT_CHUNK = 2000


def can_publish_down(topology: Topology, code: str) -> bool:
    """A node owns downward reference data when it has a subtree to serve: the root and every node
    with children (a province). A leaf (local network) only reads what its ancestors publish."""
    return topology.node(code).parent is None or bool(topology.children(code))


def authors_above(topology: Topology, code: str) -> list[str]:
    """The nodes whose records are in force at `code`: itself and its ancestors, nearest first."""
    return [code, *topology.ancestors(code)]


def depth(topology: Topology, code: str) -> int:
    return len(topology.ancestors(code))


@dataclass(frozen=True)
class Dataset(Generic[R]):
    """One downward dataset: an ORM table with ``id``, ``owner_node``, ``version``, ``valid_from`` and
    ``valid_to`` (dates; ``valid_to`` exclusive, NULL = open), the message that carries a row's full
    state, and the two conversions.

    - `to_message(row)`: the event message (e.g. ``RuleSetChanged``) of a stored row;
    - `to_row(message)`: the columns to upsert from a received message;
    - `record_of(message)`: ``(id, owner_node, version)`` the message claims (default: the message's
      single sub-message field with ``id``/``owner_node``/``version``);
    - `publishable(row)`: whether a row's state leaves the node (drafts stay home);
    - `upward`: also replicate to the owner's ancestors (they see their subtree's refinements).
    """

    name: str
    service: str
    schema: str
    model: Any
    message: type[Message]
    to_message: Callable[[R], Message]
    to_row: Callable[[Message], dict[str, Any]]
    record_of: Callable[[Message], tuple[str, str, int]] | None = None
    publishable: Callable[[R], bool] = field(default=lambda _row: True)
    upward: bool = True

    @property
    def event_type(self) -> str:
        return self.message.DESCRIPTOR.full_name

    @property
    def table(self) -> Table:
        t: Table = self.model.__table__
        return t

    # --- writing at the owner -------------------------------------------------------------------

    def ensure_owner(self, row: R, settings: Settings) -> None:
        """A replica is read-only: 409 NOT_OWNER naming the node that masters the record."""
        owner = getattr(row, "owner_node")  # noqa: B009 - the protocol every dataset row has
        if owner != settings.node:
            raise NotOwner(self.name, str(getattr(row, "id")), owner)  # noqa: B009

    def ensure_can_author(self, settings: Settings) -> None:
        if not can_publish_down(settings.topology, settings.node):
            raise Conflict(
                f"{self.name} records are authored by a node with a subtree (the group or a province), "
                f"not at {settings.node!r}; they flow down to it"
            )

    def _events(self, settings: Settings, row: R) -> list[str | None]:
        scopes: list[str | None] = [down_scope(settings.topology, settings.node)]
        if self.upward and settings.this_node.parent is not None:
            scopes.append(None)  # up.<node>… as well
        return scopes

    async def publish(self, session: AsyncSession, settings: Settings, row: R, *, actor: str) -> None:
        """The row's current state to the outbox (down to the subtree, and up), in the caller's
        transaction. Call after the row's version was bumped and flushed."""
        if not self.publishable(row):
            return
        for scope in self._events(settings, row):
            await add_event(
                session,
                schema=self.schema,
                node=settings.node,
                service=self.service,
                aggregate_type=self.name,
                aggregate_id=str(getattr(row, "id")),  # noqa: B009
                version=int(getattr(row, "version")),  # noqa: B009
                message=self.to_message(row),
                actor=actor,
                down_scope=scope,
                defer=True,  # with the transaction's other events, in one INSERT at commit
            )

    async def republish(self, session: AsyncSession, settings: Settings, *, down: bool = True) -> int:
        """Snapshot: every publishable record this node owns, as events (``snapshot=true``), down to the
        subtree (or up, for an ancestor's resync). Written to the outbox in bulk, in chunks by id."""
        return await self._snapshot(session, settings, self.model.owner_node == settings.node, down=down)

    async def republish_restore(self, session: AsyncSession, settings: Settings, *, owners: Sequence[str]) -> int:
        """This node's replicas of the records `owners` own (a restored child's subtree), down to the
        child as restore copies (``Envelope.restore``; docs/federation.md)."""
        where = self.model.owner_node.in_(list(owners))
        return await self._snapshot(session, settings, where, down=True, restore=True)

    def restore_claims(self, ev: Event) -> list[Claim]:
        """The claims of a restore copy: the record and the owner it names (`Dataset.claims`; a
        subclass's rules about live routes — "flows up only" — do not apply to it; the `Screen` accepts
        it only from above and only within the receiving node's subtree)."""
        return Dataset.claims(self, ev)

    async def _snapshot(
        self, session: AsyncSession, settings: Settings, owned: Any, *, down: bool, restore: bool = False
    ) -> int:
        cls = self.model
        last: uuid.UUID | None = None
        count = 0
        scope = down_scope(settings.topology, settings.node) if down else None
        while True:
            stmt = select(cls).where(owned).order_by(cls.id).limit(SNAPSHOT_CHUNK)
            if last is not None:
                stmt = stmt.where(cls.id > last)
            rows = (await session.scalars(stmt)).all()
            if not rows:
                break
            last = rows[-1].id
            out = []
            for r in rows:
                if not self.publishable(r):
                    continue
                event_id, subject, etype, payload = build_event(
                    node=settings.node,
                    service=self.service,
                    aggregate_type=self.name,
                    aggregate_id=str(r.id),
                    version=r.version,
                    message=self.to_message(r),
                    actor="system:resync",
                    snapshot=True,
                    down_scope=scope,
                    restore=restore,
                )
                out.append(
                    {"id": event_id, "subject": subject, "etype": etype, "agg": str(r.id), "v": r.version, "p": payload}
                )
            if out:
                await session.execute(
                    text(
                        f'INSERT INTO "{self.schema}".outbox (id, subject, event_type, aggregate_id, version, payload) '
                        "VALUES (:id, :subject, :etype, :agg, :v, :p)"
                    ),
                    out,
                )
                count += len(out)
        if count:
            await session.execute(text("SELECT pg_notify(:ch, '')"), {"ch": channel(self.schema)})
        return count

    # --- receiving ------------------------------------------------------------------------------

    def record(self, msg: Message) -> tuple[str, str, int]:
        """``(id, owner_node, version)`` the message claims."""
        return self._record(msg)

    def _record(self, msg: Message) -> tuple[str, str, int]:
        if self.record_of is not None:
            return self.record_of(msg)
        fields = msg.DESCRIPTOR.fields
        inner: Any = getattr(msg, fields[0].name) if len(fields) == 1 else msg
        return str(inner.id), str(inner.owner_node), int(inner.version)

    def claims(self, ev: Event) -> list[Claim]:
        """What the event writes: one record of this table, owned by the node the payload names. The
        `Screen` checks that owner against the route (from above: an ancestor of this node within the
        origin's subtree; from below: within the origin's subtree)."""
        rid, owner, version = self._record(ev.payload_as(self.message))
        try:
            record_id = uuid.UUID(rid)
        except ValueError:
            raise Refused(f"{self.event_type} carries an invalid id {rid!r}") from None
        if owner != ev.origin and not ev.envelope.restore:
            # a dataset record is published only by its owner; nobody relays another node's record (but
            # an ancestor's restore copy, which the `Screen` accepts only within this node's subtree)
            raise Refused(f"{self.name} {rid} owned by {owner} published by {ev.origin}: only the owner publishes")
        return [Claim(self.table.name, record_id, owner, version)]

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> list[dict[str, Any]]:
        """Upsert the newest version of each record: a live event replaces only an older version, the
        owner's snapshot an older or equal one (`replaces_equal`: a resync repairs an equal-version
        divergence). Returns the newest row of each record received (callers invalidate caches, keep
        history), written or not."""
        items = [(ev, self.to_row(ev.payload_as(self.message))) for ev in newest_per_aggregate(events)]
        await upsert_newest(session, self.model, items)
        return [row for _, row in items]

    # --- reading --------------------------------------------------------------------------------

    def in_force_at(self, topology: Topology, node: str, on: date) -> Select[Any]:
        """Records whose owner is `node` or one of its ancestors and whose ``validFor`` contains `on`."""
        cls = self.model
        return select(cls).where(cls.owner_node.in_(authors_above(topology, node)), valid_on(cls, on))


def valid_on(cls: Any, on: date) -> ColumnElement[bool]:
    """``valid_from <= on < valid_to`` (an open ``valid_to`` never ends)."""
    return and_(cls.valid_from <= on, or_(cls.valid_to.is_(None), cls.valid_to > on))


# --- after-commit hooks (cache invalidation) ------------------------------------------------------

_AFTER_COMMIT = "kam_dataset_after_commit"


def after_commit(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Run `fn` once the session's transaction commits (never on rollback): a cache dropped earlier
    could be refilled with the old state by a reader before the commit."""
    session.info.setdefault(_AFTER_COMMIT, []).append(fn)


def _run_after_commit(session: Session) -> None:
    for fn in session.info.pop(_AFTER_COMMIT, None) or []:
        fn()


def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def _install_hooks() -> None:
    from sqlalchemy import event

    event.listen(Session, "after_commit", _run_after_commit)
    event.listen(Session, "after_rollback", _drop_after_commit)


_install_hooks()


class UpwardRecords(Dataset[R]):
    """Records that travel up only, as customers do — what a node owns because it was created there
    (opportunities, tickets, documents…): the dataset's owner claim (the `Screen` accepts them from
    below, within the origin's subtree), versioned apply and snapshot, plus "never down"."""

    def _events(self, settings: Settings, row: R) -> list[str | None]:
        return [None]

    def claims(self, ev: Event) -> list[Claim]:
        if not ev.subject.startswith("up."):
            raise Refused(f"{self.event_type} on {ev.subject}: {self.name} records flow up the tree only")
        return super().claims(ev)

    async def republish(self, session: AsyncSession, settings: Settings, *, down: bool = True) -> int:
        if down:  # a descendant's resync: nothing of this kind flows down
            return 0
        return await super().republish(session, settings, down=False)


# --- the consumer callback ------------------------------------------------------------------------

OnApplied = Callable[[AsyncSession, str, list[dict[str, Any]], Sequence[Event]], Awaitable[None]]


class DatasetApplier:
    """The replication callback of a service whose replicated state is datasets: routes each event to
    its dataset, answers the sync service's resync requests with snapshots, and calls `on_applied`
    (dataset name, rows written, events) in the same transaction."""

    def __init__(self, settings: Settings, datasets: Sequence[Dataset[Any]], on_applied: OnApplied | None = None):
        self.settings = settings
        self.topology = settings.topology
        self.node = settings.node
        self.datasets = {d.event_type: d for d in datasets}
        self.on_applied = on_applied

    def claims(self, ev: Event) -> list[Claim] | None:
        ds = self.datasets.get(ev.event_type)
        if ds is not None:
            return ds.restore_claims(ev) if ev.envelope.restore else ds.claims(ev)
        if ev.event_type == RESYNC_REQUESTED:
            return resync_claims(ev)
        return None

    async def __call__(self, session: AsyncSession, events: Sequence[Event]) -> None:
        by_ds: dict[str, list[Event]] = {}
        resyncs: list[Event] = []
        for ev in events:
            if ev.event_type in self.datasets:
                by_ds.setdefault(ev.event_type, []).append(ev)
            elif ev.event_type == RESYNC_REQUESTED:
                resyncs.append(ev)
        for etype, evs in by_ds.items():
            ds = self.datasets[etype]
            rows = await ds.apply(session, evs)
            if self.on_applied is not None:
                await self.on_applied(session, ds.name, rows, evs)
        for ev in resyncs:
            # own records go up where the dataset flows up; reference data down from a node with a
            # subtree; a restored child gets this node's replicas of its subtree's records back
            await answer_resync(session, self.settings, ev, own=self._own, reference=self._reference)

    async def _own(self, session: AsyncSession, owners: Sequence[str], restore: bool) -> int:
        count = 0
        for ds in self.datasets.values():
            if not ds.upward:  # nothing of it is held above its owner
                continue
            if restore:
                count += await ds.republish_restore(session, self.settings, owners=owners)
            else:
                count += await ds.republish(session, self.settings, down=False)
        return count

    async def _reference(self, session: AsyncSession) -> int:
        if not can_publish_down(self.topology, self.node):
            return 0
        count = 0
        for ds in self.datasets.values():
            count += await ds.republish(session, self.settings, down=True)
        return count


def dataset_consumers(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    service: str,
    schema: str,
    applier: DatasetApplier,
) -> list[ReplicationConsumer]:
    """One apply consumer per inbound stream, filtered to the service's and the sync service's subjects."""
    out = []
    for stream in inbound_streams(settings.topology, settings.node):
        direction = "down" if stream.startswith("DOWN_") else "up"
        out.append(
            ReplicationConsumer(
                sessionmaker=sessionmaker,
                nats_url=settings.nats_url,
                service=service,
                schema=schema,
                node=settings.node,
                stream=stream,
                filter_subjects=[f"{direction}.*.{service}.>", f"{direction}.*.sync.>"],
                apply=applier,
            )
        )
    return out


async def run_consumers(consumers: Sequence[ReplicationConsumer]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(c.run(), name=f"apply-{c.service}-{c.stream}") for c in consumers]
