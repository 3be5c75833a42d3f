"""Ticket rules (F6): acceptance with the SLA terms of the effective rule, the status machine with the
closed loop (resolved → revisit: confirmed and closed, or dissatisfied and reopened), the pause while
waiting for the customer, writes only at the owner node, one ChangeLog call per change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_service.assignment import service as assignment_service
from kam_service.assignment.schemas import AssignCreate
from kam_service.cs10000 import outbound as cs10000_outbound
from kam_service.lookups import Lookups
from kam_service.models import Audit, TroubleTicket
from kam_service.sla import service as sla_service
from kam_service.sla import terms

from .events import AGGREGATE, CHANGES, ticket_event
from .repository import TicketRepository
from .schemas import RevisitCreate, TroubleTicketCreate, TroubleTicketUpdate
from .states import FINISHED, TRANSITIONS, Status, allowed

TRACKED = [
    "name",
    "description",
    "priority",
    "handler",
    "affected_service",
    "status",
    "reopen_count",
    "satisfaction_score",
    "escalation_level",
    "response_breached",
    "resolve_breached",
    "queue_name",
    "assigned_by",
]


def _snapshot(t: TroubleTicket) -> dict[str, Any]:
    return {k: getattr(t, k) for k in TRACKED}


def _step(t: TroubleTicket, to: str, *, now: datetime, actor: str, reason: str | None, from_status: str | None) -> None:
    t.status_change = [
        *(t.status_change or []),
        {"status": to, "fromStatus": from_status, "at": now.isoformat(), "actor": actor, "reason": reason},
    ]


async def list_tickets(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[TroubleTicket], int]:
    return await TicketRepository.from_session(session).page(principal, settings.topology, lq)


async def get_ticket(
    session: AsyncSession, *, settings: Settings, principal: Principal, ticket_id: uuid.UUID
) -> TroubleTicket:
    t = await TicketRepository.from_session(session).get_visible(ticket_id, principal, settings.topology)
    if t is None:
        raise NotFound(f"troubleTicket {ticket_id} not found")
    return t


async def audit_of(
    session: AsyncSession, *, settings: Settings, principal: Principal, ticket_id: uuid.UUID
) -> Sequence[Audit]:
    t = await get_ticket(session, settings=settings, principal=principal, ticket_id=ticket_id)
    return await TicketRepository.from_session(session).audit_of(t.id)


async def create_ticket(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: TroubleTicketCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> TroubleTicket:
    """Accept a ticket at this node (its owner). The customer is read as the caller sees it; the SLA
    terms come from the rule in force here today for the customer's grade and the ticket type."""
    repo = TicketRepository.from_session(session)
    if data.external_id and await repo.by_external_id(settings.node, data.external_id) is not None:
        raise Conflict(f"a ticket with externalId {data.external_id!r} already exists at {settings.node}")
    party = {p.role: p for p in data.related_party}
    try:
        customer_id = uuid.UUID(party["customer"].id)
        contact_id = uuid.UUID(party["contact"].id) if "contact" in party else None
    except ValueError:
        raise ValidationFailed("relatedParty: id is not a valid id", field="relatedParty") from None
    customer = await lookups.customer(customer_id, token)
    t = TroubleTicket(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        ticket_type=data.ticket_type.value,
        channel=data.channel.value,
        priority=data.priority.value,
        name=data.name,
        description=data.description,
        status=Status.ACKNOWLEDGED.value,
        customer_id=customer.id,
        customer_code=customer.code,
        customer_name=customer.name,
        customer_grade=customer.grade,
        account_manager=customer.account_manager,
        contact_id=contact_id,
        contact_name=party["contact"].name if "contact" in party else None,
        affected_service=data.affected_service,
        handler=data.handler,
        external_id=data.external_id,
        paused_minutes=0,
        response_breached=False,
        resolve_breached=False,
        escalation_level=0,
        reopen_count=0,
        status_change=[],
        escalation=[],
        created_at=now,
        updated_at=now,
    )
    _step(t, t.status, now=now, actor=principal.username, reason="accepted", from_status=None)
    rule = await lookups.sla_rule(settings.node, now.date(), token)
    if rule is not None:
        chooser = await sla_service.clock_of(session, node=settings.node)
        terms.start(
            t, rule_id=rule.id, rule_version=rule.version, parameters=rule.parameters, clock_of=chooser, now=now
        )
    if t.handler is None:
        pick = await assignment_service.pick_by_rule(
            session, node=settings.node, ticket_type=t.ticket_type, grade=t.customer_grade
        )
        if pick is not None:
            _assign(t, pick)
    elif data.handler:
        t.assigned_by = principal.username
    await repo.add(t)
    await CHANGES.record_change(
        session,
        t,
        aggregate_type=AGGREGATE,
        event=ticket_event("created"),
        actor=principal.username,
        action="create",
        changes=diff({}, _snapshot(t)),
        created=True,
        at=now,
    )
    return t


def _assign(t: TroubleTicket, pick: assignment_service.Pick) -> None:
    t.handler = pick.handler
    t.queue_id = pick.queue.id
    t.queue_name = pick.queue.name
    t.assigned_by = pick.by


async def reassign(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: AssignCreate,
    now: datetime,
) -> TroubleTicket:
    """改派: to a named handler, to a queue (its rule picks the member), or by the rule again."""
    t = await _owned(session, settings, principal, ticket_id)
    if Status(t.status) in FINISHED:
        raise InvalidTransition(f"troubleTicket {t.id} is {t.status}; it is no longer assigned")
    before = _snapshot(t)
    if body.handler is not None:
        t.handler = body.handler
        t.assigned_by = principal.username
        if body.queue_id is not None:
            q = await assignment_service.get_queue(session, settings=settings, queue_id=_queue_id(body.queue_id))
            t.queue_id, t.queue_name = q.id, q.name
    elif body.queue_id is not None:
        pick = await assignment_service.pick_in_queue(session, node=settings.node, queue_id=_queue_id(body.queue_id))
        _assign(t, pick)
    else:
        found = await assignment_service.pick_by_rule(
            session, node=settings.node, ticket_type=t.ticket_type, grade=t.customer_grade
        )
        if found is None:
            raise ValidationFailed(
                f"no active queue at {settings.node} serves {t.ticket_type} tickets of grade {t.customer_grade}; "
                "name a handler or a queue",
                field="handler",
            )
        _assign(t, found)
    changes = diff(before, _snapshot(t))
    if not changes:
        return t
    await CHANGES.record_change(
        session,
        t,
        aggregate_type=AGGREGATE,
        event=ticket_event("updated"),
        actor=principal.username,
        action="assign",
        changes=changes,
        note=body.reason,
        at=now,
    )
    return t


def _queue_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed("queueId: not a valid id", field="queueId") from None


async def owned(session: AsyncSession, settings: Settings, principal: Principal, ticket_id: uuid.UUID) -> TroubleTicket:
    """The ticket under its lock when this node owns it and the caller sees it (else 404 / 409)."""
    # scope first (a ticket the caller cannot see is only 'not found'), then the committed row under its lock
    await get_ticket(session, settings=settings, principal=principal, ticket_id=ticket_id)
    t = await TicketRepository.from_session(session).get_for_update(ticket_id)
    if t is None:
        raise NotFound(f"troubleTicket {ticket_id} not found")
    if t.owner_node != settings.node:
        raise NotOwner("troubleTicket", str(t.id), t.owner_node)
    return t


async def _owned(
    session: AsyncSession, settings: Settings, principal: Principal, ticket_id: uuid.UUID
) -> TroubleTicket:
    t = await owned(session, settings, principal, ticket_id)
    if t.dispatched_to:
        raise Conflict(
            f"troubleTicket {t.id} is dispatched to {t.dispatched_to}: it is handled there "
            f"(ticket {t.handler_ticket_id}) and its steps are mirrored here"
        )
    return t


async def _move(
    session: AsyncSession,
    settings: Settings,
    t: TroubleTicket,
    to: Status,
    *,
    now: datetime,
    actor: str,
    reason: str | None,
) -> None:
    """Enter `to`: the SLA facts that follow from it (response, resolution, pause and resume, reopen)."""
    before = Status(t.status)
    chooser = await sla_service.clock_of(session, node=settings.node)
    clock = chooser(t.sla_calendar)
    if before is Status.PENDING and to is not Status.PENDING:
        terms.resume(t, clock, now)
    if to is Status.IN_PROGRESS:
        terms.responded(t, now)
    elif to is Status.PENDING:
        terms.responded(t, now)
        terms.pause(t, now)
    elif to is Status.RESOLVED:
        terms.resolved(t, now)
    elif to is Status.CLOSED:
        t.closed_at = now
    t.status = to.value
    _step(t, to.value, now=now, actor=actor, reason=reason, from_status=before.value)
    terms.refresh_next_due(t)
    if to in FINISHED:
        t.next_due_at = None


async def update_ticket(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    ticket_id: uuid.UUID,
    patch: TroubleTicketUpdate,
    present: set[str],
    now: datetime,
) -> TroubleTicket:
    t = await _owned(session, settings, principal, ticket_id)
    before = _snapshot(t)
    for name in ("name", "priority", "status"):
        if name in present and getattr(patch, name) is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    if Status(t.status) in FINISHED and present - {"statusChangeReason"}:
        raise InvalidTransition(f"troubleTicket {t.id} is {t.status}; it no longer changes")
    if patch.name is not None:
        t.name = patch.name
    if "description" in present:
        t.description = patch.description or ""
    if patch.priority is not None:
        t.priority = patch.priority.value
    if "handler" in present:
        t.handler = patch.handler
    if "affectedService" in present:
        t.affected_service = patch.affected_service
    if patch.status is not None and patch.status.value != t.status:
        current = Status(t.status)
        if patch.status not in TRANSITIONS[current]:
            hint = " (close or reopen it with a revisit: POST …/revisit)" if current is Status.RESOLVED else ""
            raise InvalidTransition(
                f"troubleTicket {t.id} cannot go from {t.status} to {patch.status.value}; "
                f"allowed: {', '.join(allowed(t.status)) or 'none'}{hint}",
                details={"allowed": allowed(t.status)},
            )
        await _move(
            session, settings, t, patch.status, now=now, actor=principal.username, reason=patch.status_change_reason
        )
    changes = diff(before, _snapshot(t))
    if not changes:
        return t
    await CHANGES.record_change(
        session,
        t,
        aggregate_type=AGGREGATE,
        event=ticket_event("status" if "status" in changes else "updated"),
        actor=principal.username,
        action="status" if "status" in changes else "update",
        changes=changes,
        note=patch.status_change_reason,
        at=now,
    )
    await cs10000_outbound.ticket_changed(session, t, now=now)
    return t


async def revisit(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: RevisitCreate,
    now: datetime,
) -> TroubleTicket:
    """回访 on a resolved ticket: satisfied → closed with the survey; dissatisfied → reopened."""
    t = await _owned(session, settings, principal, ticket_id)
    if t.status != Status.RESOLVED.value:
        raise InvalidTransition(
            f"troubleTicket {t.id} is {t.status}: a revisit follows resolution; "
            f"allowed: {', '.join(allowed(t.status)) or 'none'}",
            details={"allowed": allowed(t.status)},
        )
    before = _snapshot(t)
    note = f"revisit: score {body.score}" + (f", {body.comment}" if body.comment else "")
    t.satisfaction_score = body.score
    t.satisfaction_comment = body.comment
    if body.satisfied:
        await _move(session, settings, t, Status.CLOSED, now=now, actor=principal.username, reason=note)
    else:
        t.reopen_count += 1
        t.resolved_at = None
        await _move(
            session, settings, t, Status.IN_PROGRESS, now=now, actor=principal.username, reason=f"reopened; {note}"
        )
    await CHANGES.record_change(
        session,
        t,
        aggregate_type=AGGREGATE,
        event=ticket_event("status"),
        actor=principal.username,
        action="close" if body.satisfied else "reopen",
        changes=diff(before, _snapshot(t)),
        note=note,
        at=now,
    )
    await cs10000_outbound.ticket_changed(session, t, now=now)
    return t
