"""The sales service app: the catalogue (TMF620) and opportunities, with the apply consumers of its
datasets on the node's inbound streams."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kam_org.client import OrgClient
from kam_platform.app import create_service_app
from kam_platform.auth import TokenVerifier
from kam_platform.dataset import DatasetApplier, dataset_consumers
from kam_platform.settings import Settings
from kam_rules.client import RulesClient
from kam_sales.agreement.dataset import AGREEMENTS
from kam_sales.agreement.endpoints import router as agreement_router
from kam_sales.agreement.schedule import RUN_AS, identity, run_every
from kam_sales.audit import AUDIT_TRAIL
from kam_sales.campaign.dataset import CAMPAIGNS, RESPONSES, TARGET_LISTS
from kam_sales.campaign.endpoints import router as campaign_router
from kam_sales.catalog import hub as catalog_hub
from kam_sales.catalog.dataset import CATALOG
from kam_sales.catalog.endpoints import router as catalog_router
from kam_sales.clock import Clock, SystemClock
from kam_sales.customers import CustomerDirectory
from kam_sales.forecast.endpoints import router as forecast_router
from kam_sales.lead.dataset import LEADS
from kam_sales.lead.endpoints import router as lead_router
from kam_sales.models import SCHEMA
from kam_sales.notifications import router as notification_router
from kam_sales.opportunity.dataset import OPPORTUNITIES
from kam_sales.opportunity.endpoints import router as opportunity_router
from kam_sales.quote.dataset import QUOTES
from kam_sales.quote.endpoints import router as quote_router
from kam_sales.visit.dataset import VISITS
from kam_sales.visit.endpoints import router as visit_router

MIGRATIONS = "kam_sales:migrations"
REMINDERS_EVERY = 3600.0


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    rules_client: RulesClient | None = None,
    org_client: OrgClient | None = None,
    customer_directory: CustomerDirectory | None = None,
    clock: Clock | None = None,
    reminders_every: float | None = REMINDERS_EVERY,
    reminders_run_as: str = RUN_AS,
) -> FastAPI:
    """`rules_client`: the node's rules service (default: at the node's base URL, `kam_sales.probability`;
    tests pass one bound to an in-process rules app); `org_client` likewise for the org service (quote
    approvers, `kam_sales.people`), `customer_directory` for the customer service (campaign targets,
    `kam_sales.customers`). `clock`: the time the scheduled jobs see.
    `reminders_every`: seconds between runs of the contract expiry-reminder job (None: not scheduled);
    `reminders_run_as`: the node's user the job runs as (its token from the `issue_token` hook)."""
    clock = clock or SystemClock()
    settings = settings or Settings(service="sales")
    tasks: list[asyncio.Task[None]] = []

    async def start(app: FastAPI) -> None:
        consumers = (
            dataset_consumers(
                settings,
                app.state.db.sessionmaker,
                service="sales",
                schema=SCHEMA,
                applier=DatasetApplier(
                    settings,
                    [
                        CATALOG,
                        OPPORTUNITIES,
                        LEADS,
                        AGREEMENTS,
                        QUOTES,
                        VISITS,
                        CAMPAIGNS,
                        TARGET_LISTS.for_node(settings),
                        RESPONSES,
                        AUDIT_TRAIL,
                    ],
                ),
            )
            if settings.replication_enabled
            else []
        )
        app.state.consumers = consumers
        tasks.extend(asyncio.create_task(c.run(), name=f"sales-apply-{c.stream}") for c in consumers)
        if reminders_every is not None:
            ask_for = identity(settings, rules_client, reminders_run_as)
            job = run_every(
                reminders_every, app.state.db.sessionmaker, settings, clock, ask_for, run_as=reminders_run_as
            )
            tasks.append(asyncio.create_task(job, name="sales-expiry-reminders"))

    async def stop(app: FastAPI) -> None:
        for c in getattr(app.state, "consumers", []):
            c.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    app = create_service_app(
        settings,
        title="KAM sales service",
        description=(
            "Product catalogue (产品目录, TMF620) and campaigns (营销活动) down the tree; leads, opportunities "
            "(销售机会), visits (客户拜访), quotes (报价, TMF648), contracts (合同, TMF651) and campaign responses "
            "up the tree, with expiry reminders."
        ),
        routers=[
            catalog_router,
            campaign_router,
            lead_router,
            opportunity_router,
            visit_router,
            quote_router,
            agreement_router,
            forecast_router,
            notification_router,
        ],
        outbox_schemas=[SCHEMA],
        verifier=verifier,
        on_startup=[start, catalog_hub.start],
        on_shutdown=[catalog_hub.stop, stop],
    )
    app.state.clock = clock
    if rules_client is not None:
        app.state.rules_client = rules_client
    if org_client is not None:
        app.state.org_client = org_client
    if customer_directory is not None:
        app.state.customer_directory = customer_directory
    return app
