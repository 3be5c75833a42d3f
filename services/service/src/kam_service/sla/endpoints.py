"""The node's business calendar (/api/v1/service/calendar): what SLA clocks on "business" hours count."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter

from kam_platform.api import JSON_BODY
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_service.models import BusinessCalendar

from . import service
from .schemas import CalendarBody, CalendarRead

router = APIRouter(prefix="/api/v1/service/calendar", tags=["calendar"])

Reader = Annotated[Principal, require("service.ticket:read")]
Admin = Annotated[Principal, require("service.calendar:write")]


def _read(row: BusinessCalendar) -> CalendarRead:
    return CalendarRead(
        node=row.node,
        version=row.version,
        timezone=row.timezone,
        hours=row.hours,
        holidays=[date.fromisoformat(d) for d in row.holidays],
        workdays=[date.fromisoformat(d) for d in row.workdays],
        updated_at=row.updated_at if row.version else None,
        updated_by=row.updated_by or None,
    )


@router.get("", response_model=CalendarRead)
async def get_calendar(session: Session, settings: AppSettings, who: Reader) -> CalendarRead:
    """This node's business calendar (version 0: the default, Monday–Friday 09:00–12:00 and 13:30–18:00
    Asia/Shanghai, no holidays)."""
    return _read(await service.get_calendar(session, node=settings.node))


@router.put("", response_model=CalendarRead)
async def put_calendar(
    session: Session, settings: AppSettings, who: Admin, body: CalendarBody, _: None = JSON_BODY
) -> CalendarRead:
    """Replace this node's business calendar. Deadlines already computed keep their instants; new
    tickets, pauses and resumptions count on the new calendar."""
    return _read(await service.put_calendar(session, settings=settings, principal=who, body=body))
