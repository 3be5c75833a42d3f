"""A stored ticket as its TMF621 answer."""

from __future__ import annotations

from fastapi import Request

from kam_platform.tmf import href
from kam_service.models import TroubleTicket

from .schemas import (
    AssignmentRead,
    DispatchRead,
    EscalationStepRead,
    RelatedPartyRead,
    SatisfactionRead,
    SlaRead,
    StatusChangeRead,
    TroubleTicketRead,
)

BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
CUSTOMER_BASE = "/tmf-api/customerManagement/v4/customer"


def _sla(t: TroubleTicket) -> SlaRead | None:
    if t.sla_rule_id is None:
        return None
    return SlaRead(
        rule_id=str(t.sla_rule_id),
        rule_version=t.sla_rule_version or 0,
        calendar=t.sla_calendar or "",
        response_minutes=t.response_minutes or 0,
        resolve_minutes=t.resolve_minutes or 0,
        response_due_at=t.response_due_at,
        resolve_due_at=t.resolve_due_at,
        responded_at=t.responded_at,
        resolved_at=t.resolved_at,
        paused_since=t.paused_since,
        paused_minutes=t.paused_minutes,
        response_breached=t.response_breached,
        resolve_breached=t.resolve_breached,
        escalation_level=t.escalation_level,
        escalation=[
            EscalationStepRead(
                step=s["step"],
                after_minutes=s["afterMinutes"],
                to=s["to"],
                due_at=s["dueAt"],
                fired_at=s.get("firedAt"),
            )
            for s in t.escalation or []
        ],
    )


def read(request: Request, t: TroubleTicket) -> TroubleTicketRead:
    parties = [RelatedPartyRead(id=str(t.customer_id), role="customer", name=t.customer_name, referred_type="Customer")]
    if t.contact_id is not None:
        parties.append(
            RelatedPartyRead(id=str(t.contact_id), role="contact", name=t.contact_name, referred_type="Individual")
        )
    if t.account_manager:
        parties.append(
            RelatedPartyRead(id=t.account_manager, role="accountManager", name=None, referred_type="Individual")
        )
    return TroubleTicketRead(
        id=str(t.id),
        href=href(request, f"{BASE}/{t.id}"),
        name=t.name,
        description=t.description,
        ticket_type=t.ticket_type,
        channel=t.channel,
        priority=t.priority,
        status=t.status,
        customer_grade=t.customer_grade,
        related_party=parties,
        affected_service=t.affected_service,
        external_id=t.external_id,
        handler=t.handler,
        owner_node=t.owner_node,
        version=t.version,
        creation_date=t.created_at,
        last_update=t.updated_at,
        resolution_date=t.resolved_at,
        closed_date=t.closed_at,
        reopen_count=t.reopen_count,
        status_change=[
            StatusChangeRead(
                status=s["status"],
                from_status=s.get("fromStatus"),
                change_date=s["at"],
                actor=s["actor"],
                change_reason=s.get("reason"),
                node=s.get("node"),
            )
            for s in t.status_change or []
        ],
        sla=_sla(t),
        satisfaction=SatisfactionRead(score=t.satisfaction_score, comment=t.satisfaction_comment)
        if t.satisfaction_score
        else None,
        dispatch=DispatchRead(
            dispatch_id=str(t.dispatch_id) if t.dispatch_id else None,
            reported_at_node=t.reported_at_node,
            dispatched_to=t.dispatched_to,
            handler_ticket_id=str(t.handler_ticket_id) if t.handler_ticket_id else None,
            handler_version=t.handler_version or 0,
        )
        if t.dispatch_id or t.dispatched_to
        else None,
        assignment=AssignmentRead(
            queue_id=str(t.queue_id) if t.queue_id else None, queue_name=t.queue_name, assigned_by=t.assigned_by
        )
        if t.assigned_by
        else None,
    )
