"""All SQL of the needs profile; the data scope is the platform's (`ScopedRepository`)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kam_customer.attached import AttachedRepository
from kam_platform.auth import Principal
from kam_platform.settings import Settings

from .models import NeedsProfile


class NeedsRepository(AttachedRepository):
    model = NeedsProfile

    async def of_customer(
        self, customer_id: uuid.UUID, principal: Principal, settings: Settings
    ) -> NeedsProfile | None:
        row: NeedsProfile | None = (await self.session.scalars(self.of(customer_id, principal, settings))).one_or_none()
        return row

    async def for_update(self, customer_id: uuid.UUID) -> NeedsProfile | None:
        stmt = select(NeedsProfile).where(NeedsProfile.customer_id == customer_id).with_for_update()
        row: NeedsProfile | None = (
            await self.session.scalars(stmt.execution_options(populate_existing=True))
        ).one_or_none()
        return row
