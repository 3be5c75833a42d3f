"""The org service app: nodes, org units, staff, teams, roles and permissions, tokens and JWKS.

It verifies tokens with its own keys, read from its schema (no HTTP call to itself).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kam_org.auth import service as auth_service
from kam_org.auth.endpoints import router as auth_router
from kam_org.models import SCHEMA
from kam_org.node import service as node_service
from kam_org.node.endpoints import router as node_router
from kam_org.org_unit.endpoints import router as org_unit_router
from kam_org.replication import consumers
from kam_org.role.endpoints import router as role_router
from kam_org.staff.endpoints import router as staff_router
from kam_org.team.endpoints import router as team_router
from kam_platform.app import create_service_app
from kam_platform.auth import TokenVerifier
from kam_platform.db import Database
from kam_platform.settings import Settings

MIGRATIONS = "kam_org:migrations"


async def _prepare(app: FastAPI) -> None:
    """Ensure a signing key exists and load the node tree from the topology."""
    db: Database = app.state.db
    settings: Settings = app.state.settings
    async with db.sessionmaker() as session, session.begin():
        await auth_service.ensure_signing_key(session)
    async with db.sessionmaker() as session, session.begin():
        await node_service.sync_topology(session, topology=settings.topology)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service="org")

    async def load_jwks() -> dict[str, Any]:
        db: Database = app.state.db
        async with db.sessionmaker() as session:
            return await auth_service.jwks(session)

    verifier = TokenVerifier(load_jwks, audience=settings.token_audience)
    app = create_service_app(
        settings,
        title="KAM org",
        description="Nodes, org units, staff, teams, roles and permissions; tokens and JWKS.",
        routers=[auth_router, node_router, staff_router, role_router, org_unit_router, team_router],
        outbox_schemas=[SCHEMA],
        verifier=verifier,
        on_startup=[_prepare, consumers.start],
        on_shutdown=[consumers.stop],
    )
    return app
