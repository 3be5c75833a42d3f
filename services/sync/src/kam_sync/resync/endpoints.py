"""Snapshot/resync: ask the subtree to republish its records and the ancestors their reference data."""

from __future__ import annotations

from fastapi import APIRouter

from kam_platform.api import JSON_BODY
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings

from . import service
from .schemas import ResyncCreate, ResyncRead

router = APIRouter(tags=["sync"])


@router.post("/api/v1/sync/resync", status_code=202, summary="Request a resync of this node")
async def request_resync(
    session: Session,
    settings: AppSettings,
    data: ResyncCreate | None = None,
    principal: Principal = require("sync:admin"),
    _: None = JSON_BODY,
) -> ResyncRead:
    """This node and every node below republish the current state of their own records as snapshot
    events; every ancestor republishes the reference data it publishes downward. Replicas then equal the
    owners, also where a replica held the same version with other content. With `restore` (this node
    was restored from an older backup), the parent also sends down its replicas of the records owned in
    this node's subtree, applied here where newer; 409 at the root. The body is optional."""
    reason = data.reason if data is not None else None
    restore = data.restore if data is not None else False
    req = await service.request_resync(session, settings=settings, principal=principal, reason=reason, restore=restore)
    return ResyncRead(id=str(req.id), node=req.node, requested_by=req.requested_by, reason=req.reason, restore=restore)
