"""Sales leads' rules: owned and written where created, new ⇄ qualified → rejected (with a reason),
and conversion into an opportunity (source LEAD, the lead's products) in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_sales.changes import CHANGES
from kam_sales.models import Opportunity, SalesLead
from kam_sales.money import Money
from kam_sales.opportunity import service as opportunity_service
from kam_sales.opportunity.schemas import CustomerRef, OpportunityCreate
from kam_sales.opportunity.schemas import Source as OpportunitySource

from .dataset import LEADS
from .repository import LeadRepository
from .schemas import TRANSITIONS, LeadConvert, LeadCreate, LeadUpdate

AGGREGATE = "sales_lead"


def snapshot(r: SalesLead) -> dict[str, Any]:
    return {
        "name": r.name,
        "description": r.description,
        "status": r.status,
        "statusReason": r.status_reason,
        "rating": r.rating,
        "source": r.source,
        "customerId": r.customer_id,
        "prospectName": r.prospect_name,
        "estimatedRevenue": None
        if r.estimated_revenue is None
        else {"unit": r.currency, "value": str(r.estimated_revenue)},
        "products": r.products,
        "accountManager": r.account_manager,
        "opportunityId": r.opportunity_id,
    }


def _customer(ref: CustomerRef) -> uuid.UUID:
    try:
        return uuid.UUID(ref.id)
    except ValueError:
        raise ValidationFailed(f"customer.id: {ref.id!r} is not a customer id", field="customer.id") from None


async def create(session: AsyncSession, *, settings: Settings, principal: Principal, data: LeadCreate) -> SalesLead:
    now = datetime.now(UTC)
    r = SalesLead(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        name=data.name,
        description=data.description,
        status="new",
        rating=data.rating.value,
        source=data.source.value,
        customer_id=_customer(data.customer) if data.customer else None,
        prospect_name=data.prospect_name,
        estimated_revenue=data.estimated_revenue.value if data.estimated_revenue else None,
        currency=data.estimated_revenue.unit if data.estimated_revenue else "CNY",
        products=await opportunity_service.sellable_products(session, settings, data.products, now.date()),
        account_manager=data.account_manager or principal.username,
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await CHANGES.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        event=LEADS.to_message,
        actor=principal.username,
        action="create",
        changes=diff({}, snapshot(r)),
        created=True,
    )
    return r


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, lead_id: uuid.UUID
) -> SalesLead:
    r = await LeadRepository.from_session(session).get_visible(lead_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"salesLead {lead_id} not found")
    return r


async def list_leads(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[SalesLead], int]:
    return await LeadRepository.from_session(session).page(principal, settings.topology, lq)


async def _locked_own(session: AsyncSession, settings: Settings, who: Principal, lead_id: uuid.UUID) -> SalesLead:
    await get_visible(session, settings=settings, principal=who, lead_id=lead_id)
    r = await LeadRepository.from_session(session).get_for_update(lead_id)
    if r is None:
        raise NotFound(f"salesLead {lead_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("salesLead", str(r.id), r.owner_node)
    return r


def _closed(r: SalesLead) -> None:
    if r.status in ("converted", "rejected"):
        raise InvalidTransition(
            f"salesLead {r.id} is {r.status}; a closed lead is not changed", details={"from": r.status, "allowed": []}
        )


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    lead_id: uuid.UUID,
    patch: LeadUpdate,
    present: set[str],
) -> SalesLead:
    r = await _locked_own(session, settings, principal, lead_id)
    _closed(r)
    for key, attr in (
        ("name", "name"),
        ("rating", "rating"),
        ("source", "source"),
        ("products", "products"),
        ("accountManager", "account_manager"),
        ("status", "status"),
    ):
        if key in present and getattr(patch, attr) is None:
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    before = snapshot(r)
    now = datetime.now(UTC)
    if patch.name is not None:
        r.name = patch.name
    if "description" in present:
        r.description = patch.description
    if patch.rating is not None:
        r.rating = patch.rating.value
    if patch.source is not None:
        r.source = patch.source.value
    if "customer" in present:
        r.customer_id = _customer(patch.customer) if patch.customer else None
        if r.customer_id is not None:
            r.prospect_name = None
    if "estimatedRevenue" in present:
        r.estimated_revenue = patch.estimated_revenue.value if patch.estimated_revenue else None
        r.currency = patch.estimated_revenue.unit if patch.estimated_revenue else r.currency
    if patch.products is not None:
        r.products = await opportunity_service.sellable_products(session, settings, patch.products, now.date())
    if patch.account_manager is not None:
        r.account_manager = patch.account_manager
    action = "update"
    if patch.status is not None and patch.status.value != r.status:
        allowed = TRANSITIONS[r.status]
        if patch.status.value not in allowed:
            raise InvalidTransition(
                f"salesLead {r.id} is {r.status}; it may move to {', '.join(allowed)} "
                "(a lead becomes an opportunity by POST …/convert)",
                details={"from": r.status, "to": patch.status.value, "allowed": list(allowed)},
            )
        if patch.status.value == "rejected" and not patch.status_reason:
            raise ValidationFailed("statusReason: a rejected lead says why", field="statusReason")
        r.status, r.status_reason, action = patch.status.value, patch.status_reason, patch.status.value
    elif "statusReason" in present:
        raise ValidationFailed("statusReason: given with a status change", field="statusReason")
    changes = diff(before, snapshot(r))
    if changes:
        await CHANGES.record_change(
            session,
            r,
            aggregate_type=AGGREGATE,
            event=LEADS.to_message,
            actor=principal.username,
            action=action,
            changes=changes,
            at=now,
        )
    return r


async def convert(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: opportunity_service.Caller,
    lead_id: uuid.UUID,
    data: LeadConvert,
) -> Opportunity:
    """The lead becomes an opportunity at this node (source LEAD, its products); the lead is converted
    and names it. Both in one transaction."""
    who = caller.principal
    r = await _locked_own(session, settings, who, lead_id)
    _closed(r)
    customer = data.customer or (CustomerRef(id=str(r.customer_id)) if r.customer_id else None)
    if customer is None:
        raise ValidationFailed(
            f"customer: lead {r.id} is a prospect ({r.prospect_name}); name the customer it became", field="customer"
        )
    amount = data.expected_amount
    if amount is None:
        if r.estimated_revenue is None:
            raise ValidationFailed(
                "expectedAmount: the lead has no estimated revenue; give one", field="expectedAmount"
            )
        amount = Money(unit=r.currency, value=r.estimated_revenue)
    opportunity = await opportunity_service.create(
        session,
        settings=settings,
        caller=caller,
        data=OpportunityCreate.model_validate(
            {
                "name": data.name or r.name,
                "description": r.description,
                "customer": customer.model_dump(by_alias=True, exclude_none=True),
                "source": OpportunitySource.LEAD,
                "expectedAmount": amount,
                "closeDate": data.close_date,
                "accountManager": r.account_manager,
                "products": [{"id": p["id"]} for p in r.products],
            }
        ),
    )
    before = snapshot(r)
    r.status, r.opportunity_id = "converted", opportunity.id
    r.customer_id = opportunity.customer_id
    await CHANGES.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        event=LEADS.to_message,
        actor=who.username,
        action="converted",
        changes=diff(before, snapshot(r)),
    )
    return opportunity
