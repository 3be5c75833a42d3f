"""All SQL of contact schemes: the scoped page (portfolio by the customer's account manager)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_service.models.care import ContactScheme

FILTERS = {
    "relatedParty.id": Filterable(
        ContactScheme.customer_id, sortable=False, predicate=uuid_filter(ContactScheme.customer_id)
    ),
    "ownerNode": Filterable(ContactScheme.owner_node),
}


class SchemeRepository(ScopedRepository[ContactScheme]):
    model = ContactScheme
    filterable = FILTERS

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return ContactScheme.account_manager.in_(managers)

    async def of_customer(self, node: str, customer_id: uuid.UUID) -> ContactScheme | None:
        stmt = select(ContactScheme).where(ContactScheme.owner_node == node, ContactScheme.customer_id == customer_id)
        found: ContactScheme | None = (await self.session.scalars(stmt)).first()
        return found

    async def add(self, scheme: ContactScheme) -> None:
        self.session.add(scheme)
        await self.session.flush()
