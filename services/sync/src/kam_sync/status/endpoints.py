"""Federation status of this node: links, sources, apply consumers, dead letters."""

from __future__ import annotations

from fastapi import APIRouter, Request

from kam_platform.auth import Principal, require

from .schemas import SyncStatusRead

router = APIRouter(tags=["sync"])


@router.get("/api/v1/sync/status", summary="Replication status of this node", response_model_exclude_unset=True)
async def sync_status(request: Request, principal: Principal = require("sync:read")) -> SyncStatusRead:
    """Per link: connected; per source: lag (messages), idle seconds, ok; per apply consumer: pending
    and redeliveries; dead letters per service. `state` is `ok` or `degraded`."""
    return SyncStatusRead.model_validate({"@type": "SyncStatus", **request.app.state.watcher.snapshot})
