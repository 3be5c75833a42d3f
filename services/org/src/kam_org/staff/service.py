"""Rules for staff: unique user name per node, known roles and org unit, writes only at the owner
node, soft deactivation, every write audited and published."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller, patch_values
from kam_org.audit.service import CHANGES
from kam_org.auth.passwords import hash_password
from kam_org.models import Staff
from kam_org.org_unit import service as org_unit_service
from kam_org.role import service as role_service
from kam_org.role.repository import RoleRepository
from kam_org.staff import events
from kam_org.staff.repository import StaffRepository
from kam_org.staff.schemas import StaffCreate, StaffUpdate
from kam_platform.audit import diff
from kam_platform.errors import Conflict, NotFound, NotOwner, ValidationFailed
from kam_platform.tmf import ListQuery

StaffWithRoles = tuple[Staff, list[str]]


def _snapshot(staff: Staff, roles: list[str]) -> dict[str, Any]:
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "phone": staff.phone,
        "email": staff.email,
        "org_unit_id": staff.org_unit_id,
        "is_active": staff.is_active,
        "roles": sorted(roles),
    }


async def _resolve_roles(session: AsyncSession, codes: list[str]) -> tuple[list[uuid.UUID], list[str]]:
    wanted = sorted(set(codes))
    found = {r.code: r.id for r in await RoleRepository.from_session(session).by_codes(wanted)}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ValidationFailed(f"roles: unknown role(s) {', '.join(unknown)}", field="roles")
    return [found[c] for c in wanted], wanted


async def _check_org_unit(session: AsyncSession, caller: Caller, org_unit_id: uuid.UUID | None) -> None:
    if org_unit_id is not None and not await org_unit_service.exists_at_node(
        session, node=caller.node, org_unit_id=org_unit_id
    ):
        raise ValidationFailed(f"orgUnitId: no org unit {org_unit_id} at node {caller.node!r}", field="orgUnitId")


async def list_staff(session: AsyncSession, *, caller: Caller, lq: ListQuery) -> tuple[list[StaffWithRoles], int]:
    repo = StaffRepository.from_session(session)
    rows, total = await repo.page(lq, principal=caller.principal, topology=caller.topology)
    roles = await repo.roles_of(s.id for s in rows)
    return [(s, roles[s.id]) for s in rows], total


async def get_staff(
    session: AsyncSession, *, caller: Caller, staff_id: uuid.UUID, for_update: bool = False
) -> StaffWithRoles:
    repo = StaffRepository.from_session(session)
    staff = await repo.get(staff_id, principal=caller.principal, topology=caller.topology, for_update=for_update)
    if staff is None:
        raise NotFound(f"staff {staff_id} not found")
    return staff, (await repo.roles_of([staff.id]))[staff.id]


async def _record(
    session: AsyncSession,
    caller: Caller,
    staff: Staff,
    roles: list[str],
    action: str,
    before: dict[str, Any],
    *,
    after: dict[str, Any] | None = None,
    created: bool = False,
) -> None:
    """Version, event (the stored state with its roles) and audit in one call (`ChangeLog.record_change`)."""
    await CHANGES.record_change(
        session,
        staff,
        aggregate_type="staff",
        event=lambda s: events.staff_state(s, roles),
        actor=caller.actor,
        action=action,
        changes=diff(before, after if after is not None else _snapshot(staff, roles)),
        created=created,
    )


async def _get_owned(session: AsyncSession, caller: Caller, staff_id: uuid.UUID) -> StaffWithRoles:
    staff, roles = await get_staff(session, caller=caller, staff_id=staff_id, for_update=True)
    if staff.owner_node != caller.node:
        raise NotOwner("staff", str(staff.id), staff.owner_node)
    return staff, roles


async def create_staff(
    session: AsyncSession, *, caller: Caller, data: StaffCreate, password_hash: str | None = None
) -> StaffWithRoles:
    """`password_hash`: an argon2 hash of `data.password` the caller already made (the demo seed hashes
    its one password once); None: hashed here."""
    repo = StaffRepository.from_session(session)
    if await repo.get_by_username(caller.node, data.username) is not None:
        raise Conflict(f"user name {data.username!r} is already taken at node {caller.node!r}")
    role_ids, roles = await _resolve_roles(session, data.roles)
    await _check_org_unit(session, caller, data.org_unit_id)
    staff = Staff(
        owner_node=caller.node,
        version=1,
        username=data.username,
        display_name=data.display_name,
        phone=data.phone,
        email=data.email,
        org_unit_id=data.org_unit_id,
        is_active=data.is_active,
        password_hash=password_hash or await hash_password(data.password),
    )
    try:
        await repo.add(staff)
    except IntegrityError:  # a concurrent create of the same user name won the race
        raise Conflict(f"user name {data.username!r} is already taken at node {caller.node!r}") from None
    await repo.set_roles(staff.id, role_ids)
    await _record(session, caller, staff, roles, "create", {}, created=True)
    return staff, roles


async def update_staff(
    session: AsyncSession, *, caller: Caller, staff_id: uuid.UUID, patch: StaffUpdate, present: set[str]
) -> StaffWithRoles:
    repo = StaffRepository.from_session(session)
    staff, roles = await _get_owned(session, caller, staff_id)
    before = _snapshot(staff, roles)
    values = patch_values(patch, present, not_null={"display_name", "password", "roles", "is_active"})
    if "roles" in values:
        role_ids, new_roles = await _resolve_roles(session, values.pop("roles"))
        role_service.check_assignment(
            caller, username=staff.username, owner_node=staff.owner_node, added_roles=set(new_roles) - set(roles)
        )
        roles = new_roles
        await repo.set_roles(staff.id, role_ids)
    if "org_unit_id" in values:
        await _check_org_unit(session, caller, values["org_unit_id"])
    password = values.pop("password", None)
    for name, value in values.items():
        setattr(staff, name, value)
    after = _snapshot(staff, roles)
    if password is not None:
        staff.password_hash = await hash_password(password)
        before["password"], after["password"] = "***", "*** (changed)"
    if after == before:
        return staff, roles
    await _record(session, caller, staff, roles, "update", before, after=after)
    return staff, roles


async def deactivate_staff(session: AsyncSession, *, caller: Caller, staff_id: uuid.UUID) -> None:
    """Soft delete: the record stays (history, assignments), the user can no longer log in."""
    staff, roles = await _get_owned(session, caller, staff_id)
    if not staff.is_active:
        return
    before = _snapshot(staff, roles)
    staff.is_active = False
    await _record(session, caller, staff, roles, "deactivate", before)


async def account_managers(session: AsyncSession, *, node: str) -> list[tuple[str, str]]:
    return await StaffRepository.from_session(session).active_usernames(node, "account_manager")
