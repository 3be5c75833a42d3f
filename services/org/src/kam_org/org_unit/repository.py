"""SQL of org units; the data-scope filter is applied here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import OrgUnit, Staff, Team
from kam_platform.auth import Principal, not_portfolio_data, scope_filter
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology

ORG_UNIT_FILTERS: dict[str, Filterable] = {
    "id": Filterable(OrgUnit.id, predicate=uuid_filter(OrgUnit.id)),
    "code": Filterable(OrgUnit.code),
    "name": Filterable(OrgUnit.name),
    "kind": Filterable(OrgUnit.kind),
    "ownerNode": Filterable(OrgUnit.owner_node),
    "parentId": Filterable(OrgUnit.parent_id, predicate=uuid_filter(OrgUnit.parent_id)),
    "createdAt": Filterable(OrgUnit.created_at, datetime),
    "updatedAt": Filterable(OrgUnit.updated_at, datetime),
}


class OrgUnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> OrgUnitRepository:
        return cls(session)

    async def page(self, lq: ListQuery, *, principal: Principal, topology: Topology) -> tuple[Sequence[OrgUnit], int]:
        stmt = select(OrgUnit).where(
            scope_filter(OrgUnit.owner_node, principal, topology, portfolio=not_portfolio_data)
        )
        stmt = apply_filters(stmt, lq, ORG_UNIT_FILTERS)
        if lq.q:
            stmt = stmt.where(OrgUnit.name.ilike(f"%{lq.q}%") | OrgUnit.code.ilike(f"%{lq.q}%"))
        return await fetch_page(self.session, stmt, lq, ORG_UNIT_FILTERS, OrgUnit.id)

    async def get(
        self, unit_id: uuid.UUID, *, principal: Principal, topology: Topology, for_update: bool = False
    ) -> OrgUnit | None:
        stmt = select(OrgUnit).where(
            OrgUnit.id == unit_id, scope_filter(OrgUnit.owner_node, principal, topology, portfolio=not_portfolio_data)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_at_node(self, node: str, unit_id: uuid.UUID) -> OrgUnit | None:
        """The unit of this node, held under a key-share lock as a foreign key would hold it: a
        concurrent delete waits for the referencing write and then counts its reference (units, staff
        and teams refer to units without foreign keys, so that replicas can apply them in any order)."""
        stmt = select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.owner_node == node).with_for_update(key_share=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_by_code(self, node: str, code: str) -> OrgUnit | None:
        stmt = select(OrgUnit).where(OrgUnit.owner_node == node, OrgUnit.code == code)
        return (await self.session.scalars(stmt)).one_or_none()

    async def add(self, unit: OrgUnit) -> OrgUnit:
        self.session.add(unit)
        await self.session.flush()
        return unit

    async def delete(self, unit: OrgUnit) -> None:
        await self.session.delete(unit)
        await self.session.flush()

    async def ancestor_ids(self, unit_id: uuid.UUID) -> list[uuid.UUID]:
        """The unit and every unit above it (to refuse a parent cycle)."""
        tree = select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.id == unit_id).cte(recursive=True)
        tree = tree.union_all(select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.id == tree.c.parent_id))
        return list(await self.session.scalars(select(tree.c.id)))

    async def references(self, unit_id: uuid.UUID) -> int:
        """How many staff, teams and child units point at the unit."""
        total = 0
        for stmt in (
            select(func.count()).where(Staff.org_unit_id == unit_id),
            select(func.count()).where(Team.org_unit_id == unit_id),
            select(func.count()).where(OrgUnit.parent_id == unit_id),
        ):
            total += int(await self.session.scalar(stmt) or 0)
        return total
