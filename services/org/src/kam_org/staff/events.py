"""Outbox events of staff (state transfer; never the password hash)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import org_pb2
from kam_org.api import Caller
from kam_org.models import SCHEMA, Staff
from kam_platform.outbox import add_event, ts


async def staff_changed(session: AsyncSession, *, caller: Caller, staff: Staff, roles: list[str]) -> None:
    msg = org_pb2.StaffChanged(
        id=str(staff.id),
        owner_node=staff.owner_node,
        version=staff.version,
        username=staff.username,
        display_name=staff.display_name,
        org_unit_id=str(staff.org_unit_id or ""),
        roles=roles,
        is_active=staff.is_active,
        updated_at=ts(staff.updated_at),
    )
    await add_event(
        session,
        schema=SCHEMA,
        node=staff.owner_node,
        service="org",
        aggregate_type="staff",
        aggregate_id=str(staff.id),
        version=staff.version,
        message=msg,
        actor=caller.actor,
    )
