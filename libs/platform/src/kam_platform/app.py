"""The common shape of every service app: lifespan (engine, token verifier, outbox relay),
middleware, error envelope, health/ready/metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from kam_platform.auth import TokenVerifier
from kam_platform.db import create_database
from kam_platform.errors import install_error_handlers
from kam_platform.inputguard import InputGuardMiddleware
from kam_platform.observability import RequestContextMiddleware, configure_logging, ops_router
from kam_platform.openapi import document_errors
from kam_platform.outbox import OutboxRelay
from kam_platform.settings import Settings

Hook = Callable[[FastAPI], Awaitable[None]]


def create_service_app(
    settings: Settings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    outbox_schemas: Sequence[str] = (),
    verifier: TokenVerifier | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    description: str = "",
) -> FastAPI:
    configure_logging(settings.node, settings.service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = create_database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            application_name=f"kam-{settings.service}-{settings.node}",
        )
        app.state.db = db
        if app.state.verifier is None:
            app.state.verifier = _default_verifier(settings)
        relays = [
            OutboxRelay(
                database_url=settings.database_url,
                nats_url=settings.nats_url,
                schema=s,
                node=settings.node,
                poll_seconds=settings.relay_poll_seconds,
            )
            for s in (outbox_schemas if settings.relay_enabled else ())
        ]
        tasks = [asyncio.create_task(r.run(), name=f"relay-{r.schema}") for r in relays]
        app.state.relays = relays
        try:
            for hook in on_startup:
                await hook(app)
            # everything made so far (modules, the app, its routes and models) lives as long as the
            # process: out of the collector's sight, a full collection no longer walks it while
            # requests wait (docs/benchmarks.md, API create)
            gc.freeze()
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            for r in relays:
                r.stop()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await db.dispose()

    app = FastAPI(title=title, description=description, lifespan=lifespan, version="0.1.0")
    app.state.settings = settings
    app.state.verifier = verifier
    # the guard (inner) is the one place body limits are chosen, by exact media type and route; the
    # request context (outer) gives every answer, the guard's included, a request id and metrics
    app.add_middleware(InputGuardMiddleware, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    app.add_middleware(
        RequestContextMiddleware,
        service=settings.service,
    )
    install_error_handlers(app)
    app.include_router(ops_router())
    for r in routers:
        app.include_router(r)
    document_errors(app)
    return app


def _default_verifier(settings: Settings) -> TokenVerifier:
    if settings.jwks_json:
        return TokenVerifier.from_jwks(settings.jwks_json, audience=settings.token_audience)
    if settings.jwks_url:
        return TokenVerifier.from_url(settings.jwks_url, audience=settings.token_audience)

    async def no_keys() -> dict[str, Any]:
        raise RuntimeError("no JWKS configured (KAM_JWKS_URL or KAM_JWKS_JSON)")

    return TokenVerifier(no_keys, audience=settings.token_audience)
