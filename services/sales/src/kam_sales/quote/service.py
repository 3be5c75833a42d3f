"""Quotes' rules: owned and written where created; line items from offerings active and sellable at the
owner node (a retired or unavailable one is a 422 naming it); discounts within the rule's maximum, and
above its threshold only with the approval of the account manager's manager; versions by revision."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.client import OrgClient
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, Forbidden, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_sales.catalog import service as catalog_service
from kam_sales.changes import CHANGES
from kam_sales.models import Quote
from kam_sales.money import CENT
from kam_sales.opportunity import service as opportunity_service
from kam_sales.probability import Asker, discount_thresholds

from .dataset import QUOTES
from .repository import QuoteRepository
from .schemas import TRANSITIONS, QuoteCreate, QuoteItemCreate, QuoteUpdate

AGGREGATE = "quote"
HUNDRED = Decimal(100)


class SeparationOfDuties(Forbidden):
    code, reason = "SEPARATION_OF_DUTIES", "Separation of duties"


class NotApprover(Forbidden):
    code, reason = "NOT_APPROVER", "Not the approver"


@dataclass(frozen=True)
class Caller:
    """Who asks, and how to reach the rules and org services on their behalf."""

    principal: Principal
    rules: Asker
    org: OrgClient


def snapshot(r: Quote) -> dict[str, Any]:
    return {
        "number": r.number,
        "quoteVersion": r.quote_version,
        "name": r.name,
        "description": r.description,
        "customerId": r.customer_id,
        "opportunityId": r.opportunity_id,
        "state": r.status,
        "quoteItem": r.items,
        "subtotal": {"unit": r.currency, "value": str(r.subtotal)},
        "total": {"unit": r.currency, "value": str(r.total)},
        "maxDiscountPercent": str(r.max_discount_percent),
        "approvalRequired": r.approval_required,
        "approvalRule": r.approval_rule,
        "approvedBy": r.approved_by,
        "approvalNote": r.approval_note,
        "validUntil": r.valid_until,
        "previousId": r.previous_id,
        "supersededById": r.superseded_by_id,
        "accountManager": r.account_manager,
    }


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is not an id", field=field) from None


@dataclass(frozen=True)
class Priced:
    items: list[dict[str, Any]]
    currency: str
    subtotal: Decimal
    total: Decimal
    max_discount: Decimal


async def _price(
    session: AsyncSession, settings: Settings, caller: Caller, items: Sequence[QuoteItemCreate], on: date
) -> Priced:
    """The lines, each on an offering sellable at this node on `on`, in one currency, with discounts
    within the rule's maximum; amounts to the cent."""
    sellable = {
        str(o.id): o for o in await catalog_service.sellable_at(session, settings=settings, node=settings.node, on=on)
    }
    wanted = []
    for i, it in enumerate(items):
        try:
            wanted.append(uuid.UUID(it.product_offering.id))
        except ValueError:
            field = f"quoteItem[{i}].productOffering.id"
            raise ValidationFailed(f"{field}: {it.product_offering.id!r} is not an id", field=field) from None
    unsellable = [w for w in wanted if str(w) not in sellable]
    known = (
        await catalog_service.known_at(session, settings=settings, node=settings.node, ids=unsellable)
        if unsellable
        else {}
    )
    _, maximum, _ = await discount_thresholds(caller.rules, node=settings.node, on=on)
    currency = items[0].unit_price.unit
    out: list[dict[str, Any]] = []
    subtotal = total = top = Decimal(0)
    for i, (it, oid) in enumerate(zip(items, wanted, strict=True)):
        o = sellable.get(str(oid))
        if o is None:
            field = f"quoteItem[{i}].productOffering.id"
            k = known.get(oid)
            if k is None:
                why = "is not in the catalogue at this node"
            elif k.lifecycle_status == "retired":
                why = f"({k.name}) is retired"
            elif k.lifecycle_status != "active":
                why = f"({k.name}) is {k.lifecycle_status}, not active"
            else:
                why = f"({k.name}) is not available at {settings.node} on {on}"
            raise ValidationFailed(f"{field}: offering {oid} {why}", field=field)
        if it.unit_price.unit != currency:
            field = f"quoteItem[{i}].unitPrice.unit"
            raise ValidationFailed(f"{field}: a quote is in one currency ({currency})", field=field)
        if it.discount_percent > maximum:
            field = f"quoteItem[{i}].discountPercent"
            raise ValidationFailed(
                f"{field}: {it.discount_percent}% is above the most the discount rule allows ({maximum}%)",
                field=field,
            )
        gross = it.unit_price.value * it.quantity
        amount = (gross * (HUNDRED - it.discount_percent) / HUNDRED).quantize(CENT)
        subtotal += gross
        total += amount
        top = max(top, it.discount_percent)
        line: dict[str, Any] = {
            "id": str(i + 1),
            "productOffering": {"id": str(o.id), "name": o.name},
            "quantity": it.quantity,
            "unitPrice": {"unit": currency, "value": f"{it.unit_price.value.quantize(CENT)}"},
            "discountPercent": f"{it.discount_percent.quantize(CENT)}",
            "amount": {"unit": currency, "value": f"{amount}"},
        }
        if it.note:
            line["note"] = it.note
        out.append(line)
    return Priced(out, currency, subtotal.quantize(CENT), total.quantize(CENT), top.quantize(CENT))


async def _opportunity(
    session: AsyncSession, settings: Settings, who: Principal, ref_id: str, customer_id: uuid.UUID
) -> uuid.UUID:
    oid = _uuid(ref_id, "opportunity.id")
    try:
        o = await opportunity_service.get_visible(session, settings=settings, principal=who, opportunity_id=oid)
    except NotFound:
        raise ValidationFailed(f"opportunity.id: no opportunity {oid} in your scope", field="opportunity.id") from None
    if o.customer_id != customer_id:
        raise ValidationFailed(
            f"opportunity.id: opportunity {oid} is with customer {o.customer_id}, not {customer_id}",
            field="opportunity.id",
        )
    return oid


def _apply(r: Quote, p: Priced) -> None:
    r.items, r.currency, r.subtotal, r.total, r.max_discount_percent = (
        p.items,
        p.currency,
        p.subtotal,
        p.total,
        p.max_discount,
    )


async def create(
    session: AsyncSession, *, settings: Settings, caller: Caller, data: QuoteCreate, now: datetime
) -> Quote:
    who = caller.principal
    customer_id = _uuid(data.customer.id, "customer.id")
    if await QuoteRepository.from_session(session).number_taken(settings.node, data.number):
        raise Conflict(f"quote number {data.number} is taken at {settings.node}; revise that quote instead")
    priced = await _price(session, settings, caller, data.quote_item, now.date())
    r = Quote(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        number=data.number,
        quote_version=1,
        name=data.name,
        description=data.description,
        customer_id=customer_id,
        opportunity_id=(
            await _opportunity(session, settings, who, data.opportunity.id, customer_id) if data.opportunity else None
        ),
        status="inProgress",
        approval_required=False,
        valid_until=data.valid_until,
        account_manager=data.account_manager or who.username,
        created_by=who.username,
        created_at=now,
        updated_at=now,
    )
    _apply(r, priced)
    session.add(r)
    await _record(session, r, who, "create", diff({}, snapshot(r)), now, created=True)
    return r


async def _record(
    session: AsyncSession,
    r: Quote,
    who: Principal,
    action: str,
    changes: dict[str, Any],
    now: datetime,
    *,
    created: bool = False,
) -> None:
    await CHANGES.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        event=QUOTES.to_message,
        actor=who.username,
        action=action,
        changes=changes,
        created=created,
        at=now,
    )


async def get_visible(session: AsyncSession, *, settings: Settings, principal: Principal, quote_id: uuid.UUID) -> Quote:
    r = await QuoteRepository.from_session(session).get_visible(quote_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"quote {quote_id} not found")
    return r


async def list_quotes(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Quote], int]:
    return await QuoteRepository.from_session(session).page(principal, settings.topology, lq)


async def _locked_own(session: AsyncSession, settings: Settings, who: Principal, quote_id: uuid.UUID) -> Quote:
    await get_visible(session, settings=settings, principal=who, quote_id=quote_id)
    r = await QuoteRepository.from_session(session).get_for_update(quote_id)
    if r is None:
        raise NotFound(f"quote {quote_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("quote", str(r.id), r.owner_node)
    return r


def _refuse(r: Quote, to: str, allowed: Sequence[str], why: str = "") -> InvalidTransition:
    return InvalidTransition(
        f"quote {r.id} is {r.status}{why}; it may move to {', '.join(allowed) if allowed else 'nothing'}",
        details={"from": r.status, "to": to, "allowed": list(allowed)},
    )


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: Caller,
    quote_id: uuid.UUID,
    patch: QuoteUpdate,
    present: set[str],
    now: datetime,
) -> Quote:
    who = caller.principal
    r = await _locked_own(session, settings, who, quote_id)
    for key, attr in (("name", "name"), ("quoteItem", "quote_item"), ("state", "state")):
        if key in present and getattr(patch, attr) is None:
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    content = present - {"state"}
    if content and r.status != "inProgress":
        raise InvalidTransition(
            f"quote {r.id} is {r.status}; only a quote in progress is edited (revise it for new terms)",
            details={"from": r.status, "allowed": list(TRANSITIONS[r.status])},
        )
    before = snapshot(r)
    if patch.name is not None:
        r.name = patch.name
    if "description" in present:
        r.description = patch.description
    if "validUntil" in present:
        r.valid_until = patch.valid_until
    if patch.quote_item is not None:
        _apply(r, await _price(session, settings, caller, patch.quote_item, now.date()))
    action = "update"
    if patch.state is not None and patch.state.value != r.status:
        if patch.state.value not in TRANSITIONS[r.status]:
            raise _refuse(r, patch.state.value, TRANSITIONS[r.status])
        r.status = action = patch.state.value
    changes = diff(before, snapshot(r))
    if changes:
        await _record(session, r, who, action, changes, now)
    return r


async def submit(
    session: AsyncSession, *, settings: Settings, caller: Caller, quote_id: uuid.UUID, now: datetime
) -> Quote:
    """inProgress → approved when the largest discount is within the rule's threshold, else → pending
    (the account manager's manager decides). The lines are checked again: the catalogue may have moved."""
    who = caller.principal
    r = await _locked_own(session, settings, who, quote_id)
    if r.status != "inProgress":
        raise _refuse(r, "pending", TRANSITIONS[r.status], " (only a quote in progress is submitted)")
    before = snapshot(r)
    items = [
        QuoteItemCreate.model_validate(
            {k: it[k] for k in ("productOffering", "quantity", "unitPrice", "discountPercent", "note") if k in it}
        )
        for it in r.items
    ]
    _apply(r, await _price(session, settings, caller, items, now.date()))
    threshold, _, rule = await discount_thresholds(caller.rules, node=settings.node, on=now.date())
    r.approval_required, r.approval_rule = r.max_discount_percent > threshold, rule
    if r.approval_required:
        r.status = "pending"
    else:
        r.status, r.decided_at = "approved", now
    await _record(session, r, who, "submit", diff(before, snapshot(r)), now)
    return r


async def decide(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: Caller,
    quote_id: uuid.UUID,
    approve: bool,
    note: str | None,
    now: datetime,
) -> Quote:
    """pending → approved | rejected, by a manager of the quote's account manager (a leader of a team
    at the owner node the account manager is in, asked of org with the approver's token) who is neither
    the account manager nor the quote's author (403 SEPARATION_OF_DUTIES)."""
    who = caller.principal
    r = await _locked_own(session, settings, who, quote_id)
    to = "approved" if approve else "rejected"
    if r.status != "pending":
        raise _refuse(r, to, TRANSITIONS[r.status], " (only a quote pending approval is decided)")
    if who.username in (r.created_by, r.account_manager):
        raise SeparationOfDuties(
            f"{who.username} drafted or manages quote {r.id}; its discount is approved by the account manager's manager"
        )
    token = caller.rules.token
    managers = await caller.org.managers_of(r.account_manager, node=r.owner_node, token=token)
    if who.username not in managers:
        names = ", ".join(sorted(managers)) or "nobody (they are in no team with a leader)"
        raise NotApprover(
            f"quote {r.id}'s discount of {r.max_discount_percent}% is approved by the manager of "
            f"{r.account_manager}: {names}",
            details={"approvers": sorted(managers)},
        )
    before = snapshot(r)
    r.status, r.approved_by, r.approval_note, r.decided_at = to, who.username, note, now
    await _record(session, r, who, to, diff(before, snapshot(r)), now)
    return r


async def revise(
    session: AsyncSession, *, settings: Settings, caller: Caller, quote_id: uuid.UUID, now: datetime
) -> Quote:
    """A new version (quoteVersion + 1, same number, inProgress) with this one's lines; this one is
    superseded. An accepted, cancelled or superseded quote is not revised."""
    who = caller.principal
    old = await _locked_own(session, settings, who, quote_id)
    if old.status not in ("inProgress", "pending", "approved", "rejected"):
        raise _refuse(old, "superseded", TRANSITIONS[old.status], " (it is not revised)")
    new = Quote(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        number=old.number,
        quote_version=old.quote_version + 1,
        name=old.name,
        description=old.description,
        customer_id=old.customer_id,
        opportunity_id=old.opportunity_id,
        status="inProgress",
        currency=old.currency,
        items=list(old.items),
        subtotal=old.subtotal,
        total=old.total,
        max_discount_percent=old.max_discount_percent,
        approval_required=False,
        valid_until=old.valid_until,
        previous_id=old.id,
        account_manager=old.account_manager,
        created_by=who.username,
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    await _record(session, new, who, "revision", diff({}, snapshot(new)), now, created=True)
    before = snapshot(old)
    old.status, old.superseded_by_id = "superseded", new.id
    await _record(session, old, who, "superseded", diff(before, snapshot(old)), now)
    return new
