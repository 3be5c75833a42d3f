"""All SQL of opportunities: the scoped base (node subtree and portfolio), filters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_sales.models import Opportunity

from .schemas import OPEN, Source, Stage

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Opportunity.id, predicate=uuid_filter(Opportunity.id)),
    "customer.id": Filterable(Opportunity.customer_id, predicate=uuid_filter(Opportunity.customer_id)),
    "name": Filterable(Opportunity.name),
    "stage": Filterable(Opportunity.stage, Stage),
    "source": Filterable(Opportunity.source, Source),
    "probability": Filterable(Opportunity.probability, int),
    "accountManager": Filterable(Opportunity.account_manager),
    "ownerNode": Filterable(Opportunity.owner_node),
    "expectedAmount.value": Filterable(Opportunity.expected_amount, Decimal),
    "closeDate": Filterable(Opportunity.close_date, date),
    "nextFollowUp.at": Filterable(Opportunity.next_follow_up_at, datetime),
    "competitor": Filterable(Opportunity.competitor),
    "version": Filterable(Opportunity.version, int),
    "createdAt": Filterable(Opportunity.created_at, datetime),
    "updatedAt": Filterable(Opportunity.updated_at, datetime),
}


class OpportunityRepository(ScopedRepository[Opportunity]):
    model = Opportunity
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        # the deal's account manager stands for the customer's: sales keeps no copy of customers
        return Opportunity.account_manager.in_(managers)

    async def follow_ups_due(self, node: str, since: datetime, now: datetime) -> Sequence[Opportunity]:
        """Open opportunities of this node whose next follow-up fell due in (since, now]."""
        stmt = select(Opportunity).where(
            Opportunity.owner_node == node,
            Opportunity.stage.in_(OPEN),
            Opportunity.next_follow_up_at > since,
            Opportunity.next_follow_up_at <= now,
        )
        return (await self.session.scalars(stmt)).all()
