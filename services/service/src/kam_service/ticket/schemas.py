"""TMF621 TroubleTicket request and response bodies (KAM extensions: ticket type, channel, grade, SLA,
closed loop)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from kam_platform.api import ApiModel, ReadModel, Resource

from .states import Channel, Priority, Status, TicketType

TYPE = "TroubleTicket"

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Ref64 = Annotated[str, Field(min_length=1, max_length=64)]


class RelatedPartyIn(ApiModel):
    """The customer (role ``customer``, required) and optionally the reporting contact (``contact``)."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    role: Literal["customer", "contact"]
    name: Annotated[str | None, Field(max_length=100)] = None
    referred_type: Annotated[str | None, Field(alias="@referredType", max_length=64)] = None


class TroubleTicketCreate(ApiModel):
    name: Text200
    description: Annotated[str, Field(max_length=4000)] = ""
    ticket_type: TicketType  # 投诉 / 故障 / 咨询 / 变更
    channel: Channel
    priority: Priority = Priority.MEDIUM
    related_party: Annotated[list[RelatedPartyIn], Field(min_length=1, max_length=2)]
    affected_service: Annotated[str | None, Field(max_length=64, description="service number or circuit id")] = None
    external_id: Annotated[str | None, Field(max_length=64, description="the reporting system's ticket no.")] = None
    handler: Ref64 | None = None
    type_: Annotated[Literal["TroubleTicket"] | None, Field(alias="@type")] = None

    @model_validator(mode="after")
    def _one_customer(self) -> TroubleTicketCreate:
        roles = [p.role for p in self.related_party]
        if roles.count("customer") != 1 or roles.count("contact") > 1:
            raise ValueError("relatedParty: exactly one party with role 'customer' (and at most one 'contact')")
        return self


class TroubleTicketUpdate(ApiModel):
    """A JSON merge patch. ``status`` moves the ticket (409 naming the allowed next statuses); closing is
    a revisit (POST …/revisit)."""

    name: Text200 | None = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    priority: Priority | None = None
    handler: Ref64 | None = None
    affected_service: Annotated[str | None, Field(max_length=64)] = None
    status: Status | None = None
    status_change_reason: Annotated[str | None, Field(max_length=1000)] = None


class RevisitCreate(ApiModel):
    """回访: the customer's answer on a resolved ticket. Satisfied closes it with the survey attached;
    dissatisfied reopens it (the survey stays in its history)."""

    satisfied: bool
    score: Annotated[int, Field(ge=1, le=5, description="满意度 1..5")]
    comment: Annotated[str | None, Field(max_length=1000)] = None


class RelatedPartyRead(ReadModel):
    id: str
    role: str
    name: str | None
    referred_type: Annotated[str, Field(alias="@referredType")]


class StatusChangeRead(ReadModel):
    status: str
    from_status: str | None
    change_date: datetime
    actor: str
    change_reason: str | None
    node: str | None = None  # at a reporter: the handling node whose step this is


class DispatchCreate(ApiModel):
    """派单: hand the ticket to the node that serves the affected site (default: the customer's owner)."""

    to_node: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    reason: Annotated[str | None, Field(max_length=1000)] = None


class DispatchWithdraw(ApiModel):
    """撤回派单: take the ticket back from the node it was dispatched to, before handling starts there."""

    reason: Annotated[str | None, Field(max_length=1000)] = None


class DispatchRead(ReadModel):
    """Across the tree: at the reporter, where the ticket is handled and the handler's ticket; at the
    handler, the directive and where the fault was reported."""

    dispatch_id: str | None
    reported_at_node: str | None
    dispatched_to: str | None
    handler_ticket_id: str | None
    handler_version: int


class AssignmentRead(ReadModel):
    """How the handler was chosen: the queue and its rule ("rule:ROUND_ROBIN", "rule:LEAST_LOADED"), or
    the user who assigned by hand."""

    queue_id: str | None
    queue_name: str | None
    assigned_by: str | None


class EscalationStepRead(ReadModel):
    step: int
    after_minutes: int
    to: str
    due_at: datetime
    fired_at: datetime | None


class SlaRead(ReadModel):
    """The SLA terms fixed at acceptance and what happened to them."""

    rule_id: str
    rule_version: int
    calendar: str
    response_minutes: int
    resolve_minutes: int
    response_due_at: datetime | None
    resolve_due_at: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    paused_since: datetime | None
    paused_minutes: int
    response_breached: bool
    resolve_breached: bool
    escalation_level: int
    escalation: list[EscalationStepRead]


class SatisfactionRead(ReadModel):
    score: int
    comment: str | None


class TroubleTicketRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = TYPE
    name: str
    description: str
    ticket_type: TicketType
    channel: Channel
    priority: Priority
    status: Status
    customer_grade: str
    related_party: list[RelatedPartyRead]
    affected_service: str | None
    external_id: str | None
    handler: str | None
    owner_node: str
    version: int
    creation_date: datetime
    last_update: datetime
    resolution_date: datetime | None
    closed_date: datetime | None
    reopen_count: int
    status_change: list[StatusChangeRead]
    sla: SlaRead | None
    satisfaction: SatisfactionRead | None
    dispatch: DispatchRead | None = None
    assignment: AssignmentRead | None = None


FIELDS = [
    "name",
    "description",
    "ticketType",
    "channel",
    "priority",
    "status",
    "customerGrade",
    "relatedParty",
    "affectedService",
    "externalId",
    "handler",
    "ownerNode",
    "version",
    "creationDate",
    "lastUpdate",
    "resolutionDate",
    "closedDate",
    "reopenCount",
    "statusChange",
    "sla",
    "satisfaction",
    "dispatch",
    "assignment",
]


class AuditRecordRead(ReadModel):
    id: str
    type_: Annotated[Literal["AuditRecord"], Field(alias="@type")] = "AuditRecord"
    entity_type: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    changes: dict[str, object] | None
    note: str | None
    owner_node: str
