"""The service-quality board's figures (/api/v1/service/quality), for the console."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.errors import ValidationFailed
from kam_platform.settings import AppSettings
from kam_service.deps import Now

from . import service
from .schemas import ServiceQualityRead

router = APIRouter(tags=["quality"])
Reader = Annotated[Principal, require("service.ticket:read")]


@router.get("/api/v1/service/quality", response_model=ServiceQualityRead)
async def quality(
    session: Session,
    settings: AppSettings,
    who: Reader,
    now: Now,
    period_start: Annotated[datetime | None, Query(alias="periodStart", description="default: 30 days ago")] = None,
    period_end: Annotated[datetime | None, Query(alias="periodEnd", description="default: now")] = None,
) -> ServiceQualityRead:
    """Open tickets by grade now; over the period (RFC 3339, with offset): tickets accepted and their
    breaches, resolved and their MTTR, closed and RESOLVE_IN_SLA, surveys and satisfaction — in total and
    per owner node, within the caller's data scope."""
    end = period_end or now
    start = period_start or end - timedelta(days=30)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("periodStart/periodEnd: give a time zone offset (RFC 3339)", field="periodStart")
    return await service.quality(session, settings=settings, principal=who, start=start, end=end)
