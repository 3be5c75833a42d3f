"""SQL of roles, permissions and their links."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Permission, Role, RolePermission, StaffRole
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page

ROLE_FILTERS: dict[str, Filterable] = {
    "id": Filterable(Role.code),  # a role's id is its code
    "code": Filterable(Role.code),
    "nameZh": Filterable(Role.name_zh),
    "nameEn": Filterable(Role.name_en),
    "createdAt": Filterable(Role.created_at, datetime),
    "updatedAt": Filterable(Role.updated_at, datetime),
}
PERMISSION_FILTERS: dict[str, Filterable] = {"id": Filterable(Permission.code), "code": Filterable(Permission.code)}


class RoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> RoleRepository:
        return cls(session)

    async def page(self, lq: ListQuery) -> tuple[Sequence[Role], int]:
        stmt = apply_filters(select(Role), lq, ROLE_FILTERS)
        if lq.q:
            like = f"%{lq.q}%"
            stmt = stmt.where(Role.code.ilike(like) | Role.name_zh.ilike(like) | Role.name_en.ilike(like))
        return await fetch_page(self.session, stmt, lq, ROLE_FILTERS, Role.code)

    async def get_by_code(self, code: str, *, for_update: bool = False) -> Role | None:
        stmt = select(Role).where(Role.code == code)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_codes(self, codes: Iterable[str]) -> Sequence[Role]:
        return (await self.session.scalars(select(Role).where(Role.code.in_(list(codes))))).all()

    async def add(self, role: Role) -> Role:
        self.session.add(role)
        await self.session.flush()
        return role

    async def delete(self, role: Role) -> None:
        await self.session.delete(role)
        await self.session.flush()

    async def permissions_of(self, role_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        ids = list(role_ids)
        out: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = await self.session.execute(
            select(RolePermission.role_id, RolePermission.permission_code)
            .where(RolePermission.role_id.in_(ids))
            .order_by(RolePermission.permission_code)
        )
        for role_id, code in rows:
            out[role_id].append(code)
        return out

    async def set_permissions(self, role_id: uuid.UUID, codes: Iterable[str]) -> None:
        await self.session.execute(delete(RolePermission).where(RolePermission.role_id == role_id))
        rows = [{"role_id": role_id, "permission_code": c} for c in sorted(set(codes))]
        if rows:
            await self.session.execute(insert(RolePermission), rows)

    async def staff_count(self, role_id: uuid.UUID) -> int:
        n = await self.session.scalar(select(func.count()).where(StaffRole.role_id == role_id))
        return int(n or 0)

    # --- the permission catalogue ------------------------------------------------------------

    async def list_permissions(self, lq: ListQuery) -> tuple[Sequence[Permission], int]:
        stmt = apply_filters(select(Permission), lq, PERMISSION_FILTERS)
        if lq.q:
            stmt = stmt.where(Permission.code.ilike(f"%{lq.q}%") | Permission.description.ilike(f"%{lq.q}%"))
        return await fetch_page(self.session, stmt, lq, PERMISSION_FILTERS, Permission.code)

    async def get_permission(self, code: str) -> Permission | None:
        return await self.session.get(Permission, code)

    async def existing_permissions(self, codes: Iterable[str]) -> set[str]:
        rows = await self.session.scalars(select(Permission.code).where(Permission.code.in_(list(codes))))
        return set(rows)
