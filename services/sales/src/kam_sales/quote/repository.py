"""All SQL of quotes: the scoped base (node subtree and portfolio), filters, the number's uniqueness."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_sales.models import Quote

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Quote.id, predicate=uuid_filter(Quote.id)),
    "number": Filterable(Quote.number),
    "name": Filterable(Quote.name),
    "state": Filterable(Quote.status),
    "customer.id": Filterable(Quote.customer_id, predicate=uuid_filter(Quote.customer_id)),
    "opportunity.id": Filterable(Quote.opportunity_id, predicate=uuid_filter(Quote.opportunity_id)),
    "accountManager": Filterable(Quote.account_manager),
    "ownerNode": Filterable(Quote.owner_node),
    "quoteVersion": Filterable(Quote.quote_version, int),
    "total.value": Filterable(Quote.total, Decimal),
    "maxDiscountPercent": Filterable(Quote.max_discount_percent, Decimal),
    "validUntil": Filterable(Quote.valid_until, date),
    "createdAt": Filterable(Quote.created_at, datetime),
    "updatedAt": Filterable(Quote.updated_at, datetime),
}


class QuoteRepository(ScopedRepository[Quote]):
    model = Quote
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return Quote.account_manager.in_(managers)

    async def number_taken(self, node: str, number: str) -> bool:
        stmt = select(Quote.id).where(Quote.owner_node == node, Quote.number == number).limit(1)
        return (await self.session.scalar(stmt)) is not None
