"""A fetch of large events is applied in transactions of at most `batch_bytes` of payload each (issue
13: an import's CustomersImported events carry 5,000 customers each, and a fetch of 500 of them was one
transaction of up to 2,500,000 rows, 2.3 GB of the group's node process), and the next fetch asks for
about that much. Every event is still applied once, in order."""

from __future__ import annotations

from typing import Any

from kam_customer.models import SCHEMA
from kam_platform.ids import uuid7
from kam_platform.testing.plugin import wait_for

from .test_apply_filters import created, replica, running

STREAM = "UP_BATCH_BYTES_TEST"


async def test_large_events_are_applied_in_transactions_of_bounded_size(
    private_nats_url: str, make_database: Any, settings_for: Any, jwks: Any
) -> None:
    async with replica(
        private_nats_url, make_database, settings_for, jwks, database="test_customer_apply_batch_bytes", stream=STREAM
    ) as r:
        events = [created(uuid7(), f"按字节分批的客户{k}") for k in range(6)]
        for subject, payload in events:  # all in the stream before the first fetch
            await r.js.publish(subject, payload)
        size = max(len(p) for _, p in events)
        consumer = r.consumer(["up.*.customer.>"], batch_bytes=2 * size)  # two events per transaction
        customers = f"SELECT count(*) >= 6 FROM {SCHEMA}.customer"
        async with running(consumer):
            await wait_for(lambda: r.scalar(customers), timeout=30)
            assert consumer.applied == 6
            assert consumer.batches == 3
            # one transaction per group: the inbox rows carry three transaction times
            assert await r.scalar(f"SELECT count(DISTINCT applied_at) FROM {SCHEMA}.inbox") == 3
            info = await r.js.consumer_info(STREAM, f"customer-apply-{STREAM}")
            assert info.num_pending == 0 and info.num_ack_pending == 0
