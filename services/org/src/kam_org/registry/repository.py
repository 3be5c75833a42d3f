"""SQL of the permission registry: registrations, the catalogue upsert and grant inserts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Permission, Role, RolePermission
from kam_org.models.permission_registry import PermissionRegistration

# one registration at a time per database (several org processes may start together)
_LOCK = "org.permission_registration"


class RegistryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> RegistryRepository:
        return cls(session)

    async def lock(self) -> None:
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})

    async def registrations(self) -> dict[str, PermissionRegistration]:
        rows = (await self.session.scalars(select(PermissionRegistration))).all()
        return {r.service: r for r in rows}

    async def save(self, registration: PermissionRegistration) -> None:
        self.session.add(registration)
        await self.session.flush()

    async def catalogue(self) -> dict[str, str]:
        rows = await self.session.execute(select(Permission.code, Permission.description))
        return {code: description for code, description in rows}

    async def upsert_permissions(self, permissions: Mapping[str, str]) -> None:
        if not permissions:
            return
        stmt = insert(Permission).values([{"code": c, "description": d} for c, d in permissions.items()])
        stmt = stmt.on_conflict_do_update(
            index_elements=[Permission.code],
            set_={"description": stmt.excluded.description},
            where=Permission.description.is_distinct_from(stmt.excluded.description),
        )
        await self.session.execute(stmt)

    async def roles_for_update(self, codes: Iterable[str]) -> dict[str, Role]:
        stmt = select(Role).where(Role.code.in_(sorted(set(codes)))).order_by(Role.code).with_for_update()
        return {r.code: r for r in (await self.session.scalars(stmt)).all()}

    async def add_grants(self, role_id: uuid.UUID, codes: Iterable[str]) -> list[str]:
        """Grant `codes` to the role where not granted yet; returns the codes actually added."""
        rows = [{"role_id": role_id, "permission_code": c} for c in sorted(set(codes))]
        if not rows:
            return []
        stmt = insert(RolePermission).values(rows).on_conflict_do_nothing().returning(RolePermission.permission_code)
        return sorted((await self.session.scalars(stmt)).all())

    async def permissions_of(self, role_id: uuid.UUID) -> Sequence[str]:
        stmt = (
            select(RolePermission.permission_code)
            .where(RolePermission.role_id == role_id)
            .order_by(RolePermission.permission_code)
        )
        return (await self.session.scalars(stmt)).all()
