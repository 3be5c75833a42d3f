"""Opportunities' rules: owned and written where created, stage moves with the probability the
effective rule gives (history kept), won/lost with a reason, products sellable at the owner node, a
decision chain of the customer's contacts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.notify import Note
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_sales.catalog import service as catalog_service
from kam_sales.changes import CHANGES
from kam_sales.models import Opportunity
from kam_sales.money import Money, money_json
from kam_sales.notifications import NOTIFICATIONS
from kam_sales.probability import Asker, stage_probabilities

from .dataset import OPPORTUNITIES
from .repository import OpportunityRepository
from .schemas import OPEN, TRANSITIONS, DecisionMaker, OpportunityCreate, OpportunityUpdate, Stage

AGGREGATE = "opportunity"
# how far back the follow-up job looks for due follow-ups it has not delivered (a job down longer
# than this does not deliver the older ones: they are history, not reminders)
FOLLOW_UP_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class Caller:
    """Who asks, and how to reach the rules service on their behalf."""

    principal: Principal
    rules: Asker


def snapshot(r: Opportunity) -> dict[str, Any]:
    return {
        "name": r.name,
        "description": r.description,
        "customerId": r.customer_id,
        "source": r.source,
        "stage": r.stage,
        "probability": r.probability,
        "probabilityRule": r.probability_rule,
        "expectedAmount": {"unit": r.currency, "value": str(r.expected_amount)},
        "closeDate": r.close_date,
        "competitor": r.competitor,
        "accountManager": r.account_manager,
        "closeReason": r.close_reason,
        "products": r.products,
        "decisionChain": r.decision_chain,
        "nextFollowUp": {"at": r.next_follow_up_at, "note": r.follow_up_note} if r.next_follow_up_at else None,
    }


def _chain(items: Sequence[DecisionMaker]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for i, d in enumerate(items):
        if d.contact_id in seen:
            raise ValidationFailed(
                f"decisionChain[{i}].contactId: contact {d.contact_id} is in the chain twice (one role per deal)",
                field=f"decisionChain[{i}].contactId",
            )
        seen.add(d.contact_id)
    return [d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in items]


async def sellable_products(
    session: AsyncSession, settings: Settings, refs: Sequence[Any], on: date
) -> list[dict[str, Any]]:
    """Offering references, each active and sellable at this node today (422 naming the one that is not)."""
    if not refs:
        return []
    sellable = {
        str(o.id): o for o in await catalog_service.sellable_at(session, settings=settings, node=settings.node, on=on)
    }
    out = []
    for i, ref in enumerate(refs):
        o = sellable.get(ref.id)
        if o is None:
            raise ValidationFailed(
                f"products[{i}].id: offering {ref.id} is not an active offering sellable at {settings.node} on {on}",
                field=f"products[{i}].id",
            )
        out.append({"id": str(o.id), "name": o.name})
    return out


async def _probability(caller: Caller, node: str, stage: str) -> tuple[int, str]:
    stages, rule = await stage_probabilities(caller.rules, node=node, on=datetime.now(UTC).date())
    return stages[stage], rule


async def create(session: AsyncSession, *, settings: Settings, caller: Caller, data: OpportunityCreate) -> Opportunity:
    who = caller.principal
    if data.stage.value not in OPEN:
        raise ValidationFailed(f"stage: a new opportunity starts in an open stage ({', '.join(OPEN)})", field="stage")
    try:
        customer_id = uuid.UUID(data.customer.id)
    except ValueError:
        raise ValidationFailed(f"customer.id: {data.customer.id!r} is not a customer id", field="customer.id") from None
    now = datetime.now(UTC)
    probability, rule = await _probability(caller, settings.node, data.stage.value)
    r = Opportunity(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        customer_id=customer_id,
        name=data.name,
        description=data.description,
        source=data.source.value,
        stage=data.stage.value,
        probability=probability,
        probability_rule=rule,
        expected_amount=data.expected_amount.value,
        currency=data.expected_amount.unit,
        close_date=data.close_date,
        competitor=data.competitor,
        account_manager=data.account_manager or who.username,
        products=await sellable_products(session, settings, data.products, now.date()),
        decision_chain=_chain(data.decision_chain),
        stage_history=[
            {
                "from": None,
                "to": data.stage.value,
                "probability": probability,
                "at": now.isoformat(),
                "by": who.username,
            }
        ],
        next_follow_up_at=data.next_follow_up.at if data.next_follow_up else None,
        follow_up_note=data.next_follow_up.note if data.next_follow_up else None,
        created_by=who.username,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await CHANGES.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        event=OPPORTUNITIES.to_message,
        actor=who.username,
        action="create",
        changes=diff({}, snapshot(r)),
        created=True,
    )
    return r


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, opportunity_id: uuid.UUID
) -> Opportunity:
    r = await OpportunityRepository.from_session(session).get_visible(opportunity_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"opportunity {opportunity_id} not found")
    return r


async def list_opportunities(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Opportunity], int]:
    return await OpportunityRepository.from_session(session).page(principal, settings.topology, lq)


_REQUIRED = {
    "name": "name",
    "source": "source",
    "stage": "stage",
    "expectedAmount": "expected_amount",
    "accountManager": "account_manager",
    "products": "products",
    "decisionChain": "decision_chain",
}


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: Caller,
    opportunity_id: uuid.UUID,
    patch: OpportunityUpdate,
    present: set[str],
) -> Opportunity:
    who = caller.principal
    await get_visible(session, settings=settings, principal=who, opportunity_id=opportunity_id)
    repo = OpportunityRepository.from_session(session)
    r = await repo.get_for_update(opportunity_id)
    if r is None:
        raise NotFound(f"opportunity {opportunity_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("opportunity", str(r.id), r.owner_node)
    for key, attr in _REQUIRED.items():
        if key in present and getattr(patch, attr) is None:
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    if r.stage not in OPEN and present - {"nextFollowUp"}:
        raise InvalidTransition(
            f"opportunity {r.id} is {r.stage}; a closed deal is not changed",
            details={"from": r.stage, "allowed": []},
        )
    before = snapshot(r)
    now = datetime.now(UTC)
    if patch.name is not None:
        r.name = patch.name
    if "description" in present:
        r.description = patch.description
    if patch.source is not None:
        r.source = patch.source.value
    if patch.expected_amount is not None:
        r.expected_amount, r.currency = patch.expected_amount.value, patch.expected_amount.unit
    if "closeDate" in present:
        r.close_date = patch.close_date
    if "competitor" in present:
        r.competitor = patch.competitor
    if patch.account_manager is not None:
        r.account_manager = patch.account_manager
    if patch.products is not None:
        r.products = await sellable_products(session, settings, patch.products, now.date())
    if patch.decision_chain is not None:
        r.decision_chain = _chain(patch.decision_chain)
    if "nextFollowUp" in present:
        r.next_follow_up_at = patch.next_follow_up.at if patch.next_follow_up else None
        r.follow_up_note = patch.next_follow_up.note if patch.next_follow_up else None
    action = "update"
    if patch.stage is not None and patch.stage.value != r.stage:
        await _move(r, patch.stage, patch.close_reason, caller=caller, now=now)
        action = "stage"
    elif "closeReason" in present:
        raise ValidationFailed("closeReason: given only with a stage of WON or LOST", field="closeReason")
    changes = diff(before, snapshot(r))
    if changes:
        await CHANGES.record_change(
            session,
            r,
            aggregate_type=AGGREGATE,
            event=OPPORTUNITIES.to_message,
            actor=who.username,
            action=action,
            changes=changes,
            at=now,
        )
    return r


async def _move(r: Opportunity, to: Stage, reason: str | None, *, caller: Caller, now: datetime) -> None:
    allowed = TRANSITIONS[r.stage]
    if to.value not in allowed:
        raise InvalidTransition(
            f"opportunity {r.id} is {r.stage}; it may move to {', '.join(allowed) if allowed else 'nothing (closed)'}",
            details={"from": r.stage, "to": to.value, "allowed": list(allowed)},
        )
    closing = to.value not in OPEN
    if closing and not reason:
        raise ValidationFailed(f"closeReason: a deal marked {to.value} says why (赢单/丢单原因)", field="closeReason")
    probability, rule = await _probability(caller, r.owner_node, to.value)
    entry: dict[str, Any] = {
        "from": r.stage,
        "to": to.value,
        "probability": probability,
        "at": now.isoformat(),
        "by": caller.principal.username,
    }
    if reason:
        entry["reason"] = reason
    r.stage_history = [*r.stage_history, entry]
    r.stage, r.probability, r.probability_rule = to.value, probability, rule
    if closing:
        r.close_reason, r.closed_at = reason, now


def weighted(r: Opportunity) -> dict[str, str]:
    """expectedAmount × probability, to the cent."""
    value = (r.expected_amount * Decimal(r.probability) / Decimal(100)).quantize(Decimal("0.01"))
    return money_json(Money(unit=r.currency, value=value))


async def notify_follow_ups(session: AsyncSession, *, node: str, now: datetime) -> int:
    """The scheduled job: each open opportunity of this node whose next follow-up (下次跟进) is due is
    delivered once to its account manager's inbox — once per follow-up time (a new date reminds again)."""
    due = await OpportunityRepository.from_session(session).follow_ups_due(node, now - FOLLOW_UP_LOOKBACK, now)
    notes = [
        Note(
            key=f"opportunity:{r.id}:followUp:{r.next_follow_up_at.isoformat()}",
            kind="opportunityFollowUp",
            title=f"跟进提醒 · {r.name}",
            text=(r.follow_up_note or "下次跟进时间已到 / The next follow-up is due")
            + f" ({r.next_follow_up_at.isoformat()})",
            subject_type="Opportunity",
            subject_id=r.id,
            user=r.account_manager,
        )
        for r in due
        if r.next_follow_up_at is not None
    ]
    return await NOTIFICATIONS.notify(session, notes, node=node, at=now)
