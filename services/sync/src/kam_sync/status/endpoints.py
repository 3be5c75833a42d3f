"""Federation status of this node: links, sources, apply consumers, dead letters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kam_platform.auth import Principal, require

router = APIRouter(tags=["sync"])


@router.get("/api/v1/sync/status", summary="Replication status of this node")
async def sync_status(request: Request, principal: Principal = require("sync:read")) -> dict[str, Any]:
    """Per link: connected; per source: lag (messages), idle seconds, ok; per apply consumer: pending
    and redeliveries; dead letters per service. `state` is `ok` or `degraded`."""
    snapshot: dict[str, Any] = request.app.state.watcher.snapshot
    return {"@type": "SyncStatus", **snapshot}
