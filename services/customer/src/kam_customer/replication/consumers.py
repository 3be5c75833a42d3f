"""Start the customer service's apply consumers on the node's inbound streams (lifespan hook)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kam_customer.models import SCHEMA
from kam_platform.federation import inbound_streams
from kam_platform.replication import ReplicationConsumer
from kam_platform.settings import Settings

from .handlers import CustomerApplier

SUBJECTS = ("customer", "sync")


def consumers_for(app: FastAPI, settings: Settings) -> list[ReplicationConsumer]:
    applier = CustomerApplier(settings)
    out = []
    for stream in inbound_streams(settings.topology, settings.node):
        direction = "down" if stream.startswith("DOWN_") else "up"
        out.append(
            ReplicationConsumer(
                sessionmaker=app.state.db.sessionmaker,
                nats_url=settings.nats_url,
                service="customer",
                schema=SCHEMA,
                node=settings.node,
                stream=stream,
                filter_subjects=[f"{direction}.*.{s}.>" for s in SUBJECTS],
                apply=applier,
            )
        )
    return out


async def start(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    consumers = consumers_for(app, settings) if settings.replication_enabled else []
    app.state.consumers = consumers
    app.state.consumer_tasks = [asyncio.create_task(c.run(), name=f"apply-{c.stream}") for c in consumers]


async def stop(app: FastAPI) -> None:
    for c in getattr(app.state, "consumers", []):
        c.stop()
    tasks = getattr(app.state, "consumer_tasks", [])
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
