"""The 10000 adapter's rules: service numbers (the KA_LOOKUP index) and the key-account list
(KA_LIST_SYNC) they make, the real-time lookup, the inbound messages (TICKET_CREATE / TICKET_UPDATE /
SURVEY_RESULT, each handled once by msg_id) and the daily reconciliation of the outbound queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import NotFound, NotOwner, ValidationFailed
from kam_platform.settings import Settings
from kam_service.lookups import CustomerFacts, Lookups
from kam_service.models import TroubleTicket
from kam_service.models.cs10000 import CsReconciliation, CsSurvey, ServiceNumber
from kam_service.ticket import service as ticket_service
from kam_service.ticket.events import CHANGES
from kam_service.ticket.repository import TicketRepository
from kam_service.ticket.schemas import RevisitCreate, TroubleTicketCreate, TroubleTicketUpdate

from . import outbound
from .events import AGGREGATE, number_message
from .repository import InboundRepository, NumberRepository, OutboundRepository
from .schemas import (
    INBOUND,
    Ack,
    LookupRead,
    Message,
    MsgType,
    OpenTicketRead,
    ServiceNumberPut,
    SurveyResultPayload,
    TicketCreatePayload,
    TicketUpdatePayload,
    normalise_number,
)

P = TypeVar("P", bound=BaseModel)
TRACKED = ["customer_id", "customer_code", "customer_name", "grade", "account_manager", "priority_routing", "status"]


def _number(raw: str) -> str:
    number = normalise_number(raw)
    if number is None:
        raise ValidationFailed(f"{raw!r} is not a service number (5 to 20 digits, +86 allowed)", field="number")
    return number


def _snapshot(n: ServiceNumber) -> dict[str, Any]:
    return {k: getattr(n, k) for k in TRACKED}


def _facts_onto(n: ServiceNumber, facts: CustomerFacts) -> None:
    n.customer_id = facts.id
    n.customer_code = facts.code
    n.customer_name = facts.name
    n.grade = facts.grade
    n.account_manager = facts.account_manager


# --- service numbers and the key-account list -----------------------------------------------------


async def put_number(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    raw_number: str,
    body: ServiceNumberPut,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> tuple[ServiceNumber, bool]:
    """Register a service number for a customer the caller sees (its facts read from the customer
    service now), or re-point / re-activate it; the customer's KA_LIST_SYNC is queued. (row, created)."""
    number = _number(raw_number)
    try:
        customer_id = uuid.UUID(body.customer_id)
    except ValueError:
        raise ValidationFailed("customerId: not a valid id", field="customerId") from None
    facts = await lookups.customer(customer_id, token)
    repo = NumberRepository.from_session(session)
    n = await repo.by_number_for_update(number)
    if n is not None and n.owner_node != settings.node:
        raise NotOwner("serviceNumber", number, n.owner_node)
    created = n is None
    previous_customer = None if n is None else n.customer_id
    if n is None:
        n = ServiceNumber(
            id=uuid.uuid4(),
            owner_node=settings.node,
            version=1,
            number=number,
            priority_routing=body.priority_routing,
            status="ACTIVE",
            created_at=now,
            updated_at=now,
        )
        _facts_onto(n, facts)
        session.add(n)
        before: dict[str, Any] = {}
    else:
        before = _snapshot(n)
        _facts_onto(n, facts)
        n.priority_routing = body.priority_routing
        n.status = "ACTIVE"
    changes = diff(before, _snapshot(n))
    if changes:
        await CHANGES.record_change(
            session,
            n,
            aggregate_type=AGGREGATE,
            event=number_message,
            actor=principal.username,
            action="create" if created else "update",
            changes=changes,
            created=created,
            at=now,
        )
    await sync_customer(session, settings=settings, customer_id=n.customer_id, now=now)
    if previous_customer is not None and previous_customer != n.customer_id:
        await sync_customer(session, settings=settings, customer_id=previous_customer, now=now)
    return n, created


async def retire_number(
    session: AsyncSession, *, settings: Settings, principal: Principal, raw_number: str, now: datetime
) -> None:
    repo = NumberRepository.from_session(session)
    number = _number(raw_number)
    if await repo.visible_number(number, principal, settings.topology) is None:
        raise NotFound(f"serviceNumber {number} not found")
    n = await repo.by_number_for_update(number)
    assert n is not None
    if n.owner_node != settings.node:
        raise NotOwner("serviceNumber", number, n.owner_node)
    before = _snapshot(n)
    n.status = "RETIRED"
    await CHANGES.record_change(
        session,
        n,
        aggregate_type=AGGREGATE,
        event=number_message,
        actor=principal.username,
        action="retire",
        changes=diff(before, _snapshot(n)),
        at=now,
    )
    await sync_customer(session, settings=settings, customer_id=n.customer_id, now=now)


async def numbers_of(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> Sequence[ServiceNumber]:
    return await NumberRepository.from_session(session).of_customer(customer_id, principal, settings.topology)


def ka_list_payload(settings: Settings, customer_id: uuid.UUID, numbers: Sequence[ServiceNumber]) -> dict[str, Any]:
    """KA_LIST_SYNC for one customer: its active numbers here, grade, account manager, routing; no
    number left is a removal from the list."""
    head = numbers[0] if numbers else None
    return {
        "change_type": "UPSERT" if numbers else "REMOVE",
        "customer_id": str(customer_id),
        "customer_code": head.customer_code if head else None,
        "customer_name": head.customer_name if head else None,
        "grade": head.grade if head else None,
        "account_manager": head.account_manager if head else None,
        "priority_routing": any(n.priority_routing for n in numbers),
        "service_numbers": [n.number for n in numbers],
        "local_network": settings.node,
    }


async def sync_customer(session: AsyncSession, *, settings: Settings, customer_id: uuid.UUID, now: datetime) -> bool:
    """Queue the customer's KA_LIST_SYNC unless the last one queued says the same (True: queued)."""
    numbers = await NumberRepository.from_session(session).active_of(customer_id, settings.node)
    payload = ka_list_payload(settings, customer_id, numbers)
    order_key = f"customer:{customer_id}"
    if await outbound.last_payload(session, order_key) == payload:
        return False
    return await outbound.enqueue(
        session,
        msg_type=MsgType.KA_LIST_SYNC,
        key=outbound.new_key(f"KA_LIST_SYNC:{customer_id}"),
        order_key=order_key,
        payload=payload,
        now=now,
    )


async def ka_list_sync(
    session: AsyncSession, *, settings: Settings, principal: Principal, lookups: Lookups, token: str, now: datetime
) -> tuple[int, int, int]:
    """The full list sync (daily, or on demand): every customer with numbers here has its facts read
    again from the customer service, a hundred per request (a grade or account manager changed since is
    corrected, replicated up), then its KA_LIST_SYNC queued where it changed. A customer the customer
    service no longer answers (deleted, or outside the caller's scope: run it as a node-level
    administrator) retires its numbers.
    (customers, numbers refreshed, messages queued)."""
    rows = await NumberRepository.from_session(session).own_for_update(settings.node)
    by_customer: dict[uuid.UUID, list[ServiceNumber]] = {}
    for n in rows:
        by_customer.setdefault(n.customer_id, []).append(n)
    refreshed = queued = 0
    known = await lookups.customers_by_id(list(by_customer), token)
    for customer_id, numbers in by_customer.items():
        facts = known.get(customer_id)  # None: the customer service no longer knows it
        for n in numbers:
            before = _snapshot(n)
            if facts is None:
                n.status = "RETIRED"
            else:
                _facts_onto(n, facts)
            changes = diff(before, _snapshot(n))
            if changes:
                refreshed += 1
                await CHANGES.record_change(
                    session,
                    n,
                    aggregate_type=AGGREGATE,
                    event=number_message,
                    actor=principal.username,
                    action="refresh",
                    changes=changes,
                    at=now,
                )
        queued += await sync_customer(session, settings=settings, customer_id=customer_id, now=now)
    return len(by_customer), refreshed, queued


# --- KA_LOOKUP ------------------------------------------------------------------------------------


async def lookup(session: AsyncSession, *, settings: Settings, principal: Principal, calling_number: str) -> LookupRead:
    """大客户识别: the key account behind a calling number (among the numbers the caller sees: this
    node's and its subtree's replicas) with its open tickets; not a key account is `found: false`."""
    number = _number(calling_number)
    repo = NumberRepository.from_session(session)
    n = await repo.visible_number(number, principal, settings.topology)
    if n is None:
        return LookupRead(calling_number=number, found=False)
    tickets = await repo.open_tickets(n.customer_id, principal, settings.topology)
    return LookupRead(
        calling_number=number,
        found=True,
        customer_id=str(n.customer_id),
        customer_code=n.customer_code,
        customer_name=n.customer_name,
        grade=n.grade,
        account_manager=n.account_manager,
        priority_routing=n.priority_routing,
        owner_node=n.owner_node,
        open_tickets=[
            OpenTicketRead(
                id=str(t.id),
                name=t.name,
                ticket_type=t.ticket_type,
                status=t.status,
                priority=t.priority,
                owner_node=t.owner_node,
                external_id=t.external_id,
                creation_date=t.created_at,
            )
            for t in tickets
        ],
    )


# --- inbound messages -----------------------------------------------------------------------------


def _payload(model: type[P], raw: dict[str, Any]) -> P:
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("payload", *first["loc"]))
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from None


async def receive(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    msg: Message,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> Ack:
    """One inbound message, handled once: a repeat of a msg_id handled before is answered as the first
    was (`duplicate: true`) and changes nothing. A refusal (NACK) leaves no trace, so a corrected
    retry is handled afresh."""
    if msg.msg_type not in INBOUND:
        raise ValidationFailed(
            f"msg_type: {msg.msg_type.value} flows from KAM to the 10000 system only", field="msg_type"
        )
    if msg.target != settings.node:
        raise ValidationFailed(f"target: this is node {settings.node}, not {msg.target}", field="target")
    inbound = InboundRepository.from_session(session)
    if not await inbound.claim(msg.msg_id, msg.msg_type.value, now):
        return Ack(msg_id=msg.msg_id, duplicate=True, result=await inbound.answer(msg.msg_id) or {})
    if msg.msg_type is MsgType.TICKET_CREATE:
        create = _payload(TicketCreatePayload, msg.payload)
        result = await _ticket_create(
            session, settings=settings, principal=principal, p=create, lookups=lookups, token=token, now=now
        )
    elif msg.msg_type is MsgType.TICKET_UPDATE:
        result = await _ticket_update(
            session, settings=settings, principal=principal, p=_payload(TicketUpdatePayload, msg.payload), now=now
        )
    else:
        survey = _payload(SurveyResultPayload, msg.payload)
        result = await _survey(session, settings=settings, principal=principal, p=survey, msg_id=msg.msg_id, now=now)
    await inbound.record(msg.msg_id, result)
    return Ack(msg_id=msg.msg_id, result=result)


def _ticket_result(t: TroubleTicket, **extra: Any) -> dict[str, Any]:
    return {
        "ticket_no": str(t.id),
        "status": t.status,
        "version": t.version,
        "response_due_at": t.response_due_at.isoformat() if t.response_due_at else None,
        "resolve_due_at": t.resolve_due_at.isoformat() if t.resolve_due_at else None,
        **extra,
    }


async def _ticket_create(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    p: TicketCreatePayload,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> dict[str, Any]:
    external_id = outbound.CS_PREFIX + p.cs_ticket_no
    existing = await TicketRepository.from_session(session).by_external_id(settings.node, external_id)
    if existing is not None:  # the same ticket under another msg_id: still one ticket
        return _ticket_result(existing, existing=True)
    numbers = NumberRepository.from_session(session)
    found: ServiceNumber | None = None
    if p.calling_number:
        found = await numbers.visible_number(_number(p.calling_number), principal, settings.topology)
    if found is None and p.customer_code:
        found = await numbers.by_customer_code(p.customer_code, principal, settings.topology)
    if found is None:
        raise ValidationFailed(
            "payload.customer_code: neither the customer code nor the calling number is a key account known here",
            field="payload.customer_code",
        )
    description = p.description + (f"\n联系人 contact: {p.contact}" if p.contact else "")
    data = TroubleTicketCreate.model_validate(
        {
            "name": p.title or f"10000 {p.type.value} {p.cs_ticket_no}",
            "description": description[:4000],
            "ticketType": p.type.value,
            "channel": outbound.CS_CHANNEL,
            "priority": p.priority,
            "relatedParty": [{"id": str(found.customer_id), "role": "customer"}],
            "affectedService": found.number if p.calling_number else None,
            "externalId": external_id,
        }
    )
    t = await ticket_service.create_ticket(
        session, settings=settings, principal=principal, data=data, lookups=lookups, token=token, now=now
    )
    return _ticket_result(t)


async def _find_ticket(
    session: AsyncSession, settings: Settings, principal: Principal, ticket_no: str | None, cs_ticket_no: str | None
) -> TroubleTicket:
    if ticket_no:
        try:
            tid = uuid.UUID(ticket_no)
        except ValueError:
            raise ValidationFailed("payload.ticket_no: not a KAM ticket number", field="payload.ticket_no") from None
        return await ticket_service.get_ticket(session, settings=settings, principal=principal, ticket_id=tid)
    if cs_ticket_no:
        t = await TicketRepository.from_session(session).by_external_id(
            settings.node, outbound.CS_PREFIX + cs_ticket_no
        )
        if t is None:
            raise NotFound(f"no ticket for 10000 ticket {cs_ticket_no} at {settings.node}")
        return t
    raise ValidationFailed("payload: ticket_no or cs_ticket_no is required", field="payload.ticket_no")


async def _ticket_update(
    session: AsyncSession, *, settings: Settings, principal: Principal, p: TicketUpdatePayload, now: datetime
) -> dict[str, Any]:
    t = await _find_ticket(session, settings, principal, p.ticket_no, p.cs_ticket_no)
    if p.customer_confirmation is not None:
        body = RevisitCreate(
            satisfied=p.customer_confirmation, score=p.score or (5 if p.customer_confirmation else 2), comment=p.notes
        )
        t = await ticket_service.revisit(
            session, settings=settings, principal=principal, ticket_id=t.id, body=body, now=now
        )
        return _ticket_result(t)
    present = {name for name, given in (("status", p.status), ("handler", p.handler)) if given is not None}
    if p.notes:
        present.add("statusChangeReason")
    patch = TroubleTicketUpdate.model_validate(
        {"status": p.status, "handler": p.handler, "statusChangeReason": p.notes}
        if p.status
        else {"handler": p.handler, "statusChangeReason": p.notes}
    )
    t = await ticket_service.update_ticket(
        session, settings=settings, principal=principal, ticket_id=t.id, patch=patch, present=present, now=now
    )
    return _ticket_result(t)


async def _survey(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    p: SurveyResultPayload,
    msg_id: str,
    now: datetime,
) -> dict[str, Any]:
    satisfied = p.satisfied if p.satisfied is not None else p.score >= 3
    if p.ticket_no or p.cs_ticket_no:
        t = await _find_ticket(session, settings, principal, p.ticket_no, p.cs_ticket_no)
        body = RevisitCreate(satisfied=satisfied, score=p.score, comment=p.comments)
        t = await ticket_service.revisit(
            session, settings=settings, principal=principal, ticket_id=t.id, body=body, now=now
        )
        return _ticket_result(t)
    if not p.customer_code:
        raise ValidationFailed("payload: ticket_no, cs_ticket_no or customer_code is required", field="payload")
    if (
        await NumberRepository.from_session(session).by_customer_code(p.customer_code, principal, settings.topology)
        is None
    ):
        raise ValidationFailed(
            f"payload.customer_code: {p.customer_code} is not a key account known here", field="payload.customer_code"
        )
    survey = CsSurvey(
        id=uuid.uuid4(),
        customer_code=p.customer_code,
        score=p.score,
        comment=p.comments,
        msg_id=msg_id,
        received_at=now,
    )
    await InboundRepository.from_session(session).add_survey(survey)
    return {"survey_id": str(survey.id), "customer_code": p.customer_code, "satisfied": satisfied}


# --- the daily reconciliation ----------------------------------------------------------------------


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=ZoneInfo(tz))
    return start, start + timedelta(days=1)


def business_day(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


async def reconcile(
    session: AsyncSession, *, day: date, tz: str, now: datetime, received: set[str] | None
) -> CsReconciliation:
    """Sent vs acknowledged for the messages queued on `day` (the node's business day): every message
    not acknowledged (still pending, or refused) is listed; when the 10000 system's own record of what
    it received is at hand (`received`: which of the day's keys it holds), an acknowledged message it
    does not hold is listed too. The report is kept (a rerun replaces it)."""
    start, end = day_bounds(day, tz)
    repo = OutboundRepository.from_session(session)
    rows = await repo.of_period(start, end)
    mismatches: list[dict[str, Any]] = []
    for r in rows:
        problem = {"PENDING": "NOT_ACKNOWLEDGED", "NACKED": "REFUSED"}.get(r.status)
        if problem is None and received is not None and r.idempotency_key not in received:
            problem = "NOT_RECEIVED"
        if problem is not None:
            mismatches.append(
                {
                    "idempotencyKey": r.idempotency_key,
                    "msgType": r.msg_type,
                    "problem": problem,
                    "status": r.status,
                    "attempts": r.attempts,
                    "lastError": r.last_error,
                }
            )
    report = CsReconciliation(
        day=day,
        queued=len(rows),
        acked=sum(1 for r in rows if r.status == "ACKED"),
        mismatches=mismatches,
        ran_at=now,
    )
    return await repo.save_report(report)


async def report_of(session: AsyncSession, *, day: date) -> CsReconciliation:
    found = await OutboundRepository.from_session(session).report(day)
    if found is None:
        raise NotFound(f"no reconciliation for {day.isoformat()} yet")
    return found


async def outbound_page(
    session: AsyncSession, *, status: str | None, offset: int, limit: int
) -> tuple[Sequence[Any], int]:
    return await OutboundRepository.from_session(session).page(status, offset, limit)


async def get_number(
    session: AsyncSession, *, settings: Settings, principal: Principal, raw_number: str
) -> ServiceNumber:
    n = await NumberRepository.from_session(session).visible_number(_number(raw_number), principal, settings.topology)
    if n is None:
        raise NotFound(f"serviceNumber {raw_number} not found")
    return n
