"""An apply consumer with several filter subjects runs one single-filter JetStream durable per subject
(issue 13: the server's multi-filter path delivered ~1,000 events/s at a full core, which was the whole
in-federation catch-up rate). An older release's multi-filter durable is taken over in place, keeping
its position in the stream."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.main import MIGRATIONS
from kam_customer.models import SCHEMA
from kam_platform.db import create_database
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event, ts
from kam_platform.replication import ReplicationConsumer
from kam_platform.testing.plugin import wait_for

from .consumers import customer_consumer
from .test_apply_integrity import customer_state, event

STREAM = "UP_FILTERS_TEST"
FILTERS = ["up.*.customer.>", "up.*.sync.>"]
DURABLE = f"customer-apply-{STREAM}"


def created(cid: uuid.UUID, name: str) -> tuple[str, bytes]:
    return event(
        "gd-gz", "customer", cid, 1, customer_pb2.CustomerCreated(customer=customer_state(cid, "gd-gz", 1, name))
    )


def resync_request(rid: uuid.UUID) -> tuple[str, bytes]:
    _, subject, _, payload = build_event(
        node="gd-gz",
        service="sync",
        aggregate_type="resync",
        aggregate_id=str(rid),
        version=1,
        message=envelope_pb2.ResyncRequested(id=str(rid), node="gd-gz", requested_by="admin", requested_at=ts()),
        actor="admin",
    )
    return subject, payload


def event_id(payload: bytes) -> uuid.UUID:
    return uuid.UUID(envelope_pb2.Envelope.FromString(payload).event_id)


@dataclass
class Replica:
    """gd's customer database and a test stream of its own on a private nats-server."""

    url: str
    nats_url: str
    stream: str
    js: Any
    db: Any
    engine: AsyncEngine
    settings: Any

    def consumer(self, filters: list[str], **options: Any) -> ReplicationConsumer:
        return customer_consumer(
            self.db, self.settings, stream=self.stream, filter_subjects=filters, nats_url=self.nats_url, **options
        )

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def applied(self, eid: uuid.UUID) -> bool:
        return bool(await self.scalar(f"SELECT count(*) FROM {SCHEMA}.inbox WHERE event_id = :e", e=eid))


@contextlib.asynccontextmanager
async def replica(
    nats_url: str, make_database: Any, settings_for: Any, jwks: Any, *, database: str, stream: str
) -> AsyncIterator[Replica]:
    url: str = make_database(database, [MIGRATIONS])
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=["up.>"])
    db = create_database(url)
    engine = create_async_engine(url)
    try:
        yield Replica(url, nats_url, stream, js, db, engine, settings_for(url, jwks, node="gd", nats_url=nats_url))
    finally:
        await engine.dispose()
        await db.dispose()
        await nc.close()


@contextlib.asynccontextmanager
async def running(consumer: ReplicationConsumer) -> AsyncIterator[None]:
    task = asyncio.create_task(consumer.run())
    try:
        yield
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_one_single_filter_durable_per_subject_taking_over_an_older_multi_filter_one(
    private_nats_url: str, make_database: Any, settings_for: Any, jwks: Any
) -> None:
    async with replica(
        private_nats_url, make_database, settings_for, jwks, database="test_customer_apply_filters", stream=STREAM
    ) as r:
        # an older release's durable: both subjects in one consumer, already past the first event
        await r.js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=DURABLE,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subjects=FILTERS,
            ),
        )
        early_subject, early = created(uuid7(), "旧版本已确认的客户")
        await r.js.publish(early_subject, early)
        old = await r.js.pull_subscribe_bind(DURABLE, STREAM)
        (msg,) = await old.fetch(1, timeout=5)
        await msg.ack_sync()
        await old.unsubscribe()

        consumer = r.consumer(FILTERS)
        assert consumer.durables() == {DURABLE: FILTERS[0], f"{DURABLE}-up_sync": FILTERS[1]}
        async with running(consumer):
            subject, payload = created(uuid7(), "拆分过滤主题后的客户")
            await r.js.publish(subject, payload)
            r_subject, request = resync_request(uuid7())
            await r.js.publish(r_subject, request)
            # both subjects are applied, each through its own durable
            await wait_for(lambda: r.applied(event_id(payload)), timeout=30)
            await wait_for(lambda: r.applied(event_id(request)), timeout=30)
            for durable, subject_filter in consumer.durables().items():
                info = await r.js.consumer_info(STREAM, durable)
                assert info.config.filter_subject == subject_filter
                assert not info.config.filter_subjects
            # the taken-over durable kept its position: the event it had delivered was not delivered again
            info = await r.js.consumer_info(STREAM, DURABLE)
            assert info.delivered.stream_seq == 2 and info.num_pending == 0
            assert not await r.applied(event_id(early))
            async with r.engine.connect() as conn:
                names = (await conn.execute(text(f"SELECT name FROM {SCHEMA}.customer"))).scalars().all()
            assert names == ["拆分过滤主题后的客户"]
