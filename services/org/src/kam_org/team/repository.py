"""SQL of teams and members; the data-scope filter is applied here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Staff, Team, TeamMember
from kam_platform.auth import Principal, not_portfolio_data, scope_filter
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology

TEAM_FILTERS: dict[str, Filterable] = {
    "id": Filterable(Team.id, predicate=uuid_filter(Team.id)),
    "code": Filterable(Team.code),
    "name": Filterable(Team.name),
    "kind": Filterable(Team.kind),
    "ownerNode": Filterable(Team.owner_node),
    "orgUnitId": Filterable(Team.org_unit_id, predicate=uuid_filter(Team.org_unit_id)),
    "leaderId": Filterable(Team.leader_id, predicate=uuid_filter(Team.leader_id)),
    "createdAt": Filterable(Team.created_at, datetime),
    "updatedAt": Filterable(Team.updated_at, datetime),
}


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> TeamRepository:
        return cls(session)

    async def page(self, lq: ListQuery, *, principal: Principal, topology: Topology) -> tuple[Sequence[Team], int]:
        stmt = select(Team).where(scope_filter(Team.owner_node, principal, topology, portfolio=not_portfolio_data))
        stmt = apply_filters(stmt, lq, TEAM_FILTERS)
        if lq.q:
            stmt = stmt.where(Team.name.ilike(f"%{lq.q}%") | Team.code.ilike(f"%{lq.q}%"))
        return await fetch_page(self.session, stmt, lq, TEAM_FILTERS, Team.id)

    async def get(
        self, team_id: uuid.UUID, *, principal: Principal, topology: Topology, for_update: bool = False
    ) -> Team | None:
        stmt = select(Team).where(
            Team.id == team_id, scope_filter(Team.owner_node, principal, topology, portfolio=not_portfolio_data)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_by_code(self, node: str, code: str) -> Team | None:
        stmt = select(Team).where(Team.owner_node == node, Team.code == code)
        return (await self.session.scalars(stmt)).one_or_none()

    async def add(self, team: Team) -> Team:
        self.session.add(team)
        await self.session.flush()
        return team

    async def delete(self, team: Team) -> None:
        await self.session.delete(team)
        await self.session.flush()

    async def members_of(self, team_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        ids = list(team_ids)
        out: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = await self.session.execute(
            select(TeamMember.team_id, TeamMember.staff_id)
            .where(TeamMember.team_id.in_(ids))
            .order_by(TeamMember.staff_id)
        )
        for team_id, staff_id in rows:
            out[team_id].append(staff_id)
        return out

    async def set_members(self, team_id: uuid.UUID, staff_ids: Iterable[uuid.UUID]) -> None:
        await self.session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
        rows = [{"team_id": team_id, "staff_id": s} for s in set(staff_ids)]
        if rows:
            await self.session.execute(insert(TeamMember), rows)

    async def staff_at_node(self, node: str, staff_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = list(staff_ids)
        if not ids:
            return set()
        rows = await self.session.scalars(select(Staff.id).where(Staff.owner_node == node, Staff.id.in_(ids)))
        return set(rows)
