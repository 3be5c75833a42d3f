"""All SQL of organizations (TMF632), scoped by owner node."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer.models import Organization
from kam_platform.auth import Principal, scope_filter
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Organization.id, predicate=uuid_filter(Organization.id)),
    "name": Filterable(Organization.name),
    "tradingName": Filterable(Organization.trading_name),
    "organizationType": Filterable(Organization.organization_type),
    "status": Filterable(Organization.status),
    "creditCode": Filterable(Organization.credit_code),
    "ownerNode": Filterable(Organization.owner_node),
}


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> OrganizationRepository:
        return cls(session)

    def scoped(self, principal: Principal, topology: Topology) -> Select[Organization]:
        return select(Organization).where(
            Organization.deleted_at.is_(None), scope_filter(Organization.owner_node, principal, topology)
        )

    async def page(self, principal: Principal, topology: Topology, lq: ListQuery) -> tuple[Sequence[Organization], int]:
        stmt = apply_filters(self.scoped(principal, topology), lq, FILTERABLE)
        return await fetch_page(self.session, stmt, lq, FILTERABLE, Organization.id)

    async def get_visible(self, org_id: uuid.UUID, principal: Principal, topology: Topology) -> Organization | None:
        return (
            await self.session.scalars(self.scoped(principal, topology).where(Organization.id == org_id))
        ).one_or_none()

    async def get_for_update(self, org_id: uuid.UUID) -> Organization | None:
        """The committed row under its lock (populate_existing: never a stale identity-map copy)."""
        stmt = (
            select(Organization)
            .where(Organization.id == org_id, Organization.deleted_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()
