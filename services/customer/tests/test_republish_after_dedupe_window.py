"""A relay that republishes an event after JetStream's duplicate window (a lost sent mark found late)
puts a second copy on the stream — nats-server's Nats-Msg-Id dedupe no longer covers it — and the
ancestor applies it once: the inbox, keyed by event id, is the guarantee, not the stream.

Real pieces end to end: gd-gz's customer app with its outbox relay, gd-gz's upward stream (its window
shortened to 1 s so the test can pass it), and gd's apply consumer on its own database."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_customer.main import MIGRATIONS, create_app
from kam_platform.db import create_database
from kam_platform.federation import declare_node_streams
from kam_platform.testing.plugin import app_client, wait_for
from kam_platform.topology import Topology

from .consumers import customer_consumer

URL = "/tmf-api/customerManagement/v4/customer"
OWNER, PARENT, STREAM = "gd-gz", "gd", "UP_gd-gz"
WINDOW = 1.0  # seconds of duplicate window on the test stream


@pytest.fixture
def owner_db(make_database: Any) -> str:
    url: str = make_database("test_dedupe_window_owner", [MIGRATIONS])
    return url


@pytest.fixture
def parent_db(make_database: Any) -> str:
    url: str = make_database("test_dedupe_window_parent", [MIGRATIONS])
    return url


async def test_an_event_republished_after_the_duplicate_window_is_applied_once(
    owner_db: str, parent_db: str, private_nats_url: str, jwks: Any, auth: Any, customer_body: Any, settings_for: Any
) -> None:
    owner_settings = settings_for(owner_db, jwks, relay_enabled=True, nats_url=private_nats_url, relay_poll_seconds=0.2)
    topology = Topology.load(owner_settings.topology_file)
    await declare_node_streams(private_nats_url, topology, OWNER)
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream(timeout=30.0)
    config = (await js.stream_info(STREAM)).config
    config.duplicate_window = WINDOW
    await js.update_stream(config)
    owner_engine = create_async_engine(owner_db)
    parent_engine = create_async_engine(parent_db)

    async def one(engine: Any, sql: str, **params: Any) -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    app = create_app(owner_settings)
    parent_settings = settings_for(parent_db, jwks, node=PARENT, nats_url=private_nats_url)
    parent = create_database(parent_db)
    consumer = customer_consumer(
        parent, parent_settings, stream=STREAM, filter_subjects=["up.*.customer.>"], nats_url=private_nats_url
    )
    try:
        async with app.router.lifespan_context(app), await app_client(app) as client:
            r = await client.post(URL, json=customer_body(name="去重窗口测试客户"), headers=auth())
            assert r.status_code == 201, r.text
            cid = r.json()["id"]
            subject = f"up.{OWNER}.customer.customer.{cid}"
            event_id = await one(owner_engine, "SELECT id::text FROM customer.outbox WHERE aggregate_id = :a", a=cid)

            async def copies() -> int:
                info = await js.stream_info(STREAM, subjects_filter=subject)
                return int((info.state.subjects or {}).get(subject, 0))

            async def sent() -> bool | None:
                n = await one(
                    owner_engine,
                    "SELECT count(*) FROM customer.outbox WHERE aggregate_id = :a AND sent_at IS NULL",
                    a=cid,
                )
                return True if n == 0 else None

            await wait_for(sent, timeout=30)
            assert await copies() == 1
            await asyncio.sleep(WINDOW * 1.5)  # past the window: nats-server forgets the Nats-Msg-Id
            async with owner_engine.begin() as conn:  # the sent mark is lost (e.g. a crash before it committed)
                await conn.execute(
                    text("UPDATE customer.outbox SET sent_at = NULL WHERE aggregate_id = :a"), {"a": cid}
                )
            await wait_for(sent, timeout=30)
            # the relay published the same event again, and this time the stream kept both copies
            assert await copies() == 2
            msgs = [await js.get_msg(STREAM, seq) for seq in await _sequences(js, subject)]
            assert [m.headers["Nats-Msg-Id"] for m in msgs] == [event_id, event_id]

        task = asyncio.create_task(consumer.run())
        try:

            async def settled() -> Any:
                info = await js.consumer_info(STREAM, f"customer-apply-{STREAM}")
                return (
                    info if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq else None
                )

            await wait_for(
                lambda: one(parent_engine, "SELECT 1 FROM customer.customer WHERE id = :i", i=cid), timeout=30
            )
            await wait_for(settled, timeout=30)
        finally:
            consumer.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert await one(parent_engine, "SELECT version FROM customer.customer WHERE id = :i", i=cid) == 1
        assert (
            await one(parent_engine, "SELECT count(*) FROM customer.inbox WHERE event_id::text = :e", e=event_id) == 1
        )
        assert await one(parent_engine, "SELECT count(*) FROM customer.audit WHERE entity_id = :i", i=cid) == await one(
            owner_engine, "SELECT count(*) FROM customer.audit WHERE entity_id = :i", i=cid
        )
        assert await one(parent_engine, "SELECT count(*) FROM customer.dead_letter") == 0
    finally:
        await nc.close()
        await owner_engine.dispose()
        await parent_engine.dispose()
        await parent.dispose()


async def _sequences(js: Any, subject: str) -> list[int]:
    """Stream sequences of the messages on `subject` (an ephemeral ordered read from the start)."""
    sub = await js.subscribe(subject, ordered_consumer=True, deliver_policy=nats.js.api.DeliverPolicy.ALL)
    seqs: list[int] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                return seqs
            seqs.append(msg.metadata.sequence.stream)
    finally:
        await sub.unsubscribe()
