"""The service service app: trouble tickets (TMF621) with SLA by grade and escalation, the business
calendar, the SLA evaluator (owner node only) and the apply consumers of the subtree's tickets."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kam_platform.app import create_service_app
from kam_platform.auth import TokenVerifier
from kam_platform.settings import Settings
from kam_service import replication
from kam_service.assignment.endpoints import router as queue_router
from kam_service.care.endpoints import router as care_router
from kam_service.care.job import CareJob
from kam_service.contact_scheme.endpoints import router as scheme_router
from kam_service.cs10000 import runtime as cs10000_runtime
from kam_service.cs10000.endpoints import router as cs10000_router
from kam_service.deps import ClockFn, system_clock
from kam_service.dispatch.endpoints import router as dispatch_router
from kam_service.document.endpoints import router as document_router
from kam_service.document.states import MAX_DOCUMENT_BYTES
from kam_service.expert.endpoints import router as expert_router
from kam_service.hub import service as hub_service
from kam_service.hub.endpoints import router as hub_router
from kam_service.knowledge.endpoints import router as knowledge_router
from kam_service.lookups import Lookups
from kam_service.models import SCHEMA
from kam_service.notifications import router as notification_router
from kam_service.quality.endpoints import router as quality_router
from kam_service.sla.endpoints import router as calendar_router
from kam_service.sla.evaluator import Evaluator
from kam_service.ticket.endpoints import extras as ticket_extras
from kam_service.ticket.endpoints import router as ticket_router

MIGRATIONS = "kam_service:migrations"


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    lookups: Lookups | None = None,
    clock: ClockFn = system_clock,
    evaluate_every: float | None = 30.0,
    max_document_bytes: int = MAX_DOCUMENT_BYTES,
    care_every: float | None = 3600.0,
) -> FastAPI:
    """`lookups` (customer and rules over HTTP; default: the node's public URL), `clock` (tests move
    time), `evaluate_every` (seconds between SLA evaluator passes; None: only `run_once()` calls),
    `max_document_bytes` (the largest document file, F4: 100 MB) and `care_every` (seconds between the
    daily care job's checks; None: only `run_once()` or POST /api/v1/service/care/proposal)."""
    settings = settings or Settings(service="service")
    tasks: list[asyncio.Task[None]] = []

    async def start(app: FastAPI) -> None:
        app.state.evaluator = Evaluator(
            app.state.db.sessionmaker, node=settings.node, clock=clock, interval=evaluate_every or 30.0
        )
        if evaluate_every is not None:
            tasks.append(asyncio.create_task(app.state.evaluator.run(), name="service-sla-evaluator"))
        app.state.care_job = CareJob(
            app.state.db.sessionmaker, node=settings.node, clock=clock, interval=care_every or 3600.0
        )
        if care_every is not None:
            tasks.append(asyncio.create_task(app.state.care_job.run(), name="service-care-job"))
        await replication.start(app)

    async def stop(app: FastAPI) -> None:
        app.state.evaluator.stop()
        app.state.care_job.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await replication.stop(app)

    app = create_service_app(
        settings,
        title="KAM service service",
        description="Key-account service (大客户服务): trouble tickets (TMF621) with SLA by grade, escalation "
        "and the closed loop; the knowledge base (知识库); the customer-service system (10000) interface.",
        routers=[
            ticket_router,
            ticket_extras,
            dispatch_router,
            calendar_router,
            knowledge_router,
            hub_router,
            queue_router,
            document_router,
            care_router,
            expert_router,
            scheme_router,
            quality_router,
            cs10000_router,
            notification_router,
        ],
        outbox_schemas=[SCHEMA],
        verifier=verifier,
        on_startup=[start, hub_service.start, cs10000_runtime.start],
        on_shutdown=[cs10000_runtime.stop, hub_service.stop, stop],
    )
    app.state.clock = clock
    app.state.max_document_bytes = max_document_bytes
    app.state.lookups = lookups or Lookups.over_http(settings.public_url)
    return app
