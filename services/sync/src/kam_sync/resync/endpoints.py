"""Snapshot/resync: ask the subtree to republish its records and the ancestors their reference data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import read_json_object, validate_model

from . import service

router = APIRouter(tags=["sync"])


class ResyncCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str | None, Field(max_length=500)] = None


@router.post("/api/v1/sync/resync", status_code=202, summary="Request a resync of this node")
async def request_resync(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("sync:admin"),
) -> JSONResponse:
    """Every node below republishes the current state of its own records as snapshot events; every
    ancestor republishes the reference data it publishes downward. Replicas then equal the owners."""
    raw: dict[str, Any] = (
        await read_json_object(request, allowed_types={"application/json"}) if await request.body() else {}
    )
    data = validate_model(ResyncCreate, raw)
    req = await service.request_resync(session, settings=settings, principal=principal, reason=data.reason)
    return JSONResponse(
        {
            "@type": "ResyncRequest",
            "id": str(req.id),
            "node": req.node,
            "requestedBy": req.requested_by,
            "reason": req.reason,
        },
        status_code=202,
    )
