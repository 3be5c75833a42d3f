"""The rules service app: rule sets (F5) and the effective-rule API, with the apply consumers of the
rules dataset on the node's inbound streams."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kam_platform.app import create_service_app
from kam_platform.auth import TokenVerifier
from kam_platform.dataset import dataset_consumers
from kam_platform.settings import Settings
from kam_rules.models import SCHEMA
from kam_rules.ruleset.cache import EffectiveCache
from kam_rules.ruleset.endpoints import router as ruleset_router
from kam_rules.ruleset.handlers import applier

MIGRATIONS = "kam_rules:migrations"


def create_app(settings: Settings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    settings = settings or Settings(service="rules")
    cache = EffectiveCache()
    tasks: list[asyncio.Task[None]] = []

    async def start(app: FastAPI) -> None:
        app.state.rules_cache = cache
        consumers = (
            dataset_consumers(
                settings, app.state.db.sessionmaker, service="rules", schema=SCHEMA, applier=applier(settings, cache)
            )
            if settings.replication_enabled
            else []
        )
        app.state.consumers = consumers
        tasks.extend(asyncio.create_task(c.run(), name=f"rules-apply-{c.stream}") for c in consumers)

    async def stop(app: FastAPI) -> None:
        for c in getattr(app.state, "consumers", []):
            c.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    app = create_service_app(
        settings,
        title="KAM rules service",
        description="Rules as data (规则管理): national rules, provincial refinements within bounds, effective rules.",
        routers=[ruleset_router],
        outbox_schemas=[SCHEMA],
        verifier=verifier,
        on_startup=[start],
        on_shutdown=[stop],
    )
    app.state.rules_cache = cache
    return app
