"""A ticket's wire form (TroubleTicketChanged, full state) and back, the audit event, and the one
ChangeLog every ticket write goes through."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from kam_contracts import customer_pb2
from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.changes import ChangeLog, audit_changes_json
from kam_platform.dataset import Dataset
from kam_platform.outbox import from_ts, ts
from kam_service.models import SCHEMA, Audit, TroubleTicket

SERVICE = "service"
AGGREGATE = "trouble_ticket"


def _ts(value: datetime | None) -> Timestamp | None:
    return ts(value) if value is not None else None


def _iso_ts(value: str | None) -> Timestamp | None:
    return ts(datetime.fromisoformat(value)) if value else None


def _ts_iso(t: Timestamp) -> str | None:
    d = from_ts(t)
    return d.isoformat() if d else None


TICKET_CHANGED = service_pb2.TroubleTicketChanged.DESCRIPTOR.full_name


def ticket_event(change: str) -> Callable[[TroubleTicket], service_pb2.TroubleTicketChanged]:
    """The event builder of one write: `change` is "created", "status" (a status move) or "updated"
    (what /hub listeners are told: TMF621's create, status change, attribute value change)."""
    return lambda t: ticket_message(t, change=change)


def ticket_message(t: TroubleTicket, *, change: str = "") -> service_pb2.TroubleTicketChanged:
    return service_pb2.TroubleTicketChanged(
        change=change,
        ticket=service_pb2.TroubleTicketState(
            id=str(t.id),
            owner_node=t.owner_node,
            version=t.version,
            ticket_type=t.ticket_type,
            channel=t.channel,
            priority=t.priority,
            name=t.name,
            description=t.description,
            status=t.status,
            customer_id=str(t.customer_id),
            customer_code=t.customer_code,
            customer_name=t.customer_name,
            customer_grade=t.customer_grade,
            account_manager=t.account_manager or "",
            contact_id=str(t.contact_id) if t.contact_id else "",
            contact_name=t.contact_name or "",
            affected_service=t.affected_service or "",
            handler=t.handler or "",
            external_id=t.external_id or "",
            sla_rule_id=str(t.sla_rule_id) if t.sla_rule_id else "",
            sla_rule_version=t.sla_rule_version or 0,
            sla_calendar=t.sla_calendar or "",
            response_minutes=t.response_minutes or 0,
            resolve_minutes=t.resolve_minutes or 0,
            response_due_at=_ts(t.response_due_at),
            resolve_due_at=_ts(t.resolve_due_at),
            responded_at=_ts(t.responded_at),
            resolved_at=_ts(t.resolved_at),
            closed_at=_ts(t.closed_at),
            paused_since=_ts(t.paused_since),
            paused_minutes=t.paused_minutes or 0,
            response_breached=t.response_breached,
            resolve_breached=t.resolve_breached,
            escalation_level=t.escalation_level,
            reopen_count=t.reopen_count,
            satisfaction_score=t.satisfaction_score or 0,
            satisfaction_comment=t.satisfaction_comment or "",
            status_change=[
                service_pb2.TicketStatusChange(
                    status=s["status"],
                    from_status=s.get("fromStatus") or "",
                    at=_iso_ts(s["at"]),
                    actor=s["actor"],
                    reason=s.get("reason") or "",
                    node=s.get("node") or "",
                )
                for s in t.status_change or []
            ],
            escalation=[
                service_pb2.TicketEscalationStep(
                    step=s["step"],
                    after_minutes=s["afterMinutes"],
                    to=s["to"],
                    due_at=_iso_ts(s["dueAt"]),
                    fired_at=_iso_ts(s.get("firedAt")),
                )
                for s in t.escalation or []
            ],
            created_at=_ts(t.created_at),
            updated_at=_ts(t.updated_at),
            dispatch_id=str(t.dispatch_id) if t.dispatch_id else "",
            reported_at_node=t.reported_at_node or "",
            dispatched_to=t.dispatched_to or "",
            handler_ticket_id=str(t.handler_ticket_id) if t.handler_ticket_id else "",
            handler_version=t.handler_version or 0,
            queue_id=str(t.queue_id) if t.queue_id else "",
            queue_name=t.queue_name or "",
            assigned_by=t.assigned_by or "",
        ),
    )


def ticket_row(msg: Message) -> dict[str, Any]:
    """The columns of a replica from the owner's full state (the evaluator's `next_due_at` stays NULL:
    only the owner escalates)."""
    assert isinstance(msg, service_pb2.TroubleTicketChanged)
    s = msg.ticket
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "ticket_type": s.ticket_type,
        "channel": s.channel,
        "priority": s.priority,
        "name": s.name,
        "description": s.description,
        "status": s.status,
        "customer_id": uuid.UUID(s.customer_id),
        "customer_code": s.customer_code,
        "customer_name": s.customer_name,
        "customer_grade": s.customer_grade,
        "account_manager": s.account_manager or None,
        "contact_id": uuid.UUID(s.contact_id) if s.contact_id else None,
        "contact_name": s.contact_name or None,
        "affected_service": s.affected_service or None,
        "handler": s.handler or None,
        "external_id": s.external_id or None,
        "sla_rule_id": uuid.UUID(s.sla_rule_id) if s.sla_rule_id else None,
        "sla_rule_version": s.sla_rule_version or None,
        "sla_calendar": s.sla_calendar or None,
        "response_minutes": s.response_minutes or None,
        "resolve_minutes": s.resolve_minutes or None,
        "response_due_at": from_ts(s.response_due_at),
        "resolve_due_at": from_ts(s.resolve_due_at),
        "responded_at": from_ts(s.responded_at),
        "resolved_at": from_ts(s.resolved_at),
        "closed_at": from_ts(s.closed_at),
        "paused_since": from_ts(s.paused_since),
        "paused_minutes": s.paused_minutes,
        "response_breached": s.response_breached,
        "resolve_breached": s.resolve_breached,
        "escalation_level": s.escalation_level,
        "next_due_at": None,
        "reopen_count": s.reopen_count,
        "satisfaction_score": s.satisfaction_score or None,
        "satisfaction_comment": s.satisfaction_comment or None,
        "status_change": [
            {
                "status": c.status,
                "fromStatus": c.from_status or None,
                "at": _ts_iso(c.at),
                "actor": c.actor,
                "reason": c.reason or None,
                **({"node": c.node} if c.node else {}),
            }
            for c in s.status_change
        ],
        "escalation": [
            {
                "step": e.step,
                "afterMinutes": e.after_minutes,
                "to": e.to,
                "dueAt": _ts_iso(e.due_at),
                "firedAt": _ts_iso(e.fired_at),
            }
            for e in s.escalation
        ],
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
        "dispatch_id": uuid.UUID(s.dispatch_id) if s.dispatch_id else None,
        "reported_at_node": s.reported_at_node or None,
        "dispatched_to": s.dispatched_to or None,
        "handler_ticket_id": uuid.UUID(s.handler_ticket_id) if s.handler_ticket_id else None,
        "handler_version": s.handler_version,
        "queue_id": uuid.UUID(s.queue_id) if s.queue_id else None,
        "queue_name": s.queue_name or None,
        "assigned_by": s.assigned_by or None,
    }


def audit_recorded(row: Audit) -> customer_pb2.AuditRecorded:
    return customer_pb2.AuditRecorded(
        id=str(row.id),
        owner_node=row.owner_node,
        entity_type=row.entity_type,
        entity_id=str(row.entity_id),
        action=row.action,
        actor=row.actor,
        at=ts(row.at),
        changes_json=audit_changes_json(row),
        request_id=row.request_id or "",
        note=row.note or "",
    )


def audit_row(a: customer_pb2.AuditRecorded) -> dict[str, Any]:
    return {
        "id": uuid.UUID(a.id),
        "owner_node": a.owner_node,
        "entity_type": a.entity_type,
        "entity_id": uuid.UUID(a.entity_id),
        "action": a.action,
        "actor": a.actor,
        "at": from_ts(a.at) or datetime.now(UTC),
        "changes": json.loads(a.changes_json or "{}"),
        "request_id": a.request_id or None,
        "note": a.note or None,
    }


# every ticket write: version bump, outbox event (up the tree) and audit (replicated) in one call
CHANGES = ChangeLog(schema=SCHEMA, service=SERVICE, audit_model=Audit, audit_event=audit_recorded)


def _ticket_record(msg: Message) -> tuple[str, str, int]:
    # TroubleTicketChanged has a second field (`change`), so the dataset's default (the message's
    # single sub-message) does not apply: name the ticket explicitly
    assert isinstance(msg, service_pb2.TroubleTicketChanged)
    return msg.ticket.id, msg.ticket.owner_node, msg.ticket.version


# tickets replicate up like a dataset replicates (versioned upsert, owner = origin, snapshot on resync);
# they are never published down
TICKETS: Dataset[TroubleTicket] = Dataset(
    name=AGGREGATE,
    service=SERVICE,
    schema=SCHEMA,
    model=TroubleTicket,
    message=service_pb2.TroubleTicketChanged,
    to_message=ticket_message,
    to_row=ticket_row,
    record_of=_ticket_record,
)
