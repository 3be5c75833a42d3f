"""All SQL of contacts (TMF632 Individual); scoped by the owning node like customers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer.customer.rules import DecisionRole
from kam_customer.models import Contact
from kam_platform.auth import Principal, scope_filter
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Contact.id, predicate=uuid_filter(Contact.id)),
    "givenName": Filterable(Contact.given_name),
    "familyName": Filterable(Contact.family_name),
    "fullName": Filterable(Contact.full_name),
    "decisionRole": Filterable(Contact.decision_role, DecisionRole),
    "customer.id": Filterable(Contact.customer_id, sortable=False, predicate=uuid_filter(Contact.customer_id)),
    "ownerNode": Filterable(Contact.owner_node),
}


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> ContactRepository:
        return cls(session)

    def scoped(self, principal: Principal, topology: Topology) -> Select[Contact]:
        return select(Contact).where(
            Contact.deleted_at.is_(None), scope_filter(Contact.owner_node, principal, topology)
        )

    async def page(self, principal: Principal, topology: Topology, lq: ListQuery) -> tuple[Sequence[Contact], int]:
        stmt = apply_filters(self.scoped(principal, topology), lq, FILTERABLE)
        if lq.q:
            stmt = stmt.where(Contact.full_name.contains(lq.q.strip(), autoescape=True))
        return await fetch_page(self.session, stmt, lq, FILTERABLE, Contact.id)

    async def get_visible(self, contact_id: uuid.UUID, principal: Principal, topology: Topology) -> Contact | None:
        stmt = self.scoped(principal, topology).where(Contact.id == contact_id)
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_for_update(self, contact_id: uuid.UUID) -> Contact | None:
        """The committed row under its lock (populate_existing: never a stale identity-map copy)."""
        stmt = (
            select(Contact)
            .where(Contact.id == contact_id, Contact.deleted_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

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
