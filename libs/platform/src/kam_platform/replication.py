"""Applying replicated events (DESIGN §3): a durable pull consumer per inbound stream, batch by batch
in one transaction — inbox dedupe by event id, newest version per aggregate, upsert only where the
stored version is older — ack after commit; bounded redelivery with back-off, then a dead letter.

A service gives the consumer an `apply(session, events)` callback and the mixins below for its inbox
and dead-letter tables; everything else is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client import Counter, Gauge
from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from kam_contracts import envelope_pb2

log = logging.getLogger("kam.replication")

APPLIED = Counter("kam_replication_applied_total", "Replicated events applied", ["service", "stream"])
DUPLICATES = Counter("kam_replication_duplicates_total", "Replicated events already applied", ["service", "stream"])
DEAD = Counter("kam_replication_dead_letters_total", "Events moved to the dead-letter table", ["service", "stream"])
LAG = Gauge("kam_replication_pending", "Messages pending for the apply consumer", ["service", "stream"])

MAX_DELIVER = 6
# Inbox ids older than the streams' retention can never be redelivered; keep a margin beyond it.
INBOX_KEEP_DAYS = 35
PRUNE_EVERY_SECONDS = 3600.0
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


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

    @property
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
        batch: int = 500,
        dlq_subject: str | None = None,
        max_deliver: int = MAX_DELIVER,
        backoff: Sequence[float] = BACKOFF_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.nats_url = nats_url
        self.service = service
        self.schema = schema
        self.node = node
        self.stream = stream
        self.filter_subjects = filter_subjects
        self.apply = apply
        self.batch = batch
        self.durable = f"{service}-apply-{stream}".replace(".", "_")
        self.dlq_subject = dlq_subject or f"dlq.{node}.{service}"
        self.max_deliver = max_deliver
        self.backoff = tuple(backoff)
        self._stopping = asyncio.Event()
        self.applied = 0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._consume()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("apply consumer %s/%s: %s; retrying in %.1fs", self.service, self.stream, exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 10.0)

    async def _consume(self) -> None:
        nc = await nats.connect(self.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        try:
            js = nc.jetstream(timeout=10.0)
            try:
                await js.stream_info(self.stream)
            except NotFoundError:
                raise RuntimeError(f"stream {self.stream} not declared yet (the sync service declares it)") from None
            config = ConsumerConfig(
                durable_name=self.durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=60,
                max_deliver=-1,  # bounded by us (dead letter after MAX_DELIVER), not by the server
                max_ack_pending=self.batch * 4,
                filter_subjects=self.filter_subjects,
            )
            await js.add_consumer(self.stream, config)
            sub = await js.pull_subscribe_bind(self.durable, self.stream)
            last_prune = 0.0
            while not self._stopping.is_set():
                if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                    await self.prune_inbox()
                    last_prune = time.monotonic()
                try:
                    msgs = await sub.fetch(self.batch, timeout=1.0)
                except nats.errors.TimeoutError:
                    await self._report_pending(js)
                    continue
                await self.handle(msgs, nc)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def prune_inbox(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                text(f'DELETE FROM "{self.schema}".inbox WHERE applied_at < now() - make_interval(days => :d)'),
                {"d": INBOX_KEEP_DAYS},
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _report_pending(self, js: Any) -> None:
        with contextlib.suppress(Exception):
            info = await js.consumer_info(self.stream, self.durable)
            LAG.labels(self.service, self.stream).set(info.num_pending or 0)

    async def handle(self, msgs: list[Any], nc: Any) -> None:
        events: list[Event] = []
        acks: list[Any] = []
        for msg in msgs:
            try:
                env = envelope_pb2.Envelope.FromString(msg.data)
                uuid.UUID(env.event_id)
            except Exception as exc:
                await self._dead_letter([msg], nc, f"undecodable envelope: {exc}")
                continue
            if env.origin_node == self.node:
                acks.append(msg)  # our own events, sourced back through an aggregating stream
                continue
            events.append(Event(env, msg.subject, self.stream))
            acks.append(msg)
        if events:
            try:
                await self._apply_batch(events)
            except Exception as exc:
                await self._retry_or_dead_letter([m for m in msgs if m in acks], nc, exc)
                return
        for msg in acks:
            await msg.ack()

    async def _apply_batch(self, events: list[Event]) -> None:
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
            if new_events:
                await self.apply(session, new_events)
        self.applied += len(new_events)
        APPLIED.labels(self.service, self.stream).inc(len(new_events))

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
        from kam_platform.ids import uuid7

        for msg in msgs:
            env_type = origin = None
            with contextlib.suppress(Exception):
                env = envelope_pb2.Envelope.FromString(msg.data)
                env_type, origin = env.event_type, env.origin_node
            meta = msg.metadata
            async with self.sessionmaker() as session, session.begin():
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
                        "subject": msg.subject,
                        "etype": env_type,
                        "origin": origin,
                        "error": error[:4000],
                        "deliveries": meta.num_delivered if meta else 1,
                        "payload": msg.data,
                    },
                )
            with contextlib.suppress(Exception):
                await nc.jetstream().publish(
                    self.dlq_subject,
                    msg.data,
                    headers={"Kam-Error": error[:200], "Kam-Subject": msg.subject, "Kam-Stream": self.stream},
                )
            DEAD.labels(self.service, self.stream).inc()
            log.error("dead-lettered %s from %s: %s", msg.subject, self.stream, error)
            await msg.ack()
