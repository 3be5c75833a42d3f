"""The outbox relay publishes committed events to the node's own JetStream, exactly once."""

import asyncio
from typing import Any

import asyncpg
import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.main import create_app
from kam_platform.federation import declare_node_streams
from kam_platform.ids import uuid7
from kam_platform.outbox import OutboxRelay
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import app_client, wait_for
from kam_platform.topology import Topology

URL = "/tmf-api/customerManagement/v4/customer"
DEMO = topology_file("demo")


@pytest.fixture
async def relay_db(make_database: Any) -> str:
    from kam_customer.main import MIGRATIONS

    url: str = make_database("test_customer_relay", [MIGRATIONS])
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE customer.outbox, customer.audit, customer.account_manager_assignment, "
                "customer.contact, customer.customer, customer.organization CASCADE"  # and what refers to them
            )
        )
    await engine.dispose()
    return url


async def test_created_customer_arrives_on_the_node_stream_with_msg_id(
    relay_db: str, nats_url: str, jwks: Any, auth: Any, customer_body: Any, settings_for: Any
) -> None:
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    app = create_app(settings_for(relay_db, jwks, relay_enabled=True, nats_url=nats_url, relay_poll_seconds=0.2))
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30.0)  # the machine may be loaded: no spurious API timeouts
    async with app.router.lifespan_context(app), await app_client(app) as client:
        r = await client.post(URL, json=customer_body(name="中国银行广州分行"), headers=auth())
        assert r.status_code == 201
        cid = r.json()["id"]
        sub = await js.pull_subscribe(f"up.gd-gz.customer.customer.{cid}", durable=None, stream="UP_gd-gz")
        msgs = await wait_for(lambda: _fetch(sub), timeout=20)
        env = envelope_pb2.Envelope.FromString(msgs[0].data)
        assert env.event_type == "kam.v1.CustomerCreated" and env.aggregate_id == cid
        assert msgs[0].headers["Nats-Msg-Id"] == env.event_id
        assert customer_pb2.CustomerCreated.FromString(env.payload).customer.name == "中国银行广州分行"
        engine = create_async_engine(relay_db)
        async with engine.connect() as conn:
            unsent = await wait_for(lambda: _unsent(conn), timeout=20)
        await engine.dispose()
        assert unsent == "none"
    await nc.close()


async def _fetch(sub: Any) -> list[Any]:
    try:
        return await sub.fetch(1, timeout=0.5)  # type: ignore[no-any-return]
    except nats.errors.TimeoutError:
        return []


async def _unsent(conn: Any) -> str | None:
    n = (await conn.execute(text("SELECT count(*) FROM customer.outbox WHERE sent_at IS NULL"))).scalar()
    await conn.rollback()
    return "none" if n == 0 else None


async def test_only_one_relay_leads_and_another_takes_over_when_the_leader_dies(relay_db: str, nats_url: str) -> None:
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    a = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz", poll_seconds=0.2)
    b = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz", poll_seconds=0.2)
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    engine = create_async_engine(relay_db)
    nc = await nats.connect(nats_url)
    try:
        leader = await wait_for(lambda: a if a.is_leader else b if b.is_leader else None, timeout=10)
        follower = b if leader is a else a
        # the follower polls for the lock every 2 s: give it two chances to (wrongly) take it too
        await asyncio.sleep(4.5)
        assert [a.is_leader, b.is_leader].count(True) == 1
        # the leader dies as in a crash (its task is gone, its database session killed): its
        # advisory lock goes with the session, and the follower must take over
        leader_task = tasks[0] if leader is a else tasks[1]
        leader_task.cancel()
        async with engine.begin() as conn:
            killed = (
                await conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE pid <> pg_backend_pid() AND pid IN (SELECT pid FROM pg_locks "
                        "WHERE locktype = 'advisory' AND granted)"
                    )
                )
            ).scalar()
        assert killed <= 1
        await wait_for(lambda: follower.is_leader, timeout=20)
        row_id = uuid7()
        subject = f"up.gd-gz.customer.customer.failover-{row_id}"
        async with engine.begin() as conn:
            await _insert_row(conn, row_id, subject, b"after-failover")
        sub = await nc.jetstream().pull_subscribe(subject, durable=None, stream="UP_gd-gz")
        msgs = await wait_for(lambda: _fetch(sub), timeout=20)
        assert msgs[0].headers["Nats-Msg-Id"] == str(row_id)
    finally:
        for r in (a, b):
            r.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()
        await engine.dispose()


async def _insert_row(conn: Any, row_id: Any, subject: str, payload: bytes, version: int = 1) -> None:
    await conn.execute(
        text(
            "INSERT INTO customer.outbox (id, subject, event_type, aggregate_id, version, payload) "
            "VALUES (:id, :subject, 'kam.v1.Test', :agg, :version, :payload)"
        ),
        {"id": row_id, "subject": subject, "agg": subject.rsplit(".", 1)[-1], "version": version, "payload": payload},
    )


async def _stream_ids(js: Any, subject: str) -> list[str]:
    """Nats-Msg-Ids of every message on `subject` in UP_gd-gz, in stream order."""
    return [i for _, i in await _stream_messages(js, subject)]


async def _stream_messages(js: Any, subject: str) -> list[tuple[str, str]]:
    """(subject, Nats-Msg-Id) of every message on `subject` in UP_gd-gz, in stream order."""
    sub = await js.pull_subscribe(subject, durable=None, stream="UP_gd-gz")
    out: list[tuple[str, str]] = []
    while batch := await _fetch_many(sub):
        for m in batch:
            out.append((m.subject, m.headers["Nats-Msg-Id"]))
            await m.ack()  # unacked messages would stop the consumer at its max_ack_pending
    await sub.unsubscribe()
    return out


async def _fetch_many(sub: Any) -> list[Any]:
    try:
        return await sub.fetch(500, timeout=1.0)  # type: ignore[no-any-return]
    except nats.errors.TimeoutError:
        return []


async def test_relay_publishes_every_row_once_and_a_lost_sent_mark_republishes_without_duplicates(
    relay_db: str, nats_url: str
) -> None:
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    engine = create_async_engine(relay_db)
    prefix = f"up.gd-gz.customer.once{uuid7().hex[:8]}"
    rows = [(uuid7(), f"{prefix}.{i % 40}", i // 40 + 1) for i in range(1200)]  # > 2 batches, 40 aggregates
    async with engine.begin() as conn:
        for row_id, subject, version in rows:
            await _insert_row(conn, row_id, subject, b"x", version)
    relay = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz", poll_seconds=0.2)
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30.0)  # the machine may be loaded: no spurious API timeouts
    try:
        task = asyncio.create_task(relay.run())
        async with engine.connect() as conn:
            await wait_for(lambda: _unsent(conn), timeout=60)
        published = await _stream_messages(js, f"{prefix}.*")
        assert sorted(i for _, i in published) == sorted(str(r[0]) for r in rows)  # every row, exactly once
        # per aggregate, the stream holds the rows in the order they were written
        expected: dict[str, list[str]] = {}
        for row_id, subject, _ in rows:
            expected.setdefault(subject, []).append(str(row_id))
        on_stream: dict[str, list[str]] = {}
        for subject, msg_id in published:
            on_stream.setdefault(subject, []).append(msg_id)
        assert on_stream == expected
        # the relay died after the PubAcks but before marking the rows sent: it publishes them again,
        # with the same Nats-Msg-Id, and the stream keeps one copy of each
        relay.stop()
        await task
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE customer.outbox SET sent_at = NULL WHERE subject LIKE :p"), {"p": prefix + "%"}
            )
        relay = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz", poll_seconds=0.2)
        task = asyncio.create_task(relay.run())
        async with engine.connect() as conn:
            await wait_for(lambda: _unsent(conn), timeout=60)
        assert sorted(await _stream_ids(js, f"{prefix}.*")) == sorted(str(r[0]) for r in rows)
    finally:
        relay.stop()
        await asyncio.gather(task, return_exceptions=True)
        await nc.close()
        await engine.dispose()


async def test_a_failed_publish_holds_back_later_rows_of_the_same_aggregate_only(relay_db: str, nats_url: str) -> None:
    """500 publishes go out concurrently; a failure must not let a later version of the same
    aggregate reach the stream (and be marked sent) before the earlier one."""
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    engine = create_async_engine(relay_db)
    tag = uuid7().hex[:8]
    a, b = f"up.gd-gz.customer.hold{tag}.a", f"up.gd-gz.customer.hold{tag}.b"
    a1, a2, b1 = uuid7(), uuid7(), uuid7()
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE customer.outbox SET sent_at = now() WHERE sent_at IS NULL"))
        await _insert_row(conn, a1, a, b"v1" * 40_000, 1)  # larger than the stream accepts: PubAck error
        await _insert_row(conn, a2, a, b"v2", 2)
        await _insert_row(conn, b1, b, b"v1", 1)
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30.0)  # the machine may be loaded: no spurious API timeouts
    info = await js.stream_info("UP_gd-gz")
    config = info.config
    config.max_msg_size = 10_000
    await js.update_stream(config)
    relay = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz")
    conn = await asyncpg.connect(relay.dsn)
    try:
        with pytest.raises(RuntimeError, match="2 of 3 events not acked"):
            await relay.publish_batch(conn, js)
        sent = {
            r["id"]: r["sent_at"]
            for r in await conn.fetch(
                "SELECT id, sent_at FROM customer.outbox WHERE id = ANY($1::uuid[])", [a1, a2, b1]
            )
        }
        assert sent[b1] is not None  # another aggregate is not held back
        assert sent[a1] is None and sent[a2] is None
        assert await _stream_ids(js, a) == []
        config.max_msg_size = -1
        await js.update_stream(config)
        assert await relay.publish_batch(conn, js) == 2
        assert await _stream_ids(js, a) == [str(a1), str(a2)]
    finally:
        config.max_msg_size = -1
        await js.update_stream(config)
        await conn.close()
        await nc.close()
        await engine.dispose()


async def test_large_rows_go_out_in_batches_of_bounded_bytes_in_order_without_waiting(
    relay_db: str, nats_url: str
) -> None:
    """An import's batch events are up to a megabyte each: a relay batch reads at most `batch_bytes` of
    payload (a larger row alone), and the next batch follows at once rather than after the poll."""
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    engine = create_async_engine(relay_db)
    prefix = f"up.gd-gz.customer.bulk{uuid7().hex[:8]}"
    rows = [(uuid7(), f"{prefix}.{i % 3}", i // 3 + 1) for i in range(12)]
    async with engine.begin() as conn:
        for row_id, subject, version in rows:
            await _insert_row(conn, row_id, subject, b"y" * 40_000, version)
    # three rows per batch; a poll far longer than the test may wait
    relay = OutboxRelay(
        database_url=relay_db,
        nats_url=nats_url,
        schema="customer",
        node="gd-gz",
        batch_bytes=100_000,
        poll_seconds=3600,
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30.0)
    conn = await asyncpg.connect(relay.dsn)
    task: asyncio.Task[None] | None = None
    try:
        first = await relay.publish_batch(conn, js)
        assert first == 3 and relay.more_pending
        task = asyncio.create_task(relay.run())
        async with engine.connect() as sa_conn:
            await wait_for(lambda: _unsent(sa_conn), timeout=30)
        published = await _stream_messages(js, f"{prefix}.*")
        assert sorted(i for _, i in published) == sorted(str(r[0]) for r in rows)
        # per aggregate in the order written (aggregates are published side by side within a batch)
        for subject in {s for _, s, _ in rows}:
            assert [i for s, i in published if s == subject] == [str(r) for r, s, _ in rows if s == subject]
        assert not relay.more_pending
    finally:
        relay.stop()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await conn.close()
        await nc.close()
        await engine.dispose()
