"""Contracts' rules: owned and written where created, the status flow inProgress → signed →
terminated (inProgress → cancelled), renewal as a new version linked to the old, and the expiry
reminders the scheduled job gives exactly once per contract and offset, only at the owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.notify import Note
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_sales.changes import CHANGES
from kam_sales.models import Agreement, AgreementReminder
from kam_sales.notifications import NOTIFICATIONS
from kam_sales.opportunity import service as opportunity_service
from kam_sales.probability import Asker, expiry_offsets

from .dataset import AGREEMENTS
from .repository import AgreementRepository, ReminderRepository
from .schemas import TRANSITIONS, AgreementCreate, AgreementRenew, AgreementUpdate

AGGREGATE = "agreement"


def snapshot(r: Agreement) -> dict[str, Any]:
    return {
        "number": r.number,
        "agreementVersion": r.agreement_version,
        "name": r.name,
        "description": r.description,
        "customerId": r.customer_id,
        "status": r.status,
        "signedDate": r.signed_date,
        "agreementPeriod": {"startDateTime": r.start_date, "endDateTime": r.end_date},
        "amount": {"unit": r.currency, "value": str(r.amount)},
        "terms": r.terms,
        "opportunityId": r.opportunity_id,
        "quoteId": r.quote_id,
        "slaReference": r.sla_reference,
        "renewalStatus": r.renewal_status,
        "previousId": r.previous_id,
        "renewedById": r.renewed_by_id,
        "accountManager": r.account_manager,
    }


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is not an id", field=field) from None


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


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: AgreementCreate, now: datetime
) -> Agreement:
    customer_id = _uuid(data.customer.id, "customer.id")
    repo = AgreementRepository.from_session(session)
    if await repo.number_taken(settings.node, data.number):
        raise Conflict(f"contract number {data.number} is taken at {settings.node}; renew that contract instead")
    r = Agreement(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        number=data.number,
        agreement_version=1,
        name=data.name,
        description=data.description,
        customer_id=customer_id,
        status="inProgress",
        start_date=data.agreement_period.start_date_time,
        end_date=data.agreement_period.end_date_time,
        amount=data.amount.value,
        currency=data.amount.unit,
        terms=data.terms,
        opportunity_id=(
            await _opportunity(session, settings, principal, data.opportunity.id, customer_id)
            if data.opportunity
            else None
        ),
        quote_id=data.quote.id if data.quote else None,
        sla_reference=data.sla_reference,
        renewal_status="none",
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
        event=AGREEMENTS.to_message,
        actor=principal.username,
        action="create",
        changes=diff({}, snapshot(r)),
        created=True,
    )
    return r


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, agreement_id: uuid.UUID
) -> Agreement:
    r = await AgreementRepository.from_session(session).get_visible(agreement_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"agreement {agreement_id} not found")
    return r


async def list_agreements(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Agreement], int]:
    return await AgreementRepository.from_session(session).page(principal, settings.topology, lq)


async def _locked_own(session: AsyncSession, settings: Settings, who: Principal, agreement_id: uuid.UUID) -> Agreement:
    await get_visible(session, settings=settings, principal=who, agreement_id=agreement_id)
    r = await AgreementRepository.from_session(session).get_for_update(agreement_id)
    if r is None:
        raise NotFound(f"agreement {agreement_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("agreement", str(r.id), r.owner_node)
    return r


def _move(r: Agreement, to: str) -> None:
    allowed = TRANSITIONS[r.status]
    if to not in allowed:
        raise InvalidTransition(
            f"agreement {r.id} is {r.status}; it may move to {', '.join(allowed) if allowed else 'nothing'}",
            details={"from": r.status, "to": to, "allowed": list(allowed)},
        )


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    agreement_id: uuid.UUID,
    patch: AgreementUpdate,
    present: set[str],
    now: datetime,
) -> Agreement:
    r = await _locked_own(session, settings, principal, agreement_id)
    for key in ("name", "agreementPeriod", "amount", "accountManager", "status"):
        if (
            key in present
            and getattr(
                patch, {"agreementPeriod": "agreement_period", "accountManager": "account_manager"}.get(key, key)
            )
            is None
        ):
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    before = snapshot(r)
    editable = r.status == "inProgress"
    content = present - {"status", "signedDate", "renewalStatus"}
    if content and not editable:
        raise InvalidTransition(
            f"agreement {r.id} is {r.status}; its terms are fixed (renew it for new terms)",
            details={"from": r.status, "allowed": list(TRANSITIONS[r.status])},
        )
    if patch.name is not None:
        r.name = patch.name
    if "description" in present:
        r.description = patch.description
    if patch.agreement_period is not None:
        r.start_date, r.end_date = patch.agreement_period.start_date_time, patch.agreement_period.end_date_time
    if patch.amount is not None:
        r.amount, r.currency = patch.amount.value, patch.amount.unit
    if "terms" in present:
        r.terms = patch.terms
    if "opportunity" in present:
        r.opportunity_id = (
            await _opportunity(session, settings, principal, patch.opportunity.id, r.customer_id)
            if patch.opportunity
            else None
        )
    if "quote" in present:
        r.quote_id = patch.quote.id if patch.quote else None
    if "slaReference" in present:
        r.sla_reference = patch.sla_reference
    if patch.account_manager is not None:
        r.account_manager = patch.account_manager
    action = "update"
    if patch.status is not None and patch.status.value != r.status:
        _move(r, patch.status.value)
        if patch.status.value == "signed":
            if patch.signed_date is None:
                raise ValidationFailed("signedDate: a contract is signed on a date (签订日期)", field="signedDate")
            r.signed_date = patch.signed_date
        r.status = patch.status.value
        action = r.status
    elif "signedDate" in present:
        raise ValidationFailed("signedDate: given with status signed", field="signedDate")
    if patch.renewal_status is not None:
        if r.status != "signed" or r.renewal_status != "none":
            raise InvalidTransition(
                f"agreement {r.id} is {r.status}, renewal {r.renewal_status}; only a signed contract not yet "
                "renewed is marked notRenewed",
                details={"from": r.renewal_status, "allowed": []},
            )
        r.renewal_status = "notRenewed"
    changes = diff(before, snapshot(r))
    if changes:
        await CHANGES.record_change(
            session,
            r,
            aggregate_type=AGGREGATE,
            event=AGREEMENTS.to_message,
            actor=principal.username,
            action=action,
            changes=changes,
            at=now,
        )
    return r


async def renew(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    agreement_id: uuid.UUID,
    data: AgreementRenew,
    now: datetime,
) -> Agreement:
    """A new version of a signed contract (agreementVersion + 1, inProgress until signed), linked both ways;
    the old one is marked renewed, so no more expiry reminders come for it."""
    old = await _locked_own(session, settings, principal, agreement_id)
    if old.status != "signed" or old.renewal_status != "none":
        raise InvalidTransition(
            f"agreement {old.id} is {old.status}, renewal {old.renewal_status}; a signed contract is renewed once",
            details={"from": old.status, "allowed": []},
        )
    if data.agreement_period.start_date_time < old.start_date:
        raise ValidationFailed(
            "agreementPeriod.startDateTime: a renewal starts no earlier than the contract it renews",
            field="agreementPeriod.startDateTime",
        )
    new = Agreement(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        number=old.number,
        agreement_version=old.agreement_version + 1,
        name=data.name or old.name,
        description=old.description,
        customer_id=old.customer_id,
        status="inProgress",
        start_date=data.agreement_period.start_date_time,
        end_date=data.agreement_period.end_date_time,
        amount=data.amount.value if data.amount else old.amount,
        currency=data.amount.unit if data.amount else old.currency,
        terms=data.terms if data.terms is not None else old.terms,
        opportunity_id=old.opportunity_id,
        quote_id=old.quote_id,
        sla_reference=old.sla_reference,
        renewal_status="none",
        previous_id=old.id,
        account_manager=old.account_manager,
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    await CHANGES.record_change(
        session,
        new,
        aggregate_type=AGGREGATE,
        event=AGREEMENTS.to_message,
        actor=principal.username,
        action="renewal",
        changes=diff({}, snapshot(new)),
        created=True,
    )
    before = snapshot(old)
    old.renewal_status, old.renewed_by_id = "renewed", new.id
    await CHANGES.record_change(
        session,
        old,
        aggregate_type=AGGREGATE,
        event=AGREEMENTS.to_message,
        actor=principal.username,
        action="renewed",
        changes=diff(before, snapshot(old)),
        at=now,
    )
    return new


def expiry_note(a: Agreement, rem: AgreementReminder) -> Note:
    """The notification of one expiry reminder, to the contract's account manager (key: contract + offset)."""
    return Note(
        key=f"agreement:{a.id}:expiry:{rem.offset_days}",
        kind="agreementExpiry",
        title=f"合同到期提醒 · {a.name}",
        text=(
            f"合同 {a.number} 将于 {a.end_date.isoformat()} 到期（提前 {rem.offset_days} 天提醒）。"
            f" Contract {a.number} expires on {a.end_date.isoformat()} ({rem.offset_days} days' notice)."
        ),
        subject_type="Agreement",
        subject_id=a.id,
        user=a.account_manager,
    )


async def remind_due(
    session: AsyncSession, *, settings: Settings, now: datetime, ask: Asker | None, actor: str
) -> Sequence[AgreementReminder]:
    """The scheduled job: for each signed, unrenewed contract this node owns, one reminder per offset of
    the reminder rule whose day has come (end − offset ≤ today < end). The (contract, offset) key makes
    each exactly once, however often and wherever the job runs; replicas own nothing, so they remind of
    nothing. A contract found past several offsets at once (the job was down) gets each of them. Each
    reminder given is delivered to the contract's account manager's inbox in the same transaction."""
    today = now.date()
    offsets, rule = await expiry_offsets(ask, node=settings.node, on=today)
    due = await AgreementRepository.from_session(session).expiring(
        settings.node, today, today + timedelta(days=max(offsets))
    )
    rows = [
        {
            "id": uuid7(),
            "agreement_id": a.id,
            "owner_node": a.owner_node,
            "offset_days": off,
            "due_on": a.end_date - timedelta(days=off),
            "end_date": a.end_date,
            "account_manager": a.account_manager,
            "rule": rule,
            "reminded_at": now,
        }
        for a in due
        for off in offsets
        if a.end_date - timedelta(days=off) <= today
    ]
    written = await ReminderRepository.from_session(session).add_once(rows)
    by_id = {a.id: a for a in due}
    await NOTIFICATIONS.notify(session, [expiry_note(by_id[rem.agreement_id], rem) for rem in written],
                               node=settings.node, at=now)  # fmt: skip
    for rem in written:
        await CHANGES.audit(
            session,
            node=settings.node,
            entity_type=AGGREGATE,
            entity_id=rem.agreement_id,
            action="expiryReminder",
            actor=actor,
            changes={"offsetDays": [None, rem.offset_days], "endDate": [None, rem.end_date.isoformat()]},
        )
    return written


async def list_reminders(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[AgreementReminder], int]:
    return await ReminderRepository.from_session(session).page(principal, settings.topology, lq)
