"""The customer service's apply consumer as the tests build it (one place for its many arguments)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kam_customer.models import SCHEMA
from kam_customer.replication.handlers import CustomerApplier
from kam_platform.db import Database
from kam_platform.replication import ReplicationConsumer
from kam_platform.settings import Settings


def customer_consumer(
    db: Database,
    settings: Settings,
    *,
    stream: str = "UP_gd",
    filter_subjects: Sequence[str] = (),
    nats_url: str | None = None,
    cls: type[ReplicationConsumer] = ReplicationConsumer,
    **options: Any,
) -> ReplicationConsumer:
    """An apply consumer of `stream` at `settings.node`, writing `db` through `CustomerApplier(settings)`;
    `nats_url` defaults to the settings' (a test that hands batches to `_apply_batch` needs none)."""
    return cls(
        sessionmaker=db.sessionmaker,
        nats_url=settings.nats_url if nats_url is None else nats_url,
        service="customer",
        schema=SCHEMA,
        node=settings.node,
        stream=stream,
        filter_subjects=list(filter_subjects),
        apply=CustomerApplier(settings),
        **options,
    )
