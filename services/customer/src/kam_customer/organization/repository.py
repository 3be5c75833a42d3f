"""All SQL of organizations (TMF632), scoped by owner node (and, for a portfolio, by the customers
they stand behind)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kam_customer.models import Customer, Organization
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter

from .schemas import PARTY_REFERENCE

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Organization.id, predicate=uuid_filter(Organization.id)),
    "name": Filterable(Organization.name),
    "tradingName": Filterable(Organization.trading_name),
    "organizationType": Filterable(Organization.organization_type),
    "status": Filterable(Organization.status),
    "creditCode": Filterable(Organization.credit_code),
    "ownerNode": Filterable(Organization.owner_node),
}


class OrganizationRepository(ScopedRepository[Organization]):
    model = Organization
    filterable = FILTERABLE

    async def by_party_reference(self, owner_node: str, party_id: str) -> Organization | None:
        """The live organization of `owner_node` created for an unknown engagedParty id (its external
        reference; docs/api-conventions.md)."""
        stmt = (
            select(Organization)
            .where(
                Organization.owner_node == owner_node,
                Organization.deleted_at.is_(None),
                Organization.tmf_attributes.contains(
                    {"externalReference": [{"externalReferenceType": PARTY_REFERENCE, "name": party_id}]}
                ),
            )
            .order_by(Organization.id)
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    def portfolio(self, managers: frozenset[str]) -> Any:
        # the legal entities behind the portfolio's customers
        return Organization.id.in_(
            select(Customer.organization_id).where(
                Customer.account_manager.in_(managers), Customer.deleted_at.is_(None)
            )
        )
