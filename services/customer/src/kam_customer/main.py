"""The customer service app: key accounts (TMF629), their legal entities and contacts (TMF632)."""

from __future__ import annotations

from fastapi import FastAPI

from kam_customer.competitor.endpoints import router as competitor_router
from kam_customer.contact.endpoints import router as contact_router
from kam_customer.customer.endpoints import router as customer_router
from kam_customer.decision.endpoints import router as decision_router
from kam_customer.designation.endpoints import router as designation_router
from kam_customer.duplicates.endpoints import router as duplicates_router
from kam_customer.hub import service as hub_service
from kam_customer.hub.endpoints import router as hub_router
from kam_customer.importexport.endpoints import router as importexport_router
from kam_customer.merge.endpoints import router as merge_router
from kam_customer.merge_proposal.endpoints import router as merge_proposal_router
from kam_customer.models import SCHEMA
from kam_customer.needs.endpoints import router as needs_router
from kam_customer.organization.endpoints import router as organization_router
from kam_customer.recognition.endpoints import router as recognition_router
from kam_customer.replication import consumers
from kam_customer.verification.endpoints import router as verification_router
from kam_platform.app import create_service_app
from kam_platform.auth import TokenVerifier
from kam_platform.settings import Settings

MIGRATIONS = "kam_customer:migrations"


def create_app(settings: Settings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    settings = settings or Settings(service="customer")
    return create_service_app(
        settings,
        title="KAM customer service",
        description=(
            "Key accounts (大客户) as TMF629 customers, with TMF632 organizations and contacts, "
            "replicated across the federation."
        ),
        routers=[
            customer_router,
            organization_router,
            contact_router,
            importexport_router,
            designation_router,
            recognition_router,
            needs_router,
            competitor_router,
            decision_router,
            verification_router,
            duplicates_router,
            merge_router,
            merge_proposal_router,
            hub_router,
        ],
        outbox_schemas=[SCHEMA],
        verifier=verifier,
        on_startup=[consumers.start, hub_service.start],
        on_shutdown=[hub_service.stop, consumers.stop],
    )
