"""All SQL of campaigns: who sees which campaign (authored in the caller's subtree or published from
above), the target lists held here, the responses and the converted opportunities in scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.errors import InvalidQuery
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology
from kam_sales.catalog.repository import visible_owners
from kam_sales.models import Campaign, CampaignResponse, CampaignTargetList, Opportunity
from kam_sales.opportunity.repository import OpportunityRepository


def _targeting(op: str, values: list[Any]) -> ColumnElement[bool]:
    """Campaigns with one of these customers in a target list held here (the customer's 360 view); an id
    that is not a UUID cannot be a target and matches nothing."""
    if op != "eq":
        raise InvalidQuery("only equality filters apply to target.customer.id")
    ids = []
    for v in values:
        try:
            ids.append(str(uuid.UUID(str(v))))
        except ValueError:
            continue
    if not ids:
        return Campaign.id.in_([])
    held = select(CampaignTargetList.campaign_id).where(
        or_(*(CampaignTargetList.targets.contains([{"customerId": i}]) for i in ids))
    )
    return Campaign.id.in_(held)


FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Campaign.id, predicate=uuid_filter(Campaign.id)),
    "name": Filterable(Campaign.name),
    "status": Filterable(Campaign.status),
    "channel": Filterable(Campaign.channel),
    "ownerNode": Filterable(Campaign.owner_node),
    "budget.value": Filterable(Campaign.budget, Decimal),
    "period.startDateTime": Filterable(Campaign.valid_from, date),
    "period.endDateTime": Filterable(Campaign.valid_to, date),
    "target.customer.id": Filterable(Campaign.id, sortable=False, predicate=_targeting),
    "createdBy": Filterable(Campaign.created_by),
    "createdAt": Filterable(Campaign.created_at, datetime),
    "updatedAt": Filterable(Campaign.updated_at, datetime),
}


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> CampaignRepository:
        return cls(session)

    def _scoped(self, principal: Principal, topology: Topology, here: str) -> Select[Any]:
        # the catalogue's rule: authored in the caller's subtree, or published down by an ancestor;
        # another node's draft is the author's alone
        return select(Campaign).where(
            Campaign.owner_node.in_(visible_owners(principal, topology)),
            (Campaign.owner_node == here) | Campaign.status.in_(("running", "closed")),
        )

    async def page(
        self, principal: Principal, topology: Topology, here: str, lq: ListQuery
    ) -> tuple[Sequence[Campaign], int]:
        stmt = apply_filters(self._scoped(principal, topology, here), lq, FILTERABLE)
        return await fetch_page(self.session, stmt, lq, FILTERABLE, Campaign.id)

    async def get_visible(
        self, campaign_id: uuid.UUID, principal: Principal, topology: Topology, here: str
    ) -> Campaign | None:
        row: Campaign | None = await self.session.scalar(
            self._scoped(principal, topology, here).where(Campaign.id == campaign_id)
        )
        return row

    async def lock(self, campaign_id: uuid.UUID) -> Campaign | None:
        return await lock(self.session, Campaign, campaign_id)

    async def target_lists(self, campaign_id: uuid.UUID) -> Sequence[CampaignTargetList]:
        stmt = select(CampaignTargetList).where(CampaignTargetList.campaign_id == campaign_id)
        return (await self.session.scalars(stmt.order_by(CampaignTargetList.scope_node))).all()


class ResponseRepository(ScopedRepository[CampaignResponse]):
    model = CampaignResponse

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return CampaignResponse.account_manager.in_(managers)

    async def of_campaign(
        self, campaign_id: uuid.UUID, principal: Principal, topology: Topology
    ) -> Sequence[CampaignResponse]:
        stmt = self.scoped(principal, topology).where(CampaignResponse.campaign_id == campaign_id)
        return (await self.session.scalars(stmt)).all()

    async def for_update(self, campaign_id: uuid.UUID, customer_id: uuid.UUID, node: str) -> CampaignResponse | None:
        stmt = (
            select(CampaignResponse)
            .where(
                CampaignResponse.campaign_id == campaign_id,
                CampaignResponse.customer_id == customer_id,
                CampaignResponse.owner_node == node,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row: CampaignResponse | None = await self.session.scalar(stmt)
        return row


class ConvertedRepository(OpportunityRepository):
    async def amounts(
        self, ids: Sequence[uuid.UUID], principal: Principal, topology: Topology
    ) -> dict[uuid.UUID, tuple[str, Decimal, str]]:
        """id → (stage, expected amount, currency) of the opportunities among `ids` the caller sees."""
        if not ids:
            return {}
        stmt = self.scoped(principal, topology).where(Opportunity.id.in_(ids))
        return {o.id: (o.stage, o.expected_amount, o.currency) for o in (await self.session.scalars(stmt)).all()}
