"""All SQL of sales leads: the scoped base (node subtree and portfolio), filters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_sales.models import SalesLead

from .schemas import Rating, Source, Status

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(SalesLead.id, predicate=uuid_filter(SalesLead.id)),
    "name": Filterable(SalesLead.name),
    "status": Filterable(SalesLead.status, Status),
    "rating": Filterable(SalesLead.rating, Rating),
    "source": Filterable(SalesLead.source, Source),
    "customer.id": Filterable(SalesLead.customer_id, predicate=uuid_filter(SalesLead.customer_id)),
    "accountManager": Filterable(SalesLead.account_manager),
    "ownerNode": Filterable(SalesLead.owner_node),
    "creationDate": Filterable(SalesLead.created_at, datetime),
    "statusChangeDate": Filterable(SalesLead.updated_at, datetime),
}


class LeadRepository(ScopedRepository[SalesLead]):
    model = SalesLead
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return SalesLead.account_manager.in_(managers)
