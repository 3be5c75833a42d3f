"""Resync requests: recorded, then published both ways through the outbox (docs/federation.md)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.auth import Principal
from kam_platform.errors import Conflict
from kam_platform.federation import down_scope
from kam_platform.ids import uuid7
from kam_platform.outbox import add_event, ts
from kam_platform.settings import Settings
from kam_sync.models import SCHEMA, ResyncRequest


async def request_resync(
    session: AsyncSession, *, settings: Settings, principal: Principal, reason: str | None, restore: bool = False
) -> ResyncRequest:
    """Ask the subtree for its records, the ancestors for their reference data and this node's services
    for their own records; with `restore`, the parent also sends back its replicas of the subtree's."""
    if restore and settings.this_node.parent is None:
        raise Conflict(f"{settings.node} is the root: no parent holds replicas to restore it from")
    req = ResyncRequest(id=uuid7(), node=settings.node, requested_by=principal.username, reason=reason)
    session.add(req)
    await session.flush()
    message = envelope_pb2.ResyncRequested(
        id=str(req.id),
        node=settings.node,
        requested_by=principal.username,
        reason=reason or "",
        requested_at=ts(),
        restore=restore,
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
