"""Resync requests: recorded, then published both ways through the outbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.auth import Principal
from kam_platform.federation import down_scope
from kam_platform.ids import uuid7
from kam_platform.outbox import add_event, ts
from kam_platform.settings import Settings
from kam_sync.models import SCHEMA, ResyncRequest


async def request_resync(
    session: AsyncSession, *, settings: Settings, principal: Principal, reason: str | None
) -> ResyncRequest:
    req = ResyncRequest(id=uuid7(), node=settings.node, requested_by=principal.username, reason=reason)
    session.add(req)
    await session.flush()
    message = envelope_pb2.ResyncRequested(
        id=str(req.id), node=settings.node, requested_by=principal.username, reason=reason or "", requested_at=ts()
    )
    common = {
        "schema": SCHEMA,
        "node": settings.node,
        "service": "sync",
        "aggregate_type": "resync",
        "aggregate_id": str(req.id),
        "version": 1,
        "message": message,
        "actor": principal.username,
    }
    await add_event(session, down_scope=down_scope(settings.topology, settings.node), **common)  # type: ignore[arg-type]
    if settings.this_node.parent is not None:
        await add_event(session, **common)  # type: ignore[arg-type]
    return req
