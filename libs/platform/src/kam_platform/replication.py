"""Applying replicated events (DESIGN §3): a durable pull consumer per inbound stream, batch by batch
in one transaction — inbox dedupe by event id, newest version per aggregate, upsert only where the
stored version is older — ack after commit; bounded redelivery with back-off, then a dead letter.

A service gives the consumer an `apply(session, events)` callback, a `claims(event)` callback that says
which records an event writes and whom it says owns them, and the mixins below for its inbox and
dead-letter tables; everything else is here — including the one integrity check of every replicated
event (`Screen`): nothing in a payload is trusted beyond what the subject's origin may write.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar, cast

import nats
from google.protobuf.message import Message
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client import Counter, Gauge
from sqlalchemy import DateTime, Integer, LargeBinary, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from kam_contracts import envelope_pb2
from kam_platform.embedded.nats import nats_servers
from kam_platform.federation import inbound_streams
from kam_platform.topology import Topology

log = logging.getLogger("kam.replication")

M = TypeVar("M", bound=Message)

APPLIED = Counter("kam_replication_applied_total", "Replicated events applied", ["service", "stream"])
DUPLICATES = Counter("kam_replication_duplicates_total", "Replicated events already applied", ["service", "stream"])
DEAD = Counter("kam_replication_dead_letters_total", "Events moved to the dead-letter table", ["service", "stream"])
REFUSED = Counter(
    "kam_replication_refused_total",
    "Events refused by the integrity check (forged or impossible)",
    ["service", "stream"],
)
LAG = Gauge("kam_replication_pending", "Messages pending for the apply consumer", ["service", "stream"])

MAX_DELIVER = 6
# Inbox ids older than the streams' retention can never be redelivered; keep a margin beyond it.
INBOX_KEEP_DAYS = 35
PRUNE_EVERY_SECONDS = 3600.0
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
# How long the server waits for a delivered event's ack before delivering it again. While a fetch is
# being applied, its unsettled events are reported in progress every third of it (`_keep_in_progress`),
# so a long batch is not redelivered under its applier; an applier that dies leaves them to be
# redelivered this soon after (60 s before: the first minute of a restarted node went without them).
ACK_WAIT_SECONDS = 15.0
# Reconnect back-off of a consumer whose connection or loop failed; reset by every healthy batch.
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 10.0
# A replica that grows fast (a new node catching up, a resync, a large import upstream) outruns
# autovacuum's statistics: it analyzes a table at most once a minute, and until then the planner takes the
# table for its old size and may answer the screen's reads (`Screen._holders`) with a scan of all live
# rows. The consumer analyzes the tables it wrote once its events have created as many records as the
# tables held at its last analyze (at least this many): O(log n) analyzes while a table grows, none in
# the steady state and none for a backlog of updates to records already held.
ANALYZE_AFTER_MIN = 1000
# How long a stopping consumer waits for a statistics refresh running beside its apply (seconds)
ANALYZE_STOP_WAIT = 10.0
# What one apply transaction holds at most, in event payload bytes (a larger event alone). Batch events
# (an import's CustomersImported carries 5,000 customers) made a fetch of 500 events one transaction of
# up to 2,500,000 rows: 2.3 GB of a group's node process during a 1,000,000-row import below it.
BATCH_BYTES = 4 << 20
# A JetStream consumer with several filter subjects is served by the server's multi-filter path, which on
# a stream of many subjects (one per aggregate) costs it a full core for ~1,000 messages/s, where a
# consumer with one filter subject is served at over 20,000/s (nats-server 2.15; docs/federation.md,
# "One filter subject per consumer"). So an apply consumer runs one durable per filter subject.


class InboxMixin:
    """Event ids already applied (idempotency across redeliveries and snapshot replays)."""

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadLetterMixin:
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64))
    stream_seq: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(128))
    origin_node: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text)
    deliveries: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@dataclass(frozen=True)
class Event:
    """A decoded envelope with where it came from."""

    envelope: envelope_pb2.Envelope
    subject: str
    stream: str
    # payloads decoded so far: the integrity check and the apply read the same message once
    _decoded: dict[type[Any], Any] = field(default_factory=dict, compare=False, repr=False)

    def payload_as(self, cls: type[M]) -> M:
        """The payload decoded as `cls` (decoded once per event)."""
        found = self._decoded.get(cls)
        if found is None:
            found = self._decoded[cls] = cls.FromString(self.envelope.payload)
        return cast(M, found)

    @functools.cached_property
    def event_id(self) -> uuid.UUID:
        return uuid.UUID(self.envelope.event_id)

    @property
    def event_type(self) -> str:
        return self.envelope.event_type

    @property
    def origin(self) -> str:
        return self.envelope.origin_node


Apply = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]


def newest_per_aggregate(events: Sequence[Event]) -> list[Event]:
    """Of several events for one aggregate in a batch, only the highest version matters (state transfer)."""
    best: dict[tuple[str, str], Event] = {}
    order: list[tuple[str, str]] = []
    for ev in events:
        key = (ev.envelope.aggregate_type, ev.envelope.aggregate_id)
        if key not in best:
            order.append(key)
            best[key] = ev
        elif ev.envelope.version >= best[key].envelope.version:
            best[key] = ev
    return [best[k] for k in order]


RESYNC_REQUESTED = "kam.v1.ResyncRequested"


def replaces_equal(ev: Event) -> bool:
    """Whether `ev` replaces a replica's row of the same version, not only an older one.

    A snapshot from the record's owner (a resync) is authoritative: an equal version with other content
    is a divergence (a replica written by hand, a bug, a restore) and the owner's state wins. A live
    event, and an ancestor's restore copy (`Envelope.restore`), replace only older versions: newest
    version wins.
    """
    return bool(ev.envelope.snapshot and not ev.envelope.restore)


async def upsert_versioned(
    session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], *, replace_equal: bool = False
) -> set[uuid.UUID]:
    """Insert, or replace where the stored version is older (or, with `replace_equal`, older or equal);
    returns the ids written."""
    if not rows:
        return set()
    table: Table = model.__table__
    stmt = insert(table)
    stored, received = table.c.version, stmt.excluded.version
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={k: stmt.excluded[k] for k in rows[0] if k != "id"},
        where=(stored <= received) if replace_equal else (stored < received),
    ).returning(table.c.id)
    result = await session.execute(upsert, list(rows))
    return {r[0] for r in result}


async def upsert_newest(
    session: AsyncSession, model: Any, items: Sequence[tuple[Event, dict[str, Any]]]
) -> set[uuid.UUID]:
    """`upsert_versioned` of rows built from events: an owner's snapshot replaces an equal version too
    (`replaces_equal`), every other event only an older one. Returns the ids written."""
    written: set[uuid.UUID] = set()
    for authoritative in (False, True):
        rows = [row for ev, row in items if replaces_equal(ev) is authoritative]
        written |= await upsert_versioned(session, model, rows, replace_equal=authoritative)
    return written


def resync_claims(ev: Event) -> list[Claim]:
    """A resync request writes nothing; a node asks only for itself."""
    q = ev.payload_as(envelope_pb2.ResyncRequested)
    if q.node != ev.origin:
        raise Refused(f"resync requested for {q.node} by {ev.origin}: a node asks only for itself")
    return []


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class StreamNotDeclared(Exception):
    """The inbound stream does not exist yet (start-up order: the sync service declares it)."""


class Refused(Exception):
    """A permanent refusal of one event (forged, or impossible here): dead-lettered at once with this
    reason, never retried — a redelivery could not make it acceptable."""


class _NotForHere(Exception):
    """A restore copy of a record owned outside this node's subtree (it was sent to a sibling): neither
    applied nor refused."""


class Unique(NamedTuple):
    """A natural key the record must hold alone at every node (e.g. a customer code). `where` is the
    service's own predicate for the rows the key is unique among (the partial index), never payload text.
    A named tuple, as `Claim`."""

    column: str
    value: str
    where: str | None = None


class Claim(NamedTuple):
    """One record an event writes, as the event's payload describes it.

    `owner` is the owner the payload claims for the record (for a transfer: the new owner, and
    `from_node` the owner handing it over). `attached_to` names records this one hangs off (a
    contact's customer): where this node holds them, their owner must lie in the origin's subtree too.
    A named tuple, not a frozen dataclass: a replica of a bulk import makes three per customer, and a
    frozen dataclass's constructor costs three times as much.
    """

    table: str
    record_id: uuid.UUID
    owner: str
    version: int | None = None
    is_transfer: bool = False
    from_node: str | None = None
    attached_to: tuple[tuple[str, uuid.UUID], ...] = ()
    unique: tuple[Unique, ...] = ()

    @property
    def what(self) -> str:
        """The record as a refusal names it (formatted only for a refusal: a batch checks many claims)."""
        return f"{self.table} {self.record_id}"


# The records an event writes; None when the service does not know the event type (it is refused:
# fail closed), an empty list when it writes nothing (a resync request, a transfer for another branch).
# May raise `Refused` for a service rule (e.g. a customer code outside the origin's namespace).
Claims = Callable[[Event], Sequence[Claim] | None]


class Screen:
    """The integrity check of replicated events, once for every service (DESIGN §2: one writer per
    record). An event is accepted only when

    - upward (``up.<origin>…``): the envelope's origin is the subject's, a node below this one, and
      every owner the payload claims lies in the origin's subtree;
    - downward (``down.<scope>…``): the envelope's origin is the scope's node (the root for ``all``),
      an ancestor of this node, and every owner claimed lies in the origin's subtree and above this
      node (reference data is owned above);
    - a record this node holds keeps its owner unless the event is a transfer whose ``from_node`` is
      that owner (for a transfer relayed down by a common ancestor, also when the owner this node knows
      lies outside its subtree — moves there reach it only by relay — but inside the relayer's);
    - a record attached to another (a contact's customer) attaches only to one the origin's subtree
      owns, and a unique natural key never collides with another record held here;
    - a restore copy (``Envelope.restore``: an ancestor republishing its replicas to a node restored
      from an older backup) comes only from above, transfers nothing, and is applied only where every
      record it writes is owned in this node's subtree — elsewhere (a sibling of the restored node) it
      is skipped, neither applied nor refused.

    Current owners are read in one query per table per batch, and moves accepted earlier in the batch
    count: a transfer followed by the new owner's first change is not refused.
    """

    def __init__(self, *, topology: Topology, node: str, schema: str, claims: Claims) -> None:
        self.topology = topology
        self.node = node
        self.schema = schema
        self.claims = claims
        # asked several times per event over a handful of node pairs: remember the answers
        self._in_subtree = functools.lru_cache(maxsize=8192)(topology.is_in_subtree)
        # the tables accepted events wrote (the service's own table names, from its claims)
        self.tables: set[str] = set()
        # records accepted events created here (not held before): how much the replica has grown
        self.new_records = 0

    async def split(
        self, session: AsyncSession, events: Sequence[Event]
    ) -> tuple[list[Event], list[tuple[Event, str]]]:
        """(accepted, refused with the reason), in the events' order."""
        claimed: list[tuple[Event, list[Claim]]] = []
        refused: list[tuple[Event, str]] = []
        for ev in events:
            try:
                self._check_route(ev)
                claims = self.claims(ev)
                if claims is None:
                    raise Refused(f"{ev.event_type or 'an event without a type'} declares no claims here; refused")
                claims = list(claims)
                aggregate = _uuid_or_none(ev.envelope.aggregate_id)
                if claims and not any(c.record_id == aggregate for c in claims):
                    raise Refused(
                        f"{ev.event_type} names aggregate {ev.envelope.aggregate_id} but writes "
                        + ", ".join(f"{c.table} {c.record_id}" for c in claims)
                    )
            except Refused as exc:
                refused.append((ev, str(exc)))
                continue
            claimed.append((ev, claims))
        owners = await self._owners(session, [c for _, cs in claimed for c in cs])
        holders = await self._holders(session, [c for _, cs in claimed for c in cs])
        accepted: list[Event] = []
        for ev, claims in claimed:
            try:
                for c in claims:
                    self._check_claim(ev, c, owners, holders)
            except Refused as exc:
                refused.append((ev, str(exc)))
                continue
            except _NotForHere:
                continue
            for c in claims:  # later events of the batch see this one's writes
                if (c.table, c.record_id) not in owners:
                    self.new_records += 1
                owners[(c.table, c.record_id)] = c.owner
                for u in c.unique:
                    holders[(c.table, u.column, u.value)] = (c.record_id, c.owner)
                self.tables.add(c.table)
            accepted.append(ev)
        return accepted, refused

    def _check_route(self, ev: Event) -> None:
        me, origin = self.node, ev.origin
        parts = ev.subject.split(".")
        if len(parts) < 5 or parts[0] not in ("up", "down"):
            raise Refused(f"subject {ev.subject} is neither up.<origin>… nor down.<scope>…")
        if origin not in self.topology:
            raise Refused(f"origin {origin!r} of {ev.subject} is not a node of this federation")
        expected = (
            f"{parts[0]}.{parts[1]}.{ev.envelope.service}.{ev.envelope.aggregate_type}.{ev.envelope.aggregate_id}"
        )
        if ev.subject != expected:
            raise Refused(f"subject {ev.subject} does not match the envelope's aggregate ({expected})")
        if ev.envelope.restore and (parts[0] != "down" or not ev.envelope.snapshot):
            raise Refused(f"restore copy {ev.subject} is not a downward snapshot")
        if parts[0] == "up":
            if parts[1] != origin:
                raise Refused(f"envelope origin {origin} differs from the subject's origin {parts[1]}")
            if origin == me or not self._in_subtree(origin, me):
                raise Refused(f"upward event from {origin}, which is not below {me}")
        else:
            scope_node = self.topology.root.code if parts[1] == "all" else parts[1]
            if origin != scope_node:
                raise Refused(f"envelope origin {origin} differs from the publisher of scope {parts[1]!r}")
            if origin == me or not self._in_subtree(me, origin):
                raise Refused(f"downward event from {origin}, which is not above {me}")

    def _check_claim(
        self,
        ev: Event,
        c: Claim,
        owners: dict[tuple[str, uuid.UUID], str],
        holders: dict[tuple[str, str, str], tuple[uuid.UUID, str]],
    ) -> None:
        me, origin = self.node, ev.origin
        up = ev.subject.startswith("up.")
        current = owners.get((c.table, c.record_id))
        if ev.envelope.restore:
            # an ancestor's copy of a record of this node's subtree, for a node restored from a backup
            if c.is_transfer:
                raise Refused(f"restore copy of {c.what} from {origin} carries a transfer")
            if not self._in_subtree(c.owner, origin):
                raise Refused(f"owner {c.owner} claimed for {c.what} is outside origin {origin}'s subtree")
            if not self._in_subtree(c.owner, me):
                raise _NotForHere(c.what)
            if current is not None and current != c.owner:
                raise Refused(f"owner of {c.what} is {current} here; restore copy from {origin} claims {c.owner}")
        elif c.is_transfer:
            if c.owner not in self.topology:
                raise Refused(f"transfer of {c.what} to unknown node {c.owner!r}")
            if c.from_node is None or not self._in_subtree(c.from_node, origin):
                raise Refused(f"transfer of {c.what} from {c.from_node} is outside origin {origin}'s subtree")
            if not up and not (self._in_subtree(c.owner, origin) and self._in_subtree(c.owner, me)):
                raise Refused(f"transfer of {c.what} to {c.owner} relayed by {origin} does not belong below {me}")
            if current is not None and current not in (c.from_node, c.owner):
                relayed_from_outside = (
                    not up and not self._in_subtree(current, me) and self._in_subtree(current, origin)
                )
                if not relayed_from_outside:
                    raise Refused(f"transfer of {c.what} from {c.from_node}, but its owner here is {current}")
        else:
            if not self._in_subtree(c.owner, origin):
                raise Refused(f"owner {c.owner} claimed for {c.what} is outside origin {origin}'s subtree")
            if not up and (c.owner == me or not self._in_subtree(me, c.owner)):
                raise Refused(f"owner {c.owner} claimed for reference {c.what} is not above {me}")
            if current is not None and current != c.owner:
                raise Refused(
                    f"owner of {c.what} is {current} here; {origin} claims {c.owner} without a transfer from {current}"
                )
        for table, parent_id in c.attached_to:
            parent_owner = owners.get((table, parent_id))
            if parent_owner is not None and not self._in_subtree(parent_owner, origin):
                raise Refused(
                    f"{c.what} attaches to {table} {parent_id} owned by {parent_owner}, "
                    f"outside origin {origin}'s subtree"
                )
        for u in c.unique:
            holder = holders.get((c.table, u.column, u.value))
            if holder is not None and holder[0] != c.record_id:
                raise Refused(
                    f"{u.column} {u.value} of {c.what} (owner {c.owner}, from {origin}) collides with "
                    f"{c.table} {holder[0]} (owner {holder[1]}) held here: the code is assigned twice"
                )

    async def _owners(self, session: AsyncSession, claims: list[Claim]) -> dict[tuple[str, uuid.UUID], str]:
        ids: dict[str, set[uuid.UUID]] = {}
        for c in claims:
            ids.setdefault(c.table, set()).add(c.record_id)
            for table, parent_id in c.attached_to:
                ids.setdefault(table, set()).add(parent_id)
        out: dict[tuple[str, uuid.UUID], str] = {}
        for table, wanted in ids.items():
            rows = await session.execute(
                text(f'SELECT id, owner_node FROM "{self.schema}"."{table}" WHERE id = ANY(CAST(:ids AS uuid[]))'),
                {"ids": list(wanted)},
            )
            out.update({(table, r[0]): r[1] for r in rows})
        return out

    async def _holders(
        self, session: AsyncSession, claims: list[Claim]
    ) -> dict[tuple[str, str, str], tuple[uuid.UUID, str]]:
        keys: dict[tuple[str, str, str | None], set[str]] = {}
        for c in claims:
            for u in c.unique:
                keys.setdefault((c.table, u.column, u.where), set()).add(u.value)
        out: dict[tuple[str, str, str], tuple[uuid.UUID, str]] = {}
        for (table, column, where), values in keys.items():
            rows = await session.execute(
                text(
                    f'SELECT "{column}", id, owner_node FROM "{self.schema}"."{table}" '
                    f'WHERE "{column}" = ANY(CAST(:v AS text[]))' + (f" AND ({where})" if where else "")
                ),
                {"v": list(values)},
            )
            out.update({(table, column, r[0]): (r[1], r[2]) for r in rows})
        return out


class ReplicationConsumer:
    """Pulls one inbound stream and applies it through `apply`, one transaction per batch."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        nats_url: str,
        service: str,
        schema: str,
        node: str,
        stream: str,
        filter_subjects: list[str],
        apply: Apply,
        claims: Claims | None = None,
        topology: Topology | None = None,
        batch: int = 500,
        batch_bytes: int = BATCH_BYTES,
        dlq_subject: str | None = None,
        max_deliver: int = MAX_DELIVER,
        backoff: Sequence[float] = BACKOFF_SECONDS,
        fetch_timeout: float = 1.0,
        ack_wait: float = ACK_WAIT_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.nats_url = nats_url
        self.service = service
        self.schema = schema
        self.node = node
        self.stream = stream
        self.filter_subjects = filter_subjects
        self.apply = apply
        # an applier object may carry its claims and topology (CustomerApplier does); without both there
        # is no integrity check, and a consumer without one must not start
        claims = claims or getattr(apply, "claims", None)
        topology = topology or getattr(apply, "topology", None)
        if claims is None or not isinstance(topology, Topology):
            raise ValueError(f"{service}/{stream}: a replication consumer needs the claims callback and the topology")
        self.screen = Screen(topology=topology, node=node, schema=schema, claims=claims)
        self.batch = batch
        self.batch_bytes = batch_bytes
        self.durable = f"{service}-apply-{stream}".replace(".", "_")
        self.dlq_subject = dlq_subject or f"dlq.{node}.{service}"
        self.max_deliver = max_deliver
        self.backoff = tuple(backoff)
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        self._reconnect_delay = RECONNECT_FIRST
        self._waited_for_stream = False
        self.reconnects = 0  # failures that dropped the connection (not the start-up wait for the stream)
        self.idle_fetches = 0
        self._stopping = asyncio.Event()
        self.applied = 0
        self.batches = 0  # transactions `handle` applied (a fetch of large events is split: BATCH_BYTES)
        self._grown_at_analyze = 0  # `screen.new_records` at the last analyze of the tables written
        self.analyzed_rows = 0  # the rows those tables held at it (pg_class.reltuples)
        self.analyzes = 0  # refreshes of the statistics so far
        self._analyzing: asyncio.Task[None] | None = None  # the refresh running beside the apply

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            analyzing, self._analyzing = self._analyzing, None
            if analyzing is not None and not analyzing.done():
                # let a running ANALYZE finish: one cancelled mid-statement leaves its connection broken
                # (asyncpg's "unexpected connection_lost()" at shutdown); cancelled only if it lingers
                done, _ = await asyncio.wait([analyzing], timeout=ANALYZE_STOP_WAIT)
                if not done:
                    analyzing.cancel()
                    await asyncio.wait([analyzing])

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._consume()
                self._reconnect_delay = RECONNECT_FIRST
            except asyncio.CancelledError:
                raise
            except StreamNotDeclared as exc:
                # expected at start-up: the sync service declares the streams, possibly after us
                (log.debug if self._waited_for_stream else log.info)(
                    "apply consumer %s/%s: %s", self.service, self.stream, exc
                )
                self._waited_for_stream = True
                await self._pause()
            except Exception as exc:
                self.reconnects += 1
                log.warning(
                    "apply consumer %s/%s: %s: %s; retrying in %.1fs",
                    self.service,
                    self.stream,
                    type(exc).__name__,
                    exc,
                    self._reconnect_delay,
                )
                await self._pause()

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._reconnect_delay)
        self._reconnect_delay = min(self._reconnect_delay * 2, RECONNECT_MAX)

    def durables(self) -> dict[str, str | None]:
        """The JetStream durable of each filter subject: one single-filter consumer per subject, never one
        with several (the server's multi-filter path is slow: the note at the top of this module). The
        first subject keeps the consumer's own name (and so its position in the stream); the others add
        their subject's literal tokens (``customer-apply-UP_gd-up_sync`` for ``up.*.sync.>``)."""
        if not self.filter_subjects:
            return {self.durable: None}
        out: dict[str, str | None] = {}
        for i, subject in enumerate(self.filter_subjects):
            name = self.durable
            if i:
                name += "-" + "_".join(t for t in subject.split(".") if t not in ("*", ">"))
            out[name] = subject
        return out

    async def _consume(self) -> None:
        nc = await nats.connect(nats_servers(self.nats_url), max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        try:
            js = nc.jetstream(timeout=10.0)
            try:
                await js.stream_info(self.stream)
            except NotFoundError:
                raise StreamNotDeclared(
                    f"stream {self.stream} not declared yet (the sync service declares it)"
                ) from None
            subs = []
            for durable, subject in self.durables().items():
                config = ConsumerConfig(
                    durable_name=durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_wait=self.ack_wait,
                    max_deliver=-1,  # bounded by us (dead letter after MAX_DELIVER), not by the server
                    max_ack_pending=self.batch * 4,
                    filter_subject=subject,
                )
                await js.add_consumer(self.stream, config)
                subs.append(await js.pull_subscribe_bind(durable, self.stream))
            if self._waited_for_stream:
                log.info("apply consumer %s/%s: stream declared, consuming", self.service, self.stream)
                self._waited_for_stream = False
            loops = [asyncio.create_task(self._fetch_loop(js, nc, sub, first=i == 0)) for i, sub in enumerate(subs)]
            try:
                # the first loop to fail (a dropped connection) ends them all: `run` reconnects
                done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    task.result()
            finally:
                for task in loops:
                    task.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _fetch_loop(self, js: Any, nc: Any, sub: Any, *, first: bool) -> None:
        # None, not 0.0: the monotonic clock starts at boot, so on a machine up for less than an hour
        # "0.0" would skip the first prune
        last_prune: float | None = None
        size = self.batch
        while not self._stopping.is_set():
            if first and (last_prune is None or time.monotonic() - last_prune > PRUNE_EVERY_SECONDS):
                await self.prune_inbox()
                last_prune = time.monotonic()
            try:
                msgs = await sub.fetch(size, timeout=self.fetch_timeout)
            except TimeoutError:
                # nats.py raises its own TimeoutError, and a bare asyncio.TimeoutError (empty message)
                # when the no-wait probe's answer lands just before the deadline: both mean "no messages"
                self.idle_fetches += 1
                if first:
                    await self._report_pending(js)
                continue
            if not msgs:  # an idle fetch may also answer an empty list
                self.idle_fetches += 1
                continue
            keep = asyncio.create_task(self._keep_in_progress(msgs))
            try:
                for group in self._by_bytes(msgs):
                    await self.handle(group, nc)
            finally:
                keep.cancel()
                await asyncio.gather(keep, return_exceptions=True)
            # the next fetch asks for about `batch_bytes` of events the size of these
            mean = sum(len(m.data) for m in msgs) / len(msgs)
            size = max(1, min(self.batch, int(self.batch_bytes // max(mean, 1.0))))
            # connected and applying: the next failure starts the back-off from the beginning again
            self._reconnect_delay = RECONNECT_FIRST

    async def _keep_in_progress(self, msgs: list[Any]) -> None:
        """Every third of `ack_wait`, until cancelled: report the fetch's events not yet settled (acked,
        nak'd or dead-lettered) as still being worked on, so that the server does not deliver them again
        while the groups before them are applied, or while a failed batch is retried event by event."""
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            for msg in msgs:
                if not getattr(msg, "_ackd", False):  # nats.py's own record of a settled message
                    with contextlib.suppress(Exception):  # a lost connection ends the fetch loop anyway
                        await msg.in_progress()

    def _by_bytes(self, msgs: list[Any]) -> list[list[Any]]:
        """Consecutive groups of at most `batch_bytes` of payload (a larger event alone), in order."""
        groups: list[list[Any]] = [[]]
        weight = 0
        for msg in msgs:
            if groups[-1] and weight + len(msg.data) > self.batch_bytes:
                groups.append([])
                weight = 0
            groups[-1].append(msg)
            weight += len(msg.data)
        return groups

    async def prune_inbox(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                text(f'DELETE FROM "{self.schema}".inbox WHERE applied_at < now() - make_interval(days => :d)'),
                {"d": INBOX_KEEP_DAYS},
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _report_pending(self, js: Any) -> None:
        with contextlib.suppress(Exception):
            pending = 0
            for durable in self.durables():
                pending += (await js.consumer_info(self.stream, durable)).num_pending or 0
            LAG.labels(self.service, self.stream).set(pending)

    async def handle(self, msgs: list[Any], nc: Any) -> None:
        events: list[Event] = []
        acks: list[Any] = []
        by_event: dict[int, Any] = {}
        for msg in msgs:
            try:
                env = envelope_pb2.Envelope.FromString(msg.data)
                uuid.UUID(env.event_id)
            except Exception as exc:
                await self._dead_letter([msg], nc, f"undecodable envelope: {exc}")
                continue
            if env.origin_node == self.node and not self._own_resync(env, msg.subject):
                acks.append(msg)  # our own events, sourced back through an aggregating stream
                continue
            ev = Event(env, msg.subject, self.stream)
            events.append(ev)
            by_event[id(ev)] = msg
            acks.append(msg)
        refused: list[tuple[Event, str]] = []
        if events:
            self.batches += 1
            try:
                refused = await self._apply_batch(events, by_event)
            except Exception as exc:
                await self._retry_or_dead_letter([m for m in msgs if m in acks], nc, exc)
                return
        for ev, reason in refused:  # their dead-letter rows committed with the batch
            await self._announce_dead(by_event[id(ev)], nc, reason)
        for msg in acks:
            await msg.ack()

    def _own_resync(self, env: envelope_pb2.Envelope, subject: str) -> bool:
        """This node's own resync request, captured by its downward stream (``down.<node>.sync.resync…``):
        the node's services answer it too, republishing their own records (nothing else of our own is
        applied). Only this node can publish under ``down.<node>`` (its NATS permissions)."""
        return env.event_type == RESYNC_REQUESTED and subject.startswith(f"down.{self.node}.sync.resync.")

    async def _apply_batch(self, events: list[Event], msgs: dict[int, Any] | None = None) -> list[tuple[Event, str]]:
        """Inbox, integrity check, apply — one transaction. Returns the refused events with their
        reasons; their dead-letter rows are written in the same transaction."""
        async with self.sessionmaker() as session, session.begin():
            ids = [e.event_id for e in events]
            rows = await session.execute(
                text(
                    f'INSERT INTO "{self.schema}".inbox (event_id) SELECT unnest(CAST(:ids AS uuid[])) '
                    "ON CONFLICT DO NOTHING RETURNING event_id"
                ),
                {"ids": ids},
            )
            fresh = {r[0] for r in rows}
            new_events = [e for e in events if e.event_id in fresh]
            DUPLICATES.labels(self.service, self.stream).inc(len(events) - len(new_events))
            # our own resync requests are answered, not screened (`_own_resync`); anything else of our own
            # origin that reaches here is screened, and refused
            own = [e for e in new_events if e.origin == self.node and self._own_resync(e.envelope, e.subject)]
            answered = {id(e) for e in own}
            accepted, refused = await self.screen.split(session, [e for e in new_events if id(e) not in answered])
            accepted = own + accepted
            for ev, reason in refused:
                msg = (msgs or {}).get(id(ev))
                payload = msg.data if msg is not None else ev.envelope.SerializeToString()
                await self._insert_dead_letter(session, payload, ev.subject, msg, reason, ev)
            if accepted:
                await self.apply(session, accepted)
        self.applied += len(accepted)
        APPLIED.labels(self.service, self.stream).inc(len(accepted))
        REFUSED.labels(self.service, self.stream).inc(len(refused))
        # growth, not traffic: a backlog of updates to records held here leaves the statistics true. The
        # refresh runs beside the apply, on a connection of its own, one at a time per consumer: the next batches do
        # not wait for it (an ANALYZE of a large table takes as long as applying thousands of rows)
        grown = self.screen.new_records - self._grown_at_analyze
        if not self.analyzing and grown >= max(ANALYZE_AFTER_MIN, self.analyzed_rows):
            self._grown_at_analyze = self.screen.new_records
            self._analyzing = asyncio.create_task(self.refresh_statistics(), name=f"{self.durable}-analyze")
        return refused

    @property
    def analyzing(self) -> bool:
        """A refresh of the statistics is running (or about to) beside the apply."""
        return self._analyzing is not None and not self._analyzing.done()

    async def statistics_refreshed(self) -> None:
        """Wait until a refresh of the statistics started by the apply has finished (none: at once)."""
        if self._analyzing is not None and self.analyzing:
            await asyncio.wait([self._analyzing])

    async def refresh_statistics(self) -> None:
        """ANALYZE the tables this consumer's events wrote (see ANALYZE_AFTER_MIN). A failure (a role that
        does not own the tables) is logged, never fails the apply: autovacuum still analyzes them."""
        tables = [f'"{self.schema}"."{t}"' for t in sorted(self.screen.tables)]
        if not tables:
            return
        self.analyzes += 1
        try:
            async with self.sessionmaker() as session, session.begin():
                for t in tables:
                    await session.execute(text(f"ANALYZE {t}"))
                rows = await session.execute(
                    text(
                        "SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class "
                        "WHERE oid = ANY(CAST(:t AS regclass[]))"
                    ),
                    {"t": tables},
                )
                self.analyzed_rows = int(rows.scalar_one())
        except Exception as exc:
            log.warning("apply consumer %s/%s: analyze of %s failed: %s", self.service, self.stream, tables, exc)

    async def _retry_or_dead_letter(self, msgs: list[Any], nc: Any, exc: Exception) -> None:
        """A failing batch: retry message by message so one poison event cannot block the stream."""
        if len(msgs) > 1:
            log.warning("batch of %d failed on %s (%s); applying one by one", len(msgs), self.stream, exc)
            for msg in msgs:
                await self.handle([msg], nc)
            return
        msg = msgs[0]
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        if delivered >= self.max_deliver:
            await self._dead_letter([msg], nc, repr(exc))
            return
        delay = self.backoff[min(delivered - 1, len(self.backoff) - 1)]
        log.warning("event on %s failed (delivery %d): %s; retry in %.1fs", msg.subject, delivered, exc, delay)
        await msg.nak(delay=delay)

    async def _dead_letter(self, msgs: list[Any], nc: Any, error: str) -> None:
        for msg in msgs:
            env: envelope_pb2.Envelope | None = None
            with contextlib.suppress(Exception):
                env = envelope_pb2.Envelope.FromString(msg.data)
            async with self.sessionmaker() as session, session.begin():
                await self._insert_dead_letter(session, msg.data, msg.subject, msg, error, None, env)
            await self._announce_dead(msg, nc, error)
            await msg.ack()

    async def _insert_dead_letter(
        self,
        session: AsyncSession,
        payload: bytes,
        subject: str,
        msg: Any,
        error: str,
        ev: Event | None,
        env: envelope_pb2.Envelope | None = None,
    ) -> None:
        from kam_platform.ids import uuid7

        env = ev.envelope if ev is not None else env
        meta = msg.metadata if msg is not None else None
        await session.execute(
            text(
                f'INSERT INTO "{self.schema}".dead_letter (id, stream, stream_seq, subject, event_type, '
                "origin_node, error, deliveries, payload) VALUES (:id, :stream, :seq, :subject, :etype, "
                ":origin, :error, :deliveries, :payload)"
            ),
            {
                "id": uuid7(),
                "stream": self.stream,
                "seq": meta.sequence.stream if meta else 0,
                "subject": subject[:255],
                "etype": (env.event_type[:128] or None) if env is not None else None,
                "origin": (env.origin_node[:32] or None) if env is not None else None,
                "error": error[:4000],
                "deliveries": meta.num_delivered if meta else 1,
                "payload": payload,
            },
        )

    async def _announce_dead(self, msg: Any, nc: Any, error: str) -> None:
        """Count a dead letter where sync status reads it (the node's DLQ stream) and log it."""
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.jetstream().publish(
                    self.dlq_subject,
                    msg.data,
                    headers={"Kam-Error": error[:200], "Kam-Subject": msg.subject, "Kam-Stream": self.stream},
                )
        DEAD.labels(self.service, self.stream).inc()
        log.error("dead-lettered %s from %s: %s", msg.subject, self.stream, error)


# --- plugging a service in ----------------------------------------------------------------------


@dataclass(frozen=True)
class Replicator:
    """A service's apply consumers on the node's inbound streams, as lifespan hooks.

    ``up`` and ``down`` are the subject filters applied from upward streams (``UP_<node>``, its
    children's) and from downward ones (``DOWN_<…>``); `applier` builds the service's `apply`
    callback (an object that also carries `claims` and `topology`, as `ReplicationConsumer` expects)
    from the settings. Use `plug_replication` to make one, and pass ``start``/``stop`` to
    `kam_platform.app.create_service_app` (``on_startup``/``on_shutdown``). Nothing runs where
    ``settings.replication_enabled`` is off.
    """

    service: str
    schema: str
    up: tuple[str, ...]
    down: tuple[str, ...]
    applier: Callable[[Any], Apply]

    def consumers(self, app: Any, settings: Any) -> list[ReplicationConsumer]:
        applier = self.applier(settings)
        out = []
        for stream in inbound_streams(settings.topology, settings.node):
            subjects = self.down if stream.startswith("DOWN_") else self.up
            if not subjects:
                continue
            out.append(
                ReplicationConsumer(
                    sessionmaker=app.state.db.sessionmaker,
                    nats_url=settings.nats_url,
                    service=self.service,
                    schema=self.schema,
                    node=settings.node,
                    stream=stream,
                    filter_subjects=list(subjects),
                    apply=applier,
                )
            )
        return out

    async def start(self, app: Any) -> None:
        settings = app.state.settings
        consumers = self.consumers(app, settings) if settings.replication_enabled else []
        app.state.consumers = consumers
        app.state.consumer_tasks = [
            asyncio.create_task(c.run(), name=f"{self.service}-apply-{c.stream}") for c in consumers
        ]

    async def stop(self, app: Any) -> None:
        for c in getattr(app.state, "consumers", []):
            c.stop()
        tasks = getattr(app.state, "consumer_tasks", [])
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def plug_replication(
    *,
    service: str,
    schema: str,
    applier: Callable[[Any], Apply],
    subjects: Sequence[str] = (),
    up: Sequence[str] | None = None,
    down: Sequence[str] | None = None,
) -> Replicator:
    """The `Replicator` of a service. ``subjects`` are the services whose events it applies, both ways
    (``("customer", "sync")`` → ``up.*.customer.>``, ``up.*.sync.>``, ``down.*.customer.>``, …);
    ``up``/``down`` give the filters of one direction exactly instead (org applies its aggregates from
    below and only resync requests from above)."""
    return Replicator(
        service=service,
        schema=schema,
        up=tuple(up if up is not None else (f"up.*.{s}.>" for s in subjects)),
        down=tuple(down if down is not None else (f"down.*.{s}.>" for s in subjects)),
        applier=applier,
    )
