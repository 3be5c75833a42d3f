"""The node's business calendar: read (the default when none is set), replace (audited), and the SLA
clock a ticket's calendar name stands for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.auth import Principal
from kam_platform.settings import Settings
from kam_service.models import BusinessCalendar
from kam_service.ticket.events import CHANGES

from .repository import SlaRepository
from .schemas import CalendarBody
from .workcal import DEFAULT_HOURS, DEFAULT_TIMEZONE, Clock, WorkCalendar, clock_name_is_business

# the calendar row has no uuid of its own; its audit records name this stable id per node
CALENDAR_NS = uuid.UUID("6f9c3c1e-2b0a-4d55-9a57-0b1e4e0c6a11")


def default_calendar(node: str) -> BusinessCalendar:
    return BusinessCalendar(
        node=node, version=0, timezone=DEFAULT_TIMEZONE, hours=DEFAULT_HOURS, holidays=[], workdays=[], updated_by=""
    )


async def get_calendar(session: AsyncSession, *, node: str) -> BusinessCalendar:
    return await SlaRepository.from_session(session).calendar(node) or default_calendar(node)


def work_calendar(row: BusinessCalendar) -> WorkCalendar:
    return WorkCalendar.from_data(timezone=row.timezone, hours=row.hours, holidays=row.holidays, workdays=row.workdays)


async def clock_of(session: AsyncSession, *, node: str) -> ClockChooser:
    return ClockChooser(work_calendar(await get_calendar(session, node=node)))


class ClockChooser:
    """A ticket's calendar name → its clock (the node's business calendar, or 7×24)."""

    def __init__(self, business: WorkCalendar) -> None:
        self.business = business

    def __call__(self, name: str | None) -> Clock:
        return self.business if clock_name_is_business(name) else Clock()


async def put_calendar(
    session: AsyncSession, *, settings: Settings, principal: Principal, body: CalendarBody
) -> BusinessCalendar:
    repo = SlaRepository.from_session(session)
    row = await repo.calendar(settings.node, for_update=True)
    before = (
        {}
        if row is None
        else {"timezone": row.timezone, "hours": row.hours, "holidays": row.holidays, "workdays": row.workdays}
    )
    values = {
        "timezone": body.timezone,
        "hours": body.hours,
        "holidays": sorted({d.isoformat() for d in body.holidays}),
        "workdays": sorted({d.isoformat() for d in body.workdays}),
    }
    now = datetime.now(UTC)
    if row is None:
        row = BusinessCalendar(node=settings.node, version=1, updated_by=principal.username, updated_at=now, **values)
        await repo.add_calendar(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.version += 1
        row.updated_by = principal.username
        row.updated_at = now
    changes = {k: [before.get(k), v] for k, v in values.items() if before.get(k) != v}
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type="business_calendar",
        entity_id=uuid.uuid5(CALENDAR_NS, settings.node),
        action="update" if before else "create",
        actor=principal.username,
        changes=changes,
    )
    return row
