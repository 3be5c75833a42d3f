"""A fetch of large events is applied in transactions of at most `batch_bytes` of payload each (issue
13: an import's CustomersImported events carry 5,000 customers each, and a fetch of 500 of them was one
transaction of up to 2,500,000 rows, 2.3 GB of the group's node process), and the next fetch asks for
about that much. Every event is still applied once, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_customer.main import MIGRATIONS
from kam_customer.models import SCHEMA
from kam_customer.replication.handlers import CustomerApplier
from kam_platform.db import create_database
from kam_platform.ids import uuid7
from kam_platform.replication import ReplicationConsumer
from kam_platform.testing.plugin import wait_for

from .test_apply_filters import created

STREAM = "UP_BATCH_BYTES_TEST"


async def test_large_events_are_applied_in_transactions_of_bounded_size(
    private_nats_url: str, make_database: Any, settings_for: Any, jwks: Any
) -> None:
    url: str = make_database("test_customer_apply_batch_bytes", [MIGRATIONS])
    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["up.>"])
    events = [created(uuid7(), f"按字节分批的客户{k}") for k in range(6)]
    for subject, payload in events:  # all in the stream before the first fetch
        await js.publish(subject, payload)
    size = max(len(p) for _, p in events)
    db = create_database(url)
    engine = create_async_engine(url)
    consumer = ReplicationConsumer(
        sessionmaker=db.sessionmaker,
        nats_url=private_nats_url,
        service="customer",
        schema=SCHEMA,
        node="gd",
        stream=STREAM,
        filter_subjects=["up.*.customer.>"],
        apply=CustomerApplier(settings_for(url, jwks, node="gd", nats_url=private_nats_url)),
        batch_bytes=2 * size,  # two events per transaction
    )

    async def customers() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.customer"))).scalar_one())

    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: _at_least(customers, 6), timeout=30)
        assert consumer.applied == 6
        assert consumer.batches == 3
        async with engine.connect() as conn:
            # one transaction per group: the inbox rows carry three transaction times
            stamps = (await conn.execute(text(f"SELECT count(DISTINCT applied_at) FROM {SCHEMA}.inbox"))).scalar_one()
        assert stamps == 3
        info = await js.consumer_info(STREAM, f"customer-apply-{STREAM}")
        assert info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()
        await db.dispose()
        await nc.close()


async def _at_least(count: Any, n: int) -> bool:
    return bool(await count() >= n)
