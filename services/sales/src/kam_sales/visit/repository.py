"""All SQL of visits: the scoped base (node subtree and portfolio), filters, the completion aggregate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_platform.topology import Topology
from kam_sales.models import Visit

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Visit.id, predicate=uuid_filter(Visit.id)),
    "customer.id": Filterable(Visit.customer_id, predicate=uuid_filter(Visit.customer_id)),
    "opportunity.id": Filterable(Visit.opportunity_id, predicate=uuid_filter(Visit.opportunity_id)),
    "status": Filterable(Visit.status),
    "outcome": Filterable(Visit.outcome),
    "subject": Filterable(Visit.subject),
    "accountManager": Filterable(Visit.account_manager),
    "ownerNode": Filterable(Visit.owner_node),
    "plannedAt": Filterable(Visit.planned_at, datetime),
    "visitedAt": Filterable(Visit.visited_at, datetime),
    "createdAt": Filterable(Visit.created_at, datetime),
    "updatedAt": Filterable(Visit.updated_at, datetime),
}


class VisitRepository(ScopedRepository[Visit]):
    model = Visit
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return Visit.account_manager.in_(managers)

    async def completion(
        self, principal: Principal, topology: Topology, start: date, end: date, *, by_manager: bool
    ) -> list[dict[str, Any]]:
        """(owner node or account manager) → visits planned in [start, end) that were not cancelled, done."""
        v = (
            self.scoped(principal, topology)
            .where(Visit.planned_at >= start, Visit.planned_at < end, Visit.status != "cancelled")
            .subquery()
        )
        key = v.c.account_manager if by_manager else v.c.owner_node
        stmt = select(
            key.label("key"), func.count().label("planned"), func.count().filter(v.c.status == "done").label("done")
        ).group_by(key)
        return [r._asdict() for r in (await self.session.execute(stmt)).all()]
