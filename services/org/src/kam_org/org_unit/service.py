"""Rules for org units: code unique per node, the parent exists here and forms no cycle, a unit
still referenced cannot be deleted, writes only at the owner node."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller, patch_values
from kam_org.audit.service import CHANGES
from kam_org.models import OrgUnit
from kam_org.org_unit import events
from kam_org.org_unit.repository import OrgUnitRepository
from kam_org.org_unit.schemas import OrgUnitCreate, OrgUnitUpdate
from kam_platform.audit import diff
from kam_platform.errors import Conflict, NotFound, NotOwner, ValidationFailed
from kam_platform.tmf import ListQuery


def _snapshot(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id}


async def exists_at_node(session: AsyncSession, *, node: str, org_unit_id: uuid.UUID) -> bool:
    return await OrgUnitRepository.from_session(session).get_at_node(node, org_unit_id) is not None


async def list_org_units(session: AsyncSession, *, caller: Caller, lq: ListQuery) -> tuple[Sequence[OrgUnit], int]:
    return await OrgUnitRepository.from_session(session).page(lq, principal=caller.principal, topology=caller.topology)


async def get_org_unit(
    session: AsyncSession, *, caller: Caller, unit_id: uuid.UUID, for_update: bool = False
) -> OrgUnit:
    unit = await OrgUnitRepository.from_session(session).get(
        unit_id, principal=caller.principal, topology=caller.topology, for_update=for_update
    )
    if unit is None:
        raise NotFound(f"org unit {unit_id} not found")
    return unit


async def _get_owned(session: AsyncSession, caller: Caller, unit_id: uuid.UUID) -> OrgUnit:
    unit = await get_org_unit(session, caller=caller, unit_id=unit_id, for_update=True)
    if unit.owner_node != caller.node:
        raise NotOwner("org unit", str(unit.id), unit.owner_node)
    return unit


async def _check_parent(
    repo: OrgUnitRepository, caller: Caller, parent_id: uuid.UUID | None, unit_id: uuid.UUID | None = None
) -> None:
    if parent_id is None:
        return
    if await repo.get_at_node(caller.node, parent_id) is None:
        raise ValidationFailed(f"parentId: no org unit {parent_id} at node {caller.node!r}", field="parentId")
    if unit_id is not None and unit_id in await repo.ancestor_ids(parent_id):
        raise ValidationFailed("parentId: an org unit cannot sit below itself", field="parentId")


async def _record(
    session: AsyncSession, caller: Caller, unit: OrgUnit, action: str, before: dict[str, Any], *, created: bool = False
) -> None:
    """Version, event (the stored state) and audit in one call (`ChangeLog.record_change`)."""
    await CHANGES.record_change(
        session,
        unit,
        aggregate_type="org_unit",
        event=events.org_unit_state,
        actor=caller.actor,
        action=action,
        changes=diff(before, _snapshot(unit)),
        created=created,
    )


async def create_org_unit(session: AsyncSession, *, caller: Caller, data: OrgUnitCreate) -> OrgUnit:
    repo = OrgUnitRepository.from_session(session)
    if await repo.get_by_code(caller.node, data.code) is not None:
        raise Conflict(f"org unit code {data.code!r} already exists at node {caller.node!r}")
    await _check_parent(repo, caller, data.parent_id)
    unit = await repo.add(
        OrgUnit(
            owner_node=caller.node, version=1, code=data.code, name=data.name, kind=data.kind, parent_id=data.parent_id
        )
    )
    await _record(session, caller, unit, "create", {}, created=True)
    return unit


async def update_org_unit(
    session: AsyncSession, *, caller: Caller, unit_id: uuid.UUID, patch: OrgUnitUpdate, present: set[str]
) -> OrgUnit:
    repo = OrgUnitRepository.from_session(session)
    unit = await _get_owned(session, caller, unit_id)
    before = _snapshot(unit)
    values = patch_values(patch, present, not_null={"name", "kind"})
    if "parent_id" in values:
        await _check_parent(repo, caller, values["parent_id"], unit.id)
    for name, value in values.items():
        setattr(unit, name, value)
    if _snapshot(unit) == before:
        return unit
    await _record(session, caller, unit, "update", before)
    return unit


async def delete_org_unit(session: AsyncSession, *, caller: Caller, unit_id: uuid.UUID) -> None:
    repo = OrgUnitRepository.from_session(session)
    unit = await _get_owned(session, caller, unit_id)
    refs = await repo.references(unit.id)
    if refs:
        raise Conflict(f"org unit {unit.code!r} is still referenced by {refs} staff, teams or units")
    # the row goes: its deletion event (one version on) and the audit, without a version bump
    await CHANGES.emit(
        session,
        node=unit.owner_node,
        aggregate_type="org_unit",
        aggregate_id=unit.id,
        version=unit.version + 1,
        message=events.org_unit_deleted(unit),
        actor=caller.actor,
    )
    await CHANGES.audit(
        session,
        node=unit.owner_node,
        entity_type="org_unit",
        entity_id=unit.id,
        action="delete",
        actor=caller.actor,
        changes=diff(_snapshot(unit), {}),
    )
    await repo.delete(unit)
