"""Applying replicated events at a node: idempotent by event id, newest version wins, a poison event
is retried with back-off and then dead-lettered without blocking the stream."""

import asyncio
import uuid
from typing import Any

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_contracts import customer_pb2
from kam_customer.models import SCHEMA
from kam_customer.replication.handlers import CustomerApplier
from kam_platform.db import create_database
from kam_platform.federation import declare_node_streams
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event
from kam_platform.replication import ReplicationConsumer
from kam_platform.testing.plugin import wait_for
from kam_platform.topology import Topology

NODE = "gd-gz"
# The group's downward stream as it reaches gd-gz (here captured directly: one server, no sourcing)
DOWN = "DOWN_ALL_AT_GDGZ"


@pytest.fixture
async def node_db(make_database: Any) -> str:
    from kam_customer.main import MIGRATIONS

    url: str = make_database("test_customer_apply", [MIGRATIONS])
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE customer.inbox, customer.dead_letter, customer.designation"))
    await engine.dispose()
    return url


def designation_event(did: uuid.UUID, version: int, grade: str, *, payload: bytes | None = None) -> tuple[str, bytes]:
    state = customer_pb2.DesignationState(
        id=str(did),
        owner_node="hq",
        version=version,
        customer_id=str(uuid7()),
        customer_code="KAX1",
        customer_name="中国工商银行广州分行",
        customer_owner_node=NODE,
        grade=grade,
        status="ACTIVE",
        designated_by="hq-admin",
    )
    _, _, _, envelope = build_event(
        node="hq",
        service="customer",
        aggregate_type="designation",
        aggregate_id=str(did),
        version=version,
        message=customer_pb2.DesignationChanged(designation=state),
        actor="hq-admin",
        down_scope="all",
    )
    if payload is not None:  # a poison event: a valid envelope whose payload cannot be applied
        from kam_contracts import envelope_pb2

        env = envelope_pb2.Envelope.FromString(envelope)
        env.payload = payload
        envelope = env.SerializeToString()
    return f"down.all.customer.designation.{did}", envelope


async def test_apply_is_idempotent_keeps_newest_and_dead_letters_poison(
    node_db: str, nats_url: str, settings_for: Any, jwks: Any
) -> None:
    topology = Topology.load(settings_for(node_db, jwks).topology_file)
    await declare_node_streams(nats_url, topology, NODE)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=DOWN, subjects=["down.all.>"])
    settings = settings_for(node_db, jwks, node=NODE, nats_url=nats_url)
    db = create_database(node_db)
    consumer = ReplicationConsumer(
        sessionmaker=db.sessionmaker,
        nats_url=nats_url,
        service="customer",
        schema=SCHEMA,
        node=NODE,
        stream=DOWN,
        filter_subjects=["down.*.customer.>"],
        apply=CustomerApplier(settings),
        max_deliver=3,
        backoff=(0.1, 0.2),
    )
    task = asyncio.create_task(consumer.run())
    try:
        did = uuid7()
        subject, v2 = designation_event(did, 2, "A")
        await js.publish(subject, v2, headers={"Nats-Msg-Id": "v2"})
        _, v1 = designation_event(did, 1, "C")
        await js.publish(subject, v1, headers={"Nats-Msg-Id": "v1"})  # older, arrives later
        await js.publish(subject, v2, headers={"Nats-Msg-Id": "v2-again"})  # same event redelivered
        poison_subject, poison = designation_event(uuid7(), 1, "A", payload=b"\xff\xfe not a designation")
        await js.publish(poison_subject, poison, headers={"Nats-Msg-Id": "poison"})
        after_id = uuid7()
        after_subject, after = designation_event(after_id, 1, "B")
        await js.publish(after_subject, after, headers={"Nats-Msg-Id": "after"})

        engine = create_async_engine(node_db)

        async def row(sql: str, **params: Any) -> Any:
            async with engine.connect() as conn:
                return (await conn.execute(text(sql), params)).first()

        await wait_for(lambda: row("SELECT 1 FROM customer.designation WHERE id = :i", i=after_id), timeout=30)
        got = await row("SELECT version, grade FROM customer.designation WHERE id = :i", i=did)
        assert (got.version, got.grade) == (2, "A")  # the older version never overwrote the newer one
        inbox = await row("SELECT count(*) AS n FROM customer.inbox")
        assert inbox.n == 3  # v2, v1, after — the redelivered v2 was recognised by its event id
        dead = await wait_for(lambda: row("SELECT deliveries, subject, error FROM customer.dead_letter"), timeout=30)
        assert dead.subject == poison_subject and dead.deliveries == 3
        dlq = await js.stream_info(f"DLQ_{NODE}")
        assert dlq.state.messages == 1
        info = await wait_for(lambda: _settled(js), timeout=30)
        assert info.num_ack_pending == 0 and info.num_pending == 0
        await engine.dispose()
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await nc.close()
        await db.dispose()


async def _settled(js: Any) -> Any:
    info = await js.consumer_info(DOWN, f"customer-apply-{DOWN}")
    return info if info.num_ack_pending == 0 and info.num_pending == 0 else None
