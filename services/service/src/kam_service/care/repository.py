"""All SQL of care: scoped pages of plans (node level only: a plan spans customers) and activities
(portfolio by the customer's account manager), the proposals already made, the job's lock."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_service.models.care import CareActivity, CarePlan

from .states import CareKind, CareStatus

PLAN_FILTERS = {
    "kind": Filterable(CarePlan.kind, CareKind),
    "isActive": Filterable(CarePlan.is_active, bool),
    "ownerNode": Filterable(CarePlan.owner_node),
    "name": Filterable(CarePlan.name),
}
ACTIVITY_FILTERS = {
    "kind": Filterable(CareActivity.kind, CareKind),
    "status": Filterable(CareActivity.status, CareStatus),
    "dueOn": Filterable(CareActivity.due_on, date),
    "ownerNode": Filterable(CareActivity.owner_node),
    "planId": Filterable(CareActivity.plan_id, sortable=False, predicate=uuid_filter(CareActivity.plan_id)),
    "relatedParty.id": Filterable(
        CareActivity.customer_id, sortable=False, predicate=uuid_filter(CareActivity.customer_id)
    ),
}


class PlanRepository(ScopedRepository[CarePlan]):
    model = CarePlan
    filterable = PLAN_FILTERS

    async def add(self, plan: CarePlan) -> None:
        self.session.add(plan)
        await self.session.flush()

    async def active_of(self, node: str) -> list[CarePlan]:
        stmt = select(CarePlan).where(CarePlan.owner_node == node, CarePlan.is_active.is_(True)).order_by(CarePlan.id)
        return list((await self.session.scalars(stmt)).all())


class ActivityRepository(ScopedRepository[CareActivity]):
    model = CareActivity
    filterable = ACTIVITY_FILTERS

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return CareActivity.account_manager.in_(managers)

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        return stmt.where(CareActivity.title.ilike(like) | CareActivity.customer_name.ilike(like))

    async def add(self, activity: CareActivity) -> None:
        self.session.add(activity)
        await self.session.flush()

    async def proposed_keys(self, keys: Collection[str]) -> set[str]:
        if not keys:
            return set()
        stmt = select(CareActivity.proposal_key).where(CareActivity.proposal_key.in_(list(keys)))
        return {k for k in (await self.session.scalars(stmt)).all() if k}

    async def lock_job(self, node: str) -> None:
        """One proposer per node at a time (the transaction's advisory lock); the keys make it once."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"kam:service:care:{node}"}
        )
