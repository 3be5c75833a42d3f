"""All SQL of contacts (TMF632 Individual); scoped like customers (a contact is in its customer's
portfolio)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from kam_customer.customer.rules import DecisionRole
from kam_customer.models import Contact, Customer
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Contact.id, predicate=uuid_filter(Contact.id)),
    "givenName": Filterable(Contact.given_name),
    "familyName": Filterable(Contact.family_name),
    "fullName": Filterable(Contact.full_name),
    "decisionRole": Filterable(Contact.decision_role, DecisionRole),
    "customer.id": Filterable(Contact.customer_id, sortable=False, predicate=uuid_filter(Contact.customer_id)),
    "ownerNode": Filterable(Contact.owner_node),
}


class ContactRepository(ScopedRepository[Contact]):
    model = Contact
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> Any:
        # a contact belongs to its customer's portfolio
        return Contact.customer_id.in_(select(Customer.id).where(Customer.account_manager.in_(managers)))

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        return stmt.where(Contact.full_name.contains(term, autoescape=True))

    async def lock_of_customer(self, customer_id: uuid.UUID) -> Sequence[Contact]:
        """A customer's live contacts, locked, as committed."""
        stmt = (
            select(Contact)
            .where(Contact.customer_id == customer_id, Contact.deleted_at.is_(None))
            .order_by(Contact.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def other_primary(self, customer_id: uuid.UUID, contact_id: uuid.UUID) -> Contact | None:
        """The customer's live primary contact other than `contact_id` (read under the customer's lock)."""
        stmt = select(Contact).where(
            Contact.customer_id == customer_id,
            Contact.is_primary.is_(True),
            Contact.deleted_at.is_(None),
            Contact.id != contact_id,
        )
        found: Contact | None = (await self.session.scalars(stmt.limit(1))).first()
        return found
