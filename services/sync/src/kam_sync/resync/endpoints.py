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
    """Every node below republishes the current state of its own records as snapshot events; every
    ancestor republishes the reference data it publishes downward. Replicas then equal the owners.
    The body (a reason) is optional."""
    reason = data.reason if data is not None else None
    req = await service.request_resync(session, settings=settings, principal=principal, reason=reason)
    return ResyncRead(id=str(req.id), node=req.node, requested_by=req.requested_by, reason=req.reason)
