"""SQL of staff and their roles; the data-scope filter is applied here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Role, Staff, StaffRole
from kam_platform.auth import Principal, not_portfolio_data, scope_filter
from kam_platform.errors import InvalidQuery
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology


def _role_predicate(op: str, values: list[Any]) -> ColumnElement[bool]:
    if op != "eq":
        raise InvalidQuery("only equality filters apply to role")
    return exists(
        select(StaffRole.staff_id)
        .join(Role, Role.id == StaffRole.role_id)
        .where(StaffRole.staff_id == Staff.id, Role.code.in_(values))
    )


STAFF_FILTERS: dict[str, Filterable] = {
    "id": Filterable(Staff.id, predicate=uuid_filter(Staff.id)),
    "username": Filterable(Staff.username),
    "displayName": Filterable(Staff.display_name),
    "isActive": Filterable(Staff.is_active, bool),
    "ownerNode": Filterable(Staff.owner_node),
    "orgUnitId": Filterable(Staff.org_unit_id, predicate=uuid_filter(Staff.org_unit_id)),
    "roles": Filterable(None, sortable=False, predicate=_role_predicate),
    "createdAt": Filterable(Staff.created_at, datetime),
    "updatedAt": Filterable(Staff.updated_at, datetime),
}


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> StaffRepository:
        return cls(session)

    async def page(self, lq: ListQuery, *, principal: Principal, topology: Topology) -> tuple[Sequence[Staff], int]:
        stmt = select(Staff).where(scope_filter(Staff.owner_node, principal, topology, portfolio=not_portfolio_data))
        stmt = apply_filters(stmt, lq, STAFF_FILTERS)
        if lq.q:
            like = f"%{lq.q}%"
            stmt = stmt.where(Staff.username.ilike(like) | Staff.display_name.ilike(like))
        return await fetch_page(self.session, stmt, lq, STAFF_FILTERS, Staff.id)

    async def get(
        self, staff_id: uuid.UUID, *, principal: Principal, topology: Topology, for_update: bool = False
    ) -> Staff | None:
        stmt = select(Staff).where(
            Staff.id == staff_id, scope_filter(Staff.owner_node, principal, topology, portfolio=not_portfolio_data)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_by_username(self, node: str, username: str) -> Staff | None:
        stmt = select(Staff).where(Staff.owner_node == node, Staff.username == username)
        return (await self.session.scalars(stmt)).one_or_none()

    async def add(self, staff: Staff) -> Staff:
        self.session.add(staff)
        await self.session.flush()
        return staff

    async def roles_of(self, staff_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        ids = list(staff_ids)
        out: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = await self.session.execute(
            select(StaffRole.staff_id, Role.code)
            .join(Role, Role.id == StaffRole.role_id)
            .where(StaffRole.staff_id.in_(ids))
            .order_by(Role.code)
        )
        for staff_id, code in rows:
            out[staff_id].append(code)
        return out

    async def set_roles(self, staff_id: uuid.UUID, role_ids: Iterable[uuid.UUID]) -> None:
        await self.session.execute(delete(StaffRole).where(StaffRole.staff_id == staff_id))
        rows = [{"staff_id": staff_id, "role_id": r} for r in set(role_ids)]
        if rows:
            await self.session.execute(insert(StaffRole), rows)

    async def active_usernames(self, node: str, role: str) -> list[tuple[str, str]]:
        stmt = (
            select(Staff.username, Staff.display_name)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .join(Role, Role.id == StaffRole.role_id)
            .where(Staff.owner_node == node, Staff.is_active, Role.code == role)
            .order_by(Staff.username)
        )
        return [(u, d) for u, d in await self.session.execute(stmt)]
