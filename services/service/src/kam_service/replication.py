"""Apply what the service service replicates (read-only replicas, newest version wins): tickets and
knowledge contributions from below, knowledge items from above (and from below: an ancestor sees its
subtree's), audit rows; answer resyncs with snapshots (own records up to an ancestor; published
knowledge down to a descendant).

Every table is applied by the platform's dataset machinery (owner = origin, versioned upsert,
snapshot); this module routes the event types.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2, envelope_pb2
from kam_platform.dataset import Dataset, can_publish_down
from kam_platform.federation import inbound_streams
from kam_platform.replication import Claim, Event, Refused, ReplicationConsumer
from kam_platform.settings import Settings
from kam_service.care.events import ACTIVITIES, PLANS
from kam_service.contact_scheme.events import SCHEMES
from kam_service.cs10000.events import NUMBERS
from kam_service.dispatch import service as dispatch_service
from kam_service.dispatch.events import DISPATCHES
from kam_service.document.events import CHUNKS, DOCUMENTS
from kam_service.expert.events import EXPERTS, REQUESTS
from kam_service.knowledge.events import CONTRIBUTIONS, KNOWLEDGE
from kam_service.models import SCHEMA, Audit
from kam_service.ticket.events import SERVICE, TICKETS, audit_row

log = logging.getLogger("kam.service.replication")

UP_SUBJECTS = [f"up.*.{SERVICE}.>", "up.*.sync.>"]
DOWN_SUBJECTS = [f"down.*.{SERVICE}.>", "down.*.sync.>"]
AUDIT = "kam.v1.AuditRecorded"
RESYNC = "kam.v1.ResyncRequested"


UP_ONLY: tuple[Dataset[Any], ...] = (
    TICKETS,
    CONTRIBUTIONS,
    DOCUMENTS,
    CHUNKS,
    NUMBERS,
    PLANS,
    ACTIVITIES,
    REQUESTS,
    SCHEMES,
)
BOTH_WAYS: tuple[Dataset[Any], ...] = (KNOWLEDGE, DISPATCHES, EXPERTS)


class TicketApplier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topology = settings.topology
        self.node = settings.node
        self.datasets: dict[str, Dataset[Any]] = {d.event_type: d for d in (*UP_ONLY, *BOTH_WAYS)}

    def claims(self, ev: Event) -> list[Claim] | None:
        ds = self.datasets.get(ev.event_type)
        if ds is not None:
            if ds in UP_ONLY and not ev.subject.startswith("up."):
                raise Refused(f"{ev.event_type} on {ev.subject}: {ds.name} records flow up the tree only")
            return ds.claims(ev)
        if ev.event_type == AUDIT:
            a = ev.payload_as(customer_pb2.AuditRecorded)
            return [Claim("audit", uuid.UUID(a.id), a.owner_node, None)]
        if ev.event_type == RESYNC:
            q = ev.payload_as(envelope_pb2.ResyncRequested)
            if q.node != ev.origin:
                raise Refused(f"resync requested for {q.node} by {ev.origin}: a node asks only for itself")
            return []
        return None

    async def __call__(self, session: AsyncSession, events: Sequence[Event]) -> None:
        for etype, ds in self.datasets.items():
            rows = await ds.apply(session, [e for e in events if e.event_type == etype])
            if rows and ds is DISPATCHES:
                await dispatch_service.accept(session, self.settings, rows)
                await dispatch_service.withdrawn(session, self.settings, rows)
            elif rows and ds is TICKETS:
                await dispatch_service.mirror(session, self.settings, rows)
        audits = [audit_row(e.payload_as(customer_pb2.AuditRecorded)) for e in events if e.event_type == AUDIT]
        if audits:
            await session.execute(insert(Audit).on_conflict_do_nothing(), audits)
        if any(e.event_type == RESYNC and e.subject.startswith("down.") for e in events):
            # an ancestor asks its subtree for its own records
            count = 0
            for ds in self.datasets.values():
                count += await ds.republish(session, self.settings, down=False)
            log.info("resync: republished %d own records up from %s", count, self.node)
        if can_publish_down(self.topology, self.node) and any(
            e.event_type == RESYNC and e.subject.startswith("up.") for e in events
        ):
            # a descendant asks for the reference data published down to it
            count = await KNOWLEDGE.republish(session, self.settings, down=True)
            count += await DISPATCHES.republish(session, self.settings, down=True)
            count += await EXPERTS.republish(session, self.settings, down=True)
            log.info("resync: republished %d knowledge items and dispatches down from %s", count, self.node)


def consumers_for(app: FastAPI, settings: Settings) -> list[ReplicationConsumer]:
    applier = TicketApplier(settings)
    return [
        ReplicationConsumer(
            sessionmaker=app.state.db.sessionmaker,
            nats_url=settings.nats_url,
            service=SERVICE,
            schema=SCHEMA,
            node=settings.node,
            stream=stream,
            filter_subjects=DOWN_SUBJECTS if stream.startswith("DOWN_") else UP_SUBJECTS,
            apply=applier,
        )
        for stream in inbound_streams(settings.topology, settings.node)
    ]


async def start(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    consumers = consumers_for(app, settings) if settings.replication_enabled else []
    app.state.consumers = consumers
    app.state.consumer_tasks = [asyncio.create_task(c.run(), name=f"service-apply-{c.stream}") for c in consumers]


async def stop(app: FastAPI) -> None:
    for c in getattr(app.state, "consumers", []):
        c.stop()
    tasks = getattr(app.state, "consumer_tasks", [])
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
