"""The sync service app: declares the node's streams and sources, watches replication, resync."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kam_platform.app import create_service_app
from kam_platform.auth import TokenVerifier
from kam_platform.settings import Settings
from kam_sync.models import SCHEMA
from kam_sync.resync.endpoints import router as resync_router
from kam_sync.status.endpoints import router as status_router
from kam_sync.status.watcher import Watcher

MIGRATIONS = "kam_sync:migrations"


def create_app(settings: Settings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    settings = settings or Settings(service="sync")
    watcher = Watcher(settings)
    tasks: list[asyncio.Task[None]] = []

    async def start(app: FastAPI) -> None:
        app.state.watcher = watcher
        tasks.append(asyncio.create_task(watcher.run(), name="sync-watcher"))

    async def stop(app: FastAPI) -> None:
        watcher.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return create_service_app(
        settings,
        title="KAM sync service",
        description="Federation: streams and sources between nodes, replication status, resync.",
        routers=[status_router, resync_router],
        outbox_schemas=[SCHEMA],
        verifier=verifier,
        on_startup=[start],
        on_shutdown=[stop],
    )
