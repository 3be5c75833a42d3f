"""Applying replicated events at a node: idempotent by event id, newest version wins, a poison event
is retried with back-off and then dead-lettered without blocking the stream."""

import asyncio
import contextlib
import uuid
from typing import Any

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_contracts import customer_pb2
from kam_platform.db import create_database
from kam_platform.federation import declare_node_streams
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event
from kam_platform.replication import ReplicationConsumer
from kam_platform.testing.plugin import wait_for
from kam_platform.topology import Topology

from .consumers import customer_consumer

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
    node_db: str, private_nats_url: str, settings_for: Any, jwks: Any
) -> None:
    topology = Topology.load(settings_for(node_db, jwks).topology_file)
    await declare_node_streams(private_nats_url, topology, NODE)
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await js.add_stream(name=DOWN, subjects=["down.all.>"])
    settings = settings_for(node_db, jwks, node=NODE, nats_url=private_nats_url)
    db = create_database(node_db)
    consumer = customer_consumer(
        db,
        settings,
        stream=DOWN,
        filter_subjects=["down.*.customer.>"],
        nats_url=private_nats_url,
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


def _consumer(
    db: Any, settings: Any, nats_url: str, cls: type[ReplicationConsumer] = ReplicationConsumer, **kw: Any
) -> Any:
    return customer_consumer(
        db, settings, stream=DOWN, filter_subjects=["down.*.customer.>"], nats_url=nats_url, cls=cls, **kw
    )


async def test_idle_fetch_timeouts_never_drop_the_connection(
    node_db: str, private_nats_url: str, settings_for: Any, jwks: Any
) -> None:
    """nats.py ends some idle fetches with a bare asyncio.TimeoutError (empty message) instead of its
    own: that was the recurring "apply consumer …: ; retrying in …s" warning, each a reconnect."""
    settings = settings_for(node_db, jwks, node=NODE, nats_url=private_nats_url)
    nc = await nats.connect(private_nats_url)
    await nc.jetstream().add_stream(name=DOWN, subjects=["down.all.>"])
    await nc.close()
    db = create_database(node_db)
    consumer = _consumer(db, settings, private_nats_url, fetch_timeout=0.002)  # makes that race frequent
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: consumer.idle_fetches >= 500, timeout=120)
        assert consumer.reconnects == 0
    finally:
        await _stopped(consumer, task, db)


async def _stopped(consumer: ReplicationConsumer, task: asyncio.Task[None], db: Any) -> None:
    """Stop a running consumer and close its database."""
    consumer.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await db.dispose()


class _Flaky(ReplicationConsumer):
    """Injected transient faults: the inbox prune fails on the first connections (database briefly
    away), and the connection drops once right after a batch was applied and acked."""

    prune_failures = 4
    drop_after_next_batch = False

    async def prune_inbox(self) -> int:
        if self.prune_failures:
            self.prune_failures -= 1
            raise ConnectionResetError("injected: connection to the database reset")
        return await super().prune_inbox()

    async def handle(self, msgs: list[Any], nc: Any) -> None:
        await super().handle(msgs, nc)
        if self.drop_after_next_batch:
            self.drop_after_next_batch = False
            raise ConnectionResetError("injected: connection lost after the ack")


async def test_back_off_resets_after_a_healthy_batch(
    node_db: str, private_nats_url: str, settings_for: Any, jwks: Any, caplog: Any
) -> None:
    settings = settings_for(node_db, jwks, node=NODE, nats_url=private_nats_url)
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await js.add_stream(name=DOWN, subjects=["down.all.>"])
    db = create_database(node_db)
    consumer = _consumer(db, settings, private_nats_url, cls=_Flaky)
    engine = create_async_engine(node_db)

    async def applied(did: uuid.UUID) -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT 1 FROM customer.designation WHERE id = :i"), {"i": did})).first()

    task = asyncio.create_task(consumer.run())
    try:
        # four failed connections: the back-off has grown to 8 s
        first = uuid7()
        subject, payload = designation_event(first, 1, "A")
        await js.publish(subject, payload)
        await wait_for(lambda: applied(first), timeout=60)
        assert consumer.reconnects == 4
        # a healthy batch, then the connection drops: the next change must not wait out the old back-off
        consumer.drop_after_next_batch = True
        second, third = uuid7(), uuid7()
        await js.publish(*designation_event(second, 1, "B"))
        await wait_for(lambda: applied(second), timeout=30)
        await wait_for(lambda: consumer.reconnects == 5, timeout=30)
        await js.publish(*designation_event(third, 1, "C"))
        await wait_for(lambda: applied(third), timeout=3.0)  # the reset delay is 0.5 s; unreset, 8 s
        warnings = [r.getMessage() for r in caplog.records if "apply consumer" in r.getMessage()]
        assert warnings and all("ConnectionResetError: injected" in w for w in warnings), warnings
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
        await nc.close()
        await db.dispose()


class _Slow(ReplicationConsumer):
    """Applies its first batch slower than the server's ack wait."""

    delay = 3.5
    slow_batches = 0

    async def _apply_batch(self, events: Any, msgs: Any = None) -> Any:
        if not self.slow_batches:
            self.slow_batches += 1
            await asyncio.sleep(self.delay)
        return await super()._apply_batch(events, msgs)


async def test_a_batch_applied_for_longer_than_the_ack_wait_is_not_delivered_again(
    node_db: str, private_nats_url: str, settings_for: Any, jwks: Any
) -> None:
    """The server delivers an unacknowledged event again after the ack wait (15 s, so that an applier
    that died leaves its batch for only that long). While a batch is applied its events are reported in
    progress, so one applied for longer — here 3.5 s against an ack wait of 1 s — is not delivered again
    under its applier."""
    settings = settings_for(node_db, jwks, node=NODE, nats_url=private_nats_url)
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await js.add_stream(name=DOWN, subjects=["down.all.>"])
    db = create_database(node_db)
    consumer = _consumer(db, settings, private_nats_url, cls=_Slow, ack_wait=1.0)
    (durable,) = consumer.durables()
    # the server and its stream are shared with the other tests of this module: start from none of theirs
    await js.purge_stream(DOWN)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_consumer(DOWN, durable)
    task = asyncio.create_task(consumer.run())
    try:
        did = uuid7()
        subject, event = designation_event(did, 1, "A")
        await js.publish(subject, event)
        await wait_for(lambda: consumer.applied >= 1, timeout=30)
        info = await js.consumer_info(DOWN, durable)
        assert consumer.slow_batches == 1 and info.num_ack_pending == 0
        assert info.delivered.consumer_seq == 1  # delivered once
    finally:
        await nc.close()
        await _stopped(consumer, task, db)
