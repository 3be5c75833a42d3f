"""An apply consumer with several filter subjects runs one single-filter JetStream durable per subject
(issue 13: the server's multi-filter path delivered ~1,000 events/s at a full core, which was the whole
in-federation catch-up rate). An older release's multi-filter durable is taken over in place, keeping
its position in the stream."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.main import MIGRATIONS
from kam_customer.models import SCHEMA
from kam_customer.replication.handlers import CustomerApplier
from kam_platform.db import create_database
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event, ts
from kam_platform.replication import ReplicationConsumer
from kam_platform.testing.plugin import wait_for

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


async def test_one_single_filter_durable_per_subject_taking_over_an_older_multi_filter_one(
    private_nats_url: str, make_database: Any, settings_for: Any, jwks: Any
) -> None:
    url: str = make_database("test_customer_apply_filters", [MIGRATIONS])
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["up.>"])
    db = create_database(url)
    engine = create_async_engine(url)

    async def applied(eid: uuid.UUID) -> bool:
        async with engine.connect() as conn:
            row = await conn.execute(text(f"SELECT 1 FROM {SCHEMA}.inbox WHERE event_id = :e"), {"e": eid})
            return row.first() is not None

    # an older release's durable: both subjects in one consumer, already past the first event
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=DURABLE,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subjects=FILTERS,
        ),
    )
    early_subject, early = created(uuid7(), "旧版本已确认的客户")
    await js.publish(early_subject, early)
    old = await js.pull_subscribe_bind(DURABLE, STREAM)
    (msg,) = await old.fetch(1, timeout=5)
    await msg.ack_sync()
    await old.unsubscribe()

    consumer = ReplicationConsumer(
        sessionmaker=db.sessionmaker,
        nats_url=private_nats_url,
        service="customer",
        schema=SCHEMA,
        node="gd",
        stream=STREAM,
        filter_subjects=FILTERS,
        apply=CustomerApplier(settings_for(url, jwks, node="gd", nats_url=private_nats_url)),
    )
    assert consumer.durables() == {DURABLE: FILTERS[0], f"{DURABLE}-up_sync": FILTERS[1]}
    task = asyncio.create_task(consumer.run())
    try:
        cid = uuid7()
        subject, payload = created(cid, "拆分过滤主题后的客户")
        await js.publish(subject, payload)
        r_subject, request = resync_request(uuid7())
        await js.publish(r_subject, request)
        # both subjects are applied, each through its own durable
        await wait_for(lambda: applied(event_id(payload)), timeout=30)
        await wait_for(lambda: applied(event_id(request)), timeout=30)
        for durable, subject_filter in consumer.durables().items():
            info = await js.consumer_info(STREAM, durable)
            assert info.config.filter_subject == subject_filter
            assert not info.config.filter_subjects
        # the taken-over durable kept its position: the event it had delivered was not delivered again
        info = await js.consumer_info(STREAM, DURABLE)
        assert info.delivered.stream_seq == 2 and info.num_pending == 0
        assert not await applied(event_id(early))
        async with engine.connect() as conn:
            names = (await conn.execute(text(f"SELECT name FROM {SCHEMA}.customer"))).scalars().all()
        assert names == ["拆分过滤主题后的客户"]
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
        await db.dispose()
        await nc.close()
