"""All SQL of the decision map; the data scope is the platform's (`ScopedRepository`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from kam_customer.attached import AttachedRepository
from kam_customer.models import Contact
from kam_platform.auth import Principal
from kam_platform.settings import Settings

from .models import ContactRelation


class RelationRepository(AttachedRepository):
    model = ContactRelation

    async def of_customer(
        self, customer_id: uuid.UUID, principal: Principal, settings: Settings
    ) -> Sequence[ContactRelation]:
        stmt = self.of(customer_id, principal, settings).order_by(ContactRelation.created_at, ContactRelation.id)
        return (await self.session.scalars(stmt)).all()

    async def contacts(self, customer_id: uuid.UUID) -> Sequence[Contact]:
        stmt = (
            select(Contact)
            .where(Contact.customer_id == customer_id, Contact.deleted_at.is_(None))
            .order_by(Contact.full_name, Contact.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def live_exists(self, from_id: uuid.UUID, to_id: uuid.UUID, relation_type: str) -> bool:
        stmt = select(ContactRelation.id).where(
            ContactRelation.from_contact_id == from_id,
            ContactRelation.to_contact_id == to_id,
            ContactRelation.relation_type == relation_type,
            ContactRelation.deleted_at.is_(None),
        )
        return (await self.session.scalar(stmt)) is not None
