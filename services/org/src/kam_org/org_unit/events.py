"""Outbox events of org units: full state and version (replicated up the tree)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import org_pb2
from kam_org.api import Caller
from kam_org.models import SCHEMA, OrgUnit
from kam_platform.outbox import add_event, ts


def org_unit_state(unit: OrgUnit) -> org_pb2.OrgUnitChanged:
    return org_pb2.OrgUnitChanged(
        id=str(unit.id),
        owner_node=unit.owner_node,
        version=unit.version,
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent_id=str(unit.parent_id or ""),
        updated_at=ts(unit.updated_at),
        created_at=ts(unit.created_at),
    )


async def org_unit_changed(session: AsyncSession, *, caller: Caller, unit: OrgUnit) -> None:
    msg = org_unit_state(unit)
    await add_event(
        session,
        schema=SCHEMA,
        node=unit.owner_node,
        service="org",
        aggregate_type="org_unit",
        aggregate_id=str(unit.id),
        version=unit.version,
        message=msg,
        actor=caller.actor,
    )


async def org_unit_deleted(session: AsyncSession, *, caller: Caller, unit: OrgUnit) -> None:
    msg = org_pb2.OrgUnitDeleted(id=str(unit.id), owner_node=unit.owner_node, version=unit.version + 1, code=unit.code)
    await add_event(
        session,
        schema=SCHEMA,
        node=unit.owner_node,
        service="org",
        aggregate_type="org_unit",
        aggregate_id=str(unit.id),
        version=unit.version + 1,
        message=msg,
        actor=caller.actor,
    )
