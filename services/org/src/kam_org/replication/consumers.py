"""Start the org service's apply consumers on the node's inbound streams (lifespan hooks).

Upward streams carry the subtree's org units, staff, teams and audit rows (roles are the shared
catalogue and are not applied); downward streams only resync requests (org publishes nothing down).
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kam_org.models import SCHEMA
from kam_platform.federation import inbound_streams
from kam_platform.replication import ReplicationConsumer
from kam_platform.settings import Settings

from .handlers import OrgApplier

UP_SUBJECTS = tuple(f"up.*.org.{aggregate}.>" for aggregate in ("org_unit", "staff", "team", "audit"))
DOWN_SUBJECTS = ("down.*.sync.>",)


def consumers_for(app: FastAPI, settings: Settings) -> list[ReplicationConsumer]:
    applier = OrgApplier(settings)
    return [
        ReplicationConsumer(
            sessionmaker=app.state.db.sessionmaker,
            nats_url=settings.nats_url,
            service="org",
            schema=SCHEMA,
            node=settings.node,
            stream=stream,
            filter_subjects=list(DOWN_SUBJECTS if stream.startswith("DOWN_") else UP_SUBJECTS),
            apply=applier,
            claims=applier.claims,
            topology=settings.topology,
        )
        for stream in inbound_streams(settings.topology, settings.node)
    ]


async def start(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    consumers = consumers_for(app, settings) if settings.replication_enabled else []
    app.state.consumers = consumers
    app.state.consumer_tasks = [asyncio.create_task(c.run(), name=f"org-apply-{c.stream}") for c in consumers]


async def stop(app: FastAPI) -> None:
    for c in getattr(app.state, "consumers", []):
        c.stop()
    tasks = getattr(app.state, "consumer_tasks", [])
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
