"""A replica that grows fast refreshes its planner statistics itself (issue 13): the apply consumer
analyzes the tables it wrote once its events have created as many records as they held at its last
analyze, so a new node catching up is not read with the plan of an empty table (`ANALYZE_AFTER_MIN`);
a backlog of updates to records already held triggers no analyze. The analyze runs beside the apply:
the batch that crosses the threshold does not wait for it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.main import MIGRATIONS
from kam_customer.models import SCHEMA
from kam_platform.db import create_database
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event
from kam_platform.replication import ANALYZE_AFTER_MIN, Event, ReplicationConsumer

from .consumers import customer_consumer
from .test_apply_integrity import customer_state


def _changed(k: int, cid: uuid.UUID, version: int = 1) -> Event:
    state = customer_state(cid, "gd-gz", version, f"统计信息测试客户{k}", f"KAGDGZSTAT{k:06d}")
    message = (
        customer_pb2.CustomerCreated(customer=state)
        if version == 1
        else customer_pb2.CustomerUpdated(customer=state, changed_fields=["name"])
    )
    _, subject, _, payload = build_event(
        node="gd-gz",
        service="customer",
        aggregate_type="customer",
        aggregate_id=str(cid),
        version=version,
        message=message,
        actor="test",
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, "UP_gd")


async def _reltuples(url: str) -> float:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return float(
                (
                    await conn.execute(
                        text(f"SELECT reltuples FROM pg_class WHERE oid = '{SCHEMA}.customer'::regclass")
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _replica(
    make_database: Any, settings_for: Any, jwks: Any, name: str, nats_url: str
) -> AsyncIterator[tuple[str, ReplicationConsumer]]:
    """A fresh gd replica's database and its customer apply consumer."""
    url: str = make_database(name, [MIGRATIONS])
    db = create_database(url)
    try:
        yield url, customer_consumer(db, settings_for(url, jwks, node="gd"), nats_url=nats_url)
    finally:
        await db.dispose()


async def test_a_fast_growing_replica_analyzes_the_tables_its_events_wrote(
    make_database: Any, settings_for: Any, jwks: Any
) -> None:
    async with _replica(make_database, settings_for, jwks, "test_customer_apply_statistics", "") as (url, consumer):
        ids = [uuid7() for _ in range(ANALYZE_AFTER_MIN + 500)]
        events = [_changed(k, cid) for k, cid in enumerate(ids)]
        assert await consumer._apply_batch(events[:500]) == []
        # below the threshold: not analyzed by the consumer, the planner still sees no rows
        assert consumer.analyzed_rows == 0
        assert await _reltuples(url) < 500
        assert not consumer.analyzing
        for i in range(500, len(events), 500):
            assert await consumer._apply_batch(events[i : i + 500]) == []
            if i + 500 == ANALYZE_AFTER_MIN:
                # the batch that crossed the threshold has committed and returned; its analyze is
                # still to run, on a connection of its own
                assert consumer.analyzing and consumer.analyzes == 0
        await consumer.statistics_refreshed()
        # past it: analyzed, and the next analyze waits until the table has doubled again
        assert not consumer.analyzing
        assert consumer.analyzed_rows >= ANALYZE_AFTER_MIN
        assert await _reltuples(url) >= ANALYZE_AFTER_MIN
        analyzes = consumer.analyzes
        # a backlog of updates to the records held (twice as many events as rows) grows nothing: the
        # statistics stay true and are not refreshed again
        for version in (2, 3):
            updates = [_changed(k, cid, version) for k, cid in enumerate(ids)]
            for i in range(0, len(updates), 500):
                assert await consumer._apply_batch(updates[i : i + 500]) == []
        await consumer.statistics_refreshed()
        assert consumer.analyzes == analyzes


async def test_a_consumer_stopping_lets_the_analyze_beside_it_finish(
    make_database: Any, settings_for: Any, jwks: Any
) -> None:
    # nothing listens at that address: run() only retries until it is stopped
    async with _replica(
        make_database, settings_for, jwks, "test_customer_apply_statistics_stop", "nats://127.0.0.1:1"
    ) as (url, consumer):
        events = [_changed(k, uuid7()) for k in range(ANALYZE_AFTER_MIN)]
        assert await consumer._apply_batch(events) == []
        assert consumer.analyzing and consumer.analyzed_rows == 0
        task = asyncio.create_task(consumer.run())
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # the ANALYZE ran to its end (not cancelled mid-statement, which breaks its connection)
        assert not consumer.analyzing
        assert consumer.analyzes == 1 and consumer.analyzed_rows >= ANALYZE_AFTER_MIN
        assert await _reltuples(url) >= ANALYZE_AFTER_MIN
