"""All SQL of expert service: the experts a node may call on (its own pool and its ancestors'), the
match for a request, the scoped page of requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy import any_ as sql_any
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_service.models.care import Expert, ExpertRequest

from .states import RequestStatus

REQUEST_FILTERS = {
    "status": Filterable(ExpertRequest.status, RequestStatus),
    "domain": Filterable(ExpertRequest.domain),
    "industry": Filterable(ExpertRequest.industry),
    "ownerNode": Filterable(ExpertRequest.owner_node),
    "requestedBy": Filterable(ExpertRequest.requested_by),
    "relatedParty.id": Filterable(
        ExpertRequest.customer_id, sortable=False, predicate=uuid_filter(ExpertRequest.customer_id)
    ),
}


class ExpertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> ExpertRepository:
        return cls(session)

    def _pool(self, nodes: Sequence[str]) -> Select[Any]:
        return select(Expert).where(Expert.owner_node.in_(list(nodes)))

    async def pool(
        self, nodes: Sequence[str], *, domain: str | None, industry: str | None, active: bool | None
    ) -> Sequence[Expert]:
        stmt = self._pool(nodes)
        if domain:
            stmt = stmt.where(literal(domain) == sql_any(Expert.domains))
        if industry:
            stmt = stmt.where(literal(industry) == sql_any(Expert.industries))
        if active is not None:
            stmt = stmt.where(Expert.is_active.is_(active))
        result: Sequence[Expert] = (await self.session.scalars(stmt.order_by(Expert.name, Expert.id))).all()
        return result

    async def get(self, nodes: Sequence[str], expert_id: uuid.UUID) -> Expert | None:
        found: Expert | None = (await self.session.scalars(self._pool(nodes).where(Expert.id == expert_id))).first()
        return found

    async def by_username(self, node: str, username: str) -> Expert | None:
        stmt = select(Expert).where(Expert.owner_node == node, Expert.username == username)
        found: Expert | None = (await self.session.scalars(stmt)).first()
        return found

    async def best_match(self, node: str, nodes: Sequence[str], domain: str, industry: str | None) -> Expert | None:
        """Active, with the domain, with the industry (or none listed: any), fewest open requests at
        this node; nearer pools first, then by name."""
        open_here = (
            select(func.count())
            .where(
                ExpertRequest.owner_node == node,
                ExpertRequest.expert_id == Expert.id,
                ExpertRequest.status == RequestStatus.ASSIGNED.value,
            )
            .scalar_subquery()
        )
        nearness = func.array_position(literal(list(nodes)), Expert.owner_node)
        stmt = self._pool(nodes).where(Expert.is_active.is_(True), literal(domain) == sql_any(Expert.domains))
        if industry:
            stmt = stmt.where(
                or_(func.cardinality(Expert.industries) == 0, literal(industry) == sql_any(Expert.industries))
            )
        stmt = stmt.order_by(open_here, nearness, Expert.name, Expert.id).limit(1)
        found: Expert | None = (await self.session.scalars(stmt)).first()
        return found

    async def add(self, expert: Expert) -> None:
        self.session.add(expert)
        await self.session.flush()


class RequestRepository(ScopedRepository[ExpertRequest]):
    model = ExpertRequest
    filterable = REQUEST_FILTERS

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return ExpertRequest.account_manager.in_(managers)

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        return stmt.where(ExpertRequest.subject.ilike(like) | ExpertRequest.customer_name.ilike(like))

    async def add(self, request: ExpertRequest) -> None:
        self.session.add(request)
        await self.session.flush()
