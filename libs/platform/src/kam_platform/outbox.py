"""Transactional outbox: events written in the same transaction as the change, then published to
the node's own JetStream by one relay per outbox (leader by advisory lock) with Nats-Msg-Id =
event id, and marked sent only after the PubAck (DESIGN §3)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import nats
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js.errors import NoStreamResponseError
from prometheus_client import Counter, Gauge
from sqlalchemy import BigInteger, DateTime, Index, LargeBinary, String, event, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from kam_contracts import envelope_pb2
from kam_platform.embedded.nats import nats_servers
from kam_platform.embedded.postgres import plain_dsn
from kam_platform.ids import uuid7

log = logging.getLogger("kam.outbox")

RELAY_PUBLISHED = Counter("kam_outbox_published_total", "Outbox rows published and acked", ["schema"])
RELAY_PENDING = Gauge("kam_outbox_pending", "Outbox rows not yet acked", ["schema"])
RELAY_ERRORS = Counter("kam_outbox_publish_errors_total", "Failed publish attempts", ["schema"])


class OutboxMixin:
    """Columns of a service's outbox table (the table lives in the service schema)."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # clock_timestamp, not now(): a later writer of the same aggregate (after the row lock) sorts later
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @classmethod
    def outbox_indexes(cls, table: str) -> tuple[Index, ...]:
        return (
            Index(f"ix_{table}_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),
            Index(f"ix_{table}_sent_at", "sent_at"),
        )


def channel(schema: str) -> str:
    return f"kam_outbox_{schema}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts(dt: datetime | None = None) -> Timestamp:
    """`dt` (now by default; a naive one is local time) as a Timestamp, as `Timestamp.FromDatetime`
    makes it, at a quarter of its cost (an event carries several)."""
    dt = dt or datetime.now(UTC)
    since = (dt if dt.tzinfo is not None else dt.astimezone(UTC)) - _EPOCH
    return Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)


@functools.lru_cache(maxsize=4096)
def _at(seconds: int, nanos: int) -> datetime:
    if not 0 <= nanos < 1_000_000_000:
        raise ValueError(f"timestamp nanos {nanos} out of range")
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError as exc:
        raise ValueError(f"timestamp seconds {seconds} out of range") from exc


def from_ts(t: Timestamp) -> datetime | None:
    """A payload's Timestamp as an aware datetime, as `Timestamp.ToDatetime(tzinfo=UTC)`; None when
    unset. Each distinct value is converted once: the rows of an import chunk share their timestamps."""
    if not t.seconds and not t.nanos:
        return None
    return _at(t.seconds, t.nanos)


def build_event(
    *,
    node: str,
    service: str,
    aggregate_type: str,
    aggregate_id: str,
    version: int,
    message: Message,
    actor: str,
    snapshot: bool = False,
    occurred_at: datetime | Timestamp | None = None,
    event_id: uuid.UUID | None = None,
    down_scope: str | None = None,
    restore: bool = False,
) -> tuple[uuid.UUID, str, str, bytes]:
    """One outbox row as ``(id, subject, event_type, payload)``: the Envelope bytes, not yet stored.

    Subject: ``up.<node>.<service>.<aggregate_type>.<aggregate_id>`` for the node's own records (they
    flow up), or ``down.<down_scope>.<service>…`` for reference data the node publishes to its subtree
    (``down_scope`` is ``all`` at the root, else the node's code). ``restore`` marks an ancestor's
    copy of a descendant's record sent down to a node restored from an older backup (always a
    snapshot; `kam_platform.replication.Screen`). Bulk writers (import, seed)
    build rows with this and COPY them; `add_event` inserts one.
    """
    event_id = event_id or uuid7()
    env = envelope_pb2.Envelope(
        event_id=str(event_id),
        event_type=message.DESCRIPTOR.full_name,
        origin_node=node,
        service=service,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=version,
        occurred_at=occurred_at if isinstance(occurred_at, Timestamp) else ts(occurred_at),
        actor=actor,
        snapshot=snapshot or restore,
        restore=restore,
        payload=message.SerializeToString(),
    )
    head = f"down.{down_scope}" if down_scope else f"up.{node}"
    subject = f"{head}.{service}.{aggregate_type}.{aggregate_id}"
    return event_id, subject, env.event_type, env.SerializeToString()


_PENDING = "kam_outbox_pending"  # session.info key: deferred rows by schema, written at commit


async def add_event(
    session: AsyncSession,
    *,
    schema: str,
    node: str,
    service: str,
    aggregate_type: str,
    aggregate_id: str,
    version: int,
    message: Message,
    actor: str,
    snapshot: bool = False,
    down_scope: str | None = None,
    defer: bool = False,
) -> uuid.UUID:
    """Append one domain event to the outbox in the caller's transaction (see `build_event`).

    With ``defer=True`` the row is kept on the session and written, together with every other
    deferred row of the transaction, in one INSERT just before the commit (`flush_events`): a request
    that emits four events pays one round trip instead of four. Rows keep their emission order.
    """
    event_id, subject, event_type, payload = build_event(
        node=node,
        service=service,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=version,
        message=message,
        actor=actor,
        snapshot=snapshot,
        down_scope=down_scope,
    )
    row = (event_id, subject, event_type, aggregate_id, version, payload)
    if defer:
        session.info.setdefault(_PENDING, {}).setdefault(schema, []).append(row)
        return event_id
    await session.execute(*_insert(session.info, schema, [row]))
    return event_id


_COLUMNS = "id, subject, event_type, aggregate_id, version, payload"
_ONE = "VALUES (:id, :subject, :event_type, :aggregate_id, :version, :payload)"
# several rows in one statement, in emission order (created_at is clock_timestamp(), taken row by row)
_MANY = (
    f"SELECT {_COLUMNS} FROM unnest(CAST(:id AS uuid[]), CAST(:subject AS varchar[]), "
    "CAST(:event_type AS varchar[]), CAST(:aggregate_id AS varchar[]), CAST(:version AS bigint[]), "
    f"CAST(:payload AS bytea[])) WITH ORDINALITY AS e({_COLUMNS}, n) ORDER BY n"
)
_NAMES = ("id", "subject", "event_type", "aggregate_id", "version", "payload")


def _insert(info: dict[str, Any], schema: str, rows: list[tuple[Any, ...]]) -> tuple[Any, dict[str, Any]]:
    """One INSERT of `rows`; the first write of a schema in a transaction also NOTIFYs the relay (delivered
    at commit; wakes it without polling) in the same statement."""
    if len(rows) == 1:
        sql, params = _ONE, dict(zip(_NAMES, rows[0], strict=True))
    else:
        sql, params = _MANY, {name: list(col) for name, col in zip(_NAMES, zip(*rows, strict=True), strict=True)}
    sql = f'INSERT INTO "{schema}".outbox ({_COLUMNS}) {sql}'
    if _first_write(info, schema):
        sql += " RETURNING (SELECT pg_notify(:channel, ''))"
        params["channel"] = channel(schema)
    return text(sql), params


def _first_write(info: dict[str, Any], schema: str) -> bool:
    """Whether this is the transaction's first outbox write of `schema` (the one that NOTIFYs the relay;
    the flag is cleared when the transaction ends), marking it written."""
    key = f"notified:{schema}"
    first = not info.get(key)
    info[key] = True
    return first


def take_pending(info: dict[str, Any]) -> tuple[str, list[tuple[Any, ...]], bool] | None:
    """The deferred rows of a transaction whose events are all of one schema, taken from `info` (a
    session's) for a statement that writes them with other rows (`kam_platform.db.together`): the schema,
    its rows in emission order, and whether that statement must also wake the relay (`outbox_values`).
    None when nothing is deferred, or several schemas are (those are written at the commit)."""
    pending: dict[str, list[tuple[Any, ...]]] = info.get(_PENDING) or {}
    if len(pending) != 1:
        return None
    ((schema, rows),) = pending.items()
    if not rows:
        return None
    del info[_PENDING]
    return schema, rows, _first_write(info, schema)


def outbox_values(schema: str, count: int, first: int, *, notify: bool) -> str:
    """An INSERT of `count` outbox rows whose values are the driver's parameters numbered from `first`
    (the columns of OUTBOX_COLUMNS, row after row; then the relay's channel when `notify`), in emission
    order: a multi-row VALUES list is inserted in its order, each created_at taken by clock_timestamp()."""
    width = len(_NAMES)
    rows = ", ".join("(" + ", ".join(f"${first + r * width + k}" for k in range(width)) + ")" for r in range(count))
    sql = f'INSERT INTO "{schema}".outbox ({_COLUMNS}) VALUES {rows}'
    if notify:
        sql += f" RETURNING (SELECT pg_notify(${first + count * width}, ''))"
    return sql


async def write_rows(session: AsyncSession, *, schema: str, rows: list[tuple[Any, ...]]) -> None:
    """Write rows built by `build_event` as ``(id, subject, event_type, aggregate_id, version, payload)``
    in one INSERT now, in the caller's transaction (a snapshot's chunk); the relay is woken at commit."""
    if rows:
        await session.execute(*_insert(session.info, schema, rows))


OUTBOX_COLUMNS = _NAMES


async def copy_rows(conn: asyncpg.Connection, *, schema: str, rows: list[tuple[Any, ...]]) -> None:
    """COPY rows (as for `write_rows`) into the outbox on a raw asyncpg connection, for bulk writers
    (import, seed) that load everything else by COPY too; the relay is woken at commit."""
    if rows:
        await conn.copy_records_to_table("outbox", schema_name=schema, records=rows, columns=_NAMES)
        await conn.execute("SELECT pg_notify($1, '')", channel(schema))


async def flush_events(session: AsyncSession) -> None:
    """Write the deferred outbox rows of the session now (normally done by the commit)."""
    await session.run_sync(_write_pending)


def _write_pending(session: Session) -> None:
    pending: dict[str, list[tuple[Any, ...]]] = session.info.pop(_PENDING, None) or {}
    for schema, rows in pending.items():
        if rows:
            session.execute(*_insert(session.info, schema, rows))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # runs inside the AsyncSession's greenlet, so the sync execute awaits the driver
    _write_pending(session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _end_transaction(session: Session) -> None:
    session.info.pop(_PENDING, None)
    for key in [k for k in session.info if isinstance(k, str) and k.startswith("notified:")]:
        del session.info[key]


# What one relay batch reads and publishes at most, in payload bytes (see `OutboxRelay.publish_batch`).
RELAY_BATCH_BYTES = 4 << 20


class OutboxRelay:
    """Publishes unsent outbox rows of one schema to JetStream. Run as a background task."""

    def __init__(
        self,
        *,
        database_url: str,
        nats_url: str,
        schema: str,
        node: str,
        batch_size: int = 500,
        batch_bytes: int = RELAY_BATCH_BYTES,
        poll_seconds: float = 1.0,
    ) -> None:
        self.dsn = plain_dsn(database_url)
        self.nats_url = nats_url
        self.schema = schema
        self.node = node
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.more_pending = False  # the last batch stopped at `batch_bytes` with rows left behind it
        self.poll_seconds = poll_seconds
        self.lock_key = zlib.crc32(f"kam-outbox-{schema}".encode())
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.is_leader = False

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._lead()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay %s: %s; retrying in %.1fs", self.schema, exc, backoff)
                self.is_leader = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 10.0)

    async def _lead(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        try:
            while not self._stopping.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 2.0)
            if self._stopping.is_set():
                return
            self.is_leader = True
            await conn.add_listener(channel(self.schema), lambda *_: self._wake.set())
            nc = await nats.connect(nats_servers(self.nats_url), max_reconnect_attempts=-1, reconnect_time_wait=0.5)
            try:
                js = nc.jetstream(timeout=5.0)
                while not self._stopping.is_set():
                    self._wake.clear()
                    sent = await self.publish_batch(conn, js)
                    if sent >= self.batch_size or self.more_pending:
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            finally:
                await nc.drain()
        finally:
            self.is_leader = False
            await conn.close()

    async def publish_batch(self, conn: asyncpg.Connection, js: Any) -> int:
        """Publish one batch of unsent rows: aggregates in parallel, each aggregate's rows in order.

        A row is marked sent only after its PubAck, and a row is published only after every earlier
        row of the same aggregate was acked: otherwise a failed publish followed by a successful one
        would put version n+1 on the stream before version n (the failed row goes out later), and a
        listener or a replica reading the stream in order would see the aggregate go backwards.
        """
        # the oldest unsent rows, up to `batch_size` of them and `batch_bytes` of payload (the first row
        # whatever its size): an import's batch events are up to a megabyte each
        rows = await conn.fetch(
            "SELECT id, subject, payload, candidates FROM ("
            "SELECT id, subject, payload, created_at, count(*) OVER () AS candidates, "
            "sum(octet_length(payload)) OVER (ORDER BY created_at, id) - octet_length(payload) AS before "
            "FROM (SELECT id, subject, payload, created_at "
            f'FROM "{self.schema}".outbox WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1) AS head'
            ") AS oldest WHERE before < $2 ORDER BY created_at, id",
            self.batch_size,
            self.batch_bytes,
        )
        self.more_pending = bool(rows) and rows[0]["candidates"] > len(rows)
        if not rows:
            RELAY_PENDING.labels(self.schema).set(0)
            return 0
        chains: dict[str, list[Any]] = {}
        for row in rows:  # the subject names the aggregate (…<aggregate_type>.<aggregate_id>)
            chains.setdefault(row["subject"], []).append(row)

        async def pub(row: Any) -> bool:
            try:
                await js.publish(
                    row["subject"],
                    bytes(row["payload"]),
                    headers={"Nats-Msg-Id": str(row["id"]), "Kam-Origin-Node": self.node},
                )
            except NoStreamResponseError:
                RELAY_ERRORS.labels(self.schema).inc()
                log.warning("no stream captures %s yet (is the node's UP stream declared?)", row["subject"])
                return False
            except Exception as exc:
                RELAY_ERRORS.labels(self.schema).inc()
                log.warning("publish of %s failed: %s: %s", row["id"], type(exc).__name__, exc)
                return False
            return True

        async def pub_chain(chain: list[Any]) -> list[uuid.UUID]:
            acked: list[uuid.UUID] = []
            for row in chain:
                if not await pub(row):
                    break  # later rows of this aggregate wait for this one
                acked.append(uuid.UUID(str(row["id"])))
            return acked

        acked = [i for ids in await asyncio.gather(*(pub_chain(c) for c in chains.values())) for i in ids]
        if acked:
            await conn.execute(
                f'UPDATE "{self.schema}".outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::uuid[])',
                acked,
            )
            RELAY_PUBLISHED.labels(self.schema).inc(len(acked))
        if len(acked) < len(rows):
            raise RuntimeError(f"{len(rows) - len(acked)} of {len(rows)} events not acked")
        return len(acked)
