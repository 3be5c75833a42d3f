"""Rules for roles: codes are unique, permissions must exist in the catalogue, a role in use stays,
and separation of duties (职责分离) holds for every grant:

1. Nobody adds a permission to a role they hold, or a role to themselves: a grant that widens the
   granter's own rights needs a second person.
2. Sensitive permissions — unmasked PII (``*.pii:read``) and ``org.security:admin`` itself — are granted
   to a role only by a security administrator (``org.security:admin``, the ``security_admin`` role) or
   by a role administrator whose home is an ancestor node; a node's own sys_admin cannot.

So a node admin cannot give its own role PII access, and cannot give it to anyone else's role either.
Refusals are 403 ``SEPARATION_OF_DUTIES``; nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller, patch_values
from kam_org.audit.service import CHANGES
from kam_org.models import Permission, Role
from kam_org.role import events
from kam_org.role.repository import RoleRepository
from kam_org.role.schemas import RoleCreate, RoleUpdate
from kam_platform.audit import diff
from kam_platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kam_platform.tmf import ListQuery

RoleWithPermissions = tuple[Role, list[str]]

SECURITY_ADMIN = "org.security:admin"


class SeparationOfDuties(Forbidden):
    code, reason = "SEPARATION_OF_DUTIES", "Separation of duties"


def is_sensitive(permission: str) -> bool:
    """Permissions only a security administrator (or an ancestor's administrator) may grant."""
    return permission == SECURITY_ADMIN or permission.split(":", 1)[0].endswith(".pii")


def _is_ancestor_admin(caller: Caller) -> bool:
    home = caller.principal.home_node
    return home != caller.node and caller.topology.is_in_subtree(caller.node, home)


def check_grant(caller: Caller, *, role: str, added: Iterable[str]) -> None:
    """Refuse adding `added` permissions to `role` when separation of duties forbids it."""
    new = sorted(set(added))
    if not new:
        return
    principal = caller.principal
    if role in principal.roles:
        raise SeparationOfDuties(
            f"role {role!r}: you hold this role, so you may not grant it {', '.join(new)}; another administrator must"
        )
    sensitive = [p for p in new if is_sensitive(p)]
    if sensitive and not (principal.has(SECURITY_ADMIN) or _is_ancestor_admin(caller)):
        raise SeparationOfDuties(
            f"role {role!r}: {', '.join(sensitive)} may be granted only by a security administrator"
            f" ({SECURITY_ADMIN}) or an administrator of an ancestor node"
        )


def check_assignment(caller: Caller, *, username: str, owner_node: str, added_roles: Iterable[str]) -> None:
    """Refuse a user giving roles to themselves (they would gain the roles' permissions unchecked)."""
    new = sorted(set(added_roles))
    if new and username == caller.principal.username and owner_node == caller.principal.home_node:
        raise SeparationOfDuties(f"you may not give yourself role(s) {', '.join(new)}; another administrator must")


def _snapshot(role: Role, permissions: list[str]) -> dict[str, object]:
    return {
        "code": role.code,
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "description": role.description,
        "permissions": sorted(permissions),
    }


async def _check_permissions(repo: RoleRepository, codes: Iterable[str]) -> list[str]:
    wanted = sorted(set(codes))
    unknown = sorted(set(wanted) - await repo.existing_permissions(wanted))
    if unknown:
        raise ValidationFailed(f"permissions: unknown permission(s) {', '.join(unknown)}", field="permissions")
    return wanted


async def list_roles(session: AsyncSession, *, lq: ListQuery) -> tuple[list[RoleWithPermissions], int]:
    repo = RoleRepository.from_session(session)
    roles, total = await repo.page(lq)
    perms = await repo.permissions_of(r.id for r in roles)
    return [(r, perms[r.id]) for r in roles], total


async def get_role(session: AsyncSession, *, code: str, for_update: bool = False) -> RoleWithPermissions:
    repo = RoleRepository.from_session(session)
    role = await repo.get_by_code(code, for_update=for_update)
    if role is None:
        raise NotFound(f"role {code!r} not found")
    return role, (await repo.permissions_of([role.id]))[role.id]


async def _record(
    session: AsyncSession, caller: Caller, role: Role, perms: list[str], action: str, before: dict[str, Any]
) -> None:
    """The role's event and audit (through `CHANGES.audit`: a role has no owner node, see events.py);
    the caller has bumped and flushed the version."""
    await events.role_changed(session, caller=caller, role=role, permissions=perms)
    await CHANGES.audit(
        session,
        node=caller.node,
        entity_type="role",
        entity_id=role.id,
        action=action,
        actor=caller.actor,
        changes=diff(before, _snapshot(role, perms)),
        note=f"role {role.code}",
    )


async def create_role(session: AsyncSession, *, caller: Caller, data: RoleCreate) -> RoleWithPermissions:
    repo = RoleRepository.from_session(session)
    if await repo.get_by_code(data.code) is not None:
        raise Conflict(f"role {data.code!r} already exists")
    perms = await _check_permissions(repo, data.permissions)
    check_grant(caller, role=data.code, added=perms)
    role = await repo.add(
        Role(code=data.code, name_zh=data.name_zh, name_en=data.name_en, description=data.description, version=1)
    )
    await repo.set_permissions(role.id, perms)
    await _record(session, caller, role, perms, "create", {})
    return role, perms


async def update_role(
    session: AsyncSession, *, caller: Caller, code: str, patch: RoleUpdate, present: set[str]
) -> RoleWithPermissions:
    repo = RoleRepository.from_session(session)
    role, perms = await get_role(session, code=code, for_update=True)
    before = _snapshot(role, perms)
    values = patch_values(patch, present, not_null={"name_zh", "name_en", "permissions"})
    if "permissions" in values:
        wanted = await _check_permissions(repo, values.pop("permissions"))
        check_grant(caller, role=role.code, added=set(wanted) - set(perms))
        perms = wanted
        await repo.set_permissions(role.id, perms)
    for name, value in values.items():
        setattr(role, name, "" if name == "description" and value is None else value)
    after = _snapshot(role, perms)
    if after == before:
        return role, perms
    role.version += 1
    await session.flush()
    await _record(session, caller, role, perms, "update", before)
    return role, perms


async def delete_role(session: AsyncSession, *, caller: Caller, code: str) -> None:
    repo = RoleRepository.from_session(session)
    role, perms = await get_role(session, code=code, for_update=True)
    in_use = await repo.staff_count(role.id)
    if in_use:
        raise Conflict(f"role {code!r} is held by {in_use} staff; remove it from them first")
    await events.role_deleted(session, caller=caller, role=role)
    await CHANGES.audit(
        session,
        node=caller.node,
        entity_type="role",
        entity_id=role.id,
        action="delete",
        actor=caller.actor,
        changes=diff(_snapshot(role, perms), {}),
        note=f"role {role.code}",
    )
    await repo.delete(role)


async def list_permissions(session: AsyncSession, *, lq: ListQuery) -> tuple[Sequence[Permission], int]:
    return await RoleRepository.from_session(session).list_permissions(lq)


async def get_permission(session: AsyncSession, *, code: str) -> Permission:
    perm = await RoleRepository.from_session(session).get_permission(code)
    if perm is None:
        raise NotFound(f"permission {code!r} not found")
    return perm
