"""Tables of the service service (schema ``service``): trouble tickets (replicated up), the durable
record of each escalation step fired, the node's business calendar, the audit trail and the replication
plumbing (outbox, inbox, dead letters)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kam_platform.audit import AuditMixin
from kam_platform.db import service_metadata
from kam_platform.notify import NotificationMixin
from kam_platform.outbox import OutboxMixin
from kam_platform.replication import DeadLetterMixin, InboxMixin

SCHEMA = "service"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


class TroubleTicket(Base):
    """A trouble ticket (服务请求/工单, TMF621): complaint, fault, consultation or change request, owned by
    the node that accepted it. ``status_change`` and ``escalation`` are its history (TMF621
    ``statusChange``) and SLA ladder, kept on the row so that one event carries the whole state."""

    __tablename__ = "trouble_ticket"
    __table_args__ = (
        Index("ix_trouble_ticket_customer_id", "customer_id"),
        # the evaluator's scan: open tickets at this node with a step or a deadline due
        Index(
            "ix_trouble_ticket_open_due",
            "owner_node",
            "next_due_at",
            postgresql_where="next_due_at IS NOT NULL",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    ticket_type: Mapped[str] = mapped_column(String(32))  # 投诉 / 故障 / 咨询 / 变更
    channel: Mapped[str] = mapped_column(String(32))  # 受理渠道
    priority: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    customer_code: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_grade: Mapped[str] = mapped_column(String(8))  # 客户等级 at acceptance
    account_manager: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    contact_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    affected_service: Mapped[str | None] = mapped_column(String(64), nullable=True)  # service no. / circuit id
    handler: Mapped[str | None] = mapped_column(String(64), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # SLA terms fixed at acceptance (服务时限), and what happened to them
    sla_rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    sla_rule_version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sla_calendar: Mapped[str | None] = mapped_column(String(16), nullable=True)
    response_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolve_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paused_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    response_breached: Mapped[bool] = mapped_column(default=False)
    resolve_breached: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # the earliest unfired escalation step or unmet deadline (NULL: nothing for the evaluator)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction_score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 回访满意度 1..5
    satisfaction_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_change: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # dispatch across the tree: at the handler, the directive it handles and where it was reported; at
    # the reporter, the node handling it and the handler's ticket (whose replica is mirrored here)
    dispatch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True, unique=True)
    reported_at_node: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dispatched_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    handler_ticket_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True, index=True)
    handler_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # assignment by rule: the queue (team x skill) it went through, and who or which rule assigned it
    queue_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    queue_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    assigned_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class TicketDispatch(Base):
    """A dispatch directive (派单, TICKET_DISPATCH): owned by the reporting node, flowing down its
    subtree; the target node accepts it as a ticket of its own. ``ticket`` is the reported ticket's state
    at dispatch (content, customer, SLA terms) as the wire carries it."""

    __tablename__ = "ticket_dispatch"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    target_node: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))  # DISPATCHED / WITHDRAWN
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket: Mapped[bytes] = mapped_column()  # serialized TroubleTicketState
    actor: Mapped[str] = mapped_column(String(128))
    # the dataset protocol's validity (a directive is in force from its day on)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnowledgeItem(Base):
    """A knowledge item (知识库条目, F2): product specification, solution case (方案案例), policy,
    competitor intelligence or FAQ. Authored at the group or a province, reviewed by another person,
    published down the owner's subtree (a downward dataset; drafts stay home)."""

    __tablename__ = "knowledge_item"
    __table_args__ = (
        Index(
            "ix_knowledge_item_search_bigrams",
            text("service.text_bigrams(search_text)"),
            postgresql_using="gin",
        ),
        Index("ix_knowledge_item_tags", "tags", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    author: Mapped[str] = mapped_column(String(128))
    reviewer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    source_contribution_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True, index=True)
    contributed_by_node: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    # lower-cased title, tags, summary and body: what the bigram index and the ranking read
    search_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnowledgeRevision(Base):
    """An earlier content revision of a knowledge item, kept at the owner (版本)."""

    __tablename__ = "knowledge_revision"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text))
    author: Mapped[str] = mapped_column(String(128))
    reviewer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    superseded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnowledgeContribution(Base):
    """A local network's contribution (知识贡献), owned there and replicated up to the province that
    reviews it; the province's decision is its own knowledge item (``source_contribution_id``)."""

    __tablename__ = "knowledge_contribution"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    author: Mapped[str] = mapped_column(String(128))
    reviewing_node: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EscalationFired(Base):
    """The durable record that one escalation step of one ticket fired: the primary key makes it happen
    once, whatever the number of evaluators or restarts (written in the ticket's transaction)."""

    __tablename__ = "escalation_fired"

    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32))
    notified: Mapped[str] = mapped_column(String(64))  # the role / level of the step
    handler: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BusinessCalendar(Base):
    """The node's business calendar (营业时间): working hours by weekday, holidays and make-up working
    days, in the node's time zone. Configuration of the node (not replicated)."""

    __tablename__ = "business_calendar"

    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"1": [["09:00", "18:00"]], ...} ISO weekday
    holidays: Mapped[list[str]] = mapped_column(JSONB, default=list)
    workdays: Mapped[list[str]] = mapped_column(JSONB, default=list)  # 调休 make-up working days
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(128))


class Notification(NotificationMixin, Base):
    """A notification (消息) of the service jobs at this node: SLA escalation steps, due care proposals
    (the columns are the platform's, docs/notifications.md). Not replicated."""

    __tablename__ = "notification"


class Audit(AuditMixin, Base):
    __tablename__ = "audit"


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = OutboxMixin.outbox_indexes("outbox")


class Inbox(InboxMixin, Base):
    __tablename__ = "inbox"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letter"
