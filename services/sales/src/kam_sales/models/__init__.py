"""Tables of the sales service (schema ``sales``): catalogue items (a downward dataset), opportunities
(owned where created, replicated up), the audit trail and the replication plumbing."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kam_platform.audit import AuditMixin
from kam_platform.db import service_metadata
from kam_platform.hub import HubDeliveryMixin, HubSubscriptionMixin
from kam_platform.notify import NotificationMixin
from kam_platform.outbox import OutboxMixin
from kam_platform.replication import DeadLetterMixin, InboxMixin

SCHEMA = "sales"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


class CatalogItem(Base):
    """One TMF620 catalogue entity (产品目录: catalog, category = 产品线, productSpecification,
    productOffering, productOfferingPrice) or a province's availability of a national offering, in one
    table: the common attributes as columns, the kind's own TMF attributes in ``body``."""

    __tablename__ = "catalog_item"
    __table_args__ = (Index("ix_catalog_item_kind_status", "kind", "lifecycle_status"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    lifecycle_status: Mapped[str] = mapped_column(String(16))  # inDesign → active → retired
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Opportunity(Base):
    """A sales opportunity (销售机会) on a customer, owned by the node where it was created."""

    __tablename__ = "opportunity"
    __table_args__ = (
        Index("ix_opportunity_owner_stage", "owner_node", "stage"),
        # the forecast's and funnel's partial months at a period's edges (the roll-up holds whole months)
        Index("ix_opportunity_close_date", "close_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    probability: Mapped[int] = mapped_column(Integer)
    probability_rule: Mapped[str] = mapped_column(String(80))
    expected_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3))
    close_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    competitor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    account_manager: Mapped[str] = mapped_column(String(128), index=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    decision_chain: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    stage_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    next_follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    follow_up_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OpportunityRollup(Base):
    """The forecast's and the funnel's roll-up of `Opportunity`: one row per owner node × account manager
    × stage × currency × close month (NULL: no close date) with its deals, their expected amount and their
    weighted amount (expected × probability / 100, unrounded). Kept by the statement triggers migration
    0006 puts on `sales.opportunity` — in the transaction of every write, apply, snapshot repair or bulk
    load, whatever the path — never written by the application. docs/sales.md, Forecast."""

    __tablename__ = "opportunity_rollup"
    __table_args__ = (
        Index(
            "ux_opportunity_rollup_key",
            "owner_node",
            "account_manager",
            "stage",
            "currency",
            "close_month",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    owner_node: Mapped[str] = mapped_column(String(32))
    account_manager: Mapped[str] = mapped_column(String(128))
    stage: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    close_month: Mapped[date | None] = mapped_column(Date, nullable=True)
    deals: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    weighted: Mapped[Decimal] = mapped_column(Numeric)

    __mapper_args__ = {  # noqa: RUF012 (SQLAlchemy's declarative attribute)
        "primary_key": [owner_node, account_manager, stage, currency, close_month]
    }


class SalesLead(Base):
    """A sales lead (线索, TMF699): a prospect or a customer's interest, qualified into an opportunity or
    rejected; owned by the node where it was created."""

    __tablename__ = "sales_lead"
    __table_args__ = (Index("ix_sales_lead_owner_status", "owner_node", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # new → qualified → converted; new/qualified → rejected
    rating: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True, index=True)
    prospect_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    estimated_revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    account_manager: Mapped[str] = mapped_column(String(128), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Agreement(Base):
    """A contract (合同, TMF651 Agreement) with a customer, owned by the node where it was created. A
    renewal is a new row (``agreement_version`` + 1) linked to the one it renews."""

    __tablename__ = "agreement"
    __table_args__ = (
        UniqueConstraint("owner_node", "number", "agreement_version"),
        Index("ix_agreement_owner_status_end", "owner_node", "status", "end_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(64))
    agreement_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    status: Mapped[str] = mapped_column(String(16))  # inProgress → signed → terminated; inProgress → cancelled
    signed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # exclusive
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3))
    terms: Mapped[str | None] = mapped_column(Text, nullable=True)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    quote_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sla_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    renewal_status: Mapped[str] = mapped_column(String(16))  # none | renewed | notRenewed
    previous_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    renewed_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    account_manager: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgreementReminder(Base):
    """One expiry reminder (合同到期提醒) of one contract at one offset: the unique key is what makes the
    scheduled job remind exactly once, across runs and restarts. Kept at the owner node only."""

    __tablename__ = "agreement_reminder"
    __table_args__ = (UniqueConstraint("agreement_id", "offset_days"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    offset_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)  # end_date - offset_days
    end_date: Mapped[date] = mapped_column(Date)
    account_manager: Mapped[str] = mapped_column(String(128), index=True)
    rule: Mapped[str] = mapped_column(String(80))  # the reminder rule that gave the offset
    reminded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the job's clock
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Quote(Base):
    """A quote (报价, TMF648 Quote) to a customer, owned by the node where it was created. A revision is
    a new row (``quote_version`` + 1, same ``number``) linked to the one it supersedes."""

    __tablename__ = "quote"
    __table_args__ = (
        UniqueConstraint("owner_node", "number", "quote_version"),
        Index("ix_quote_owner_status", "owner_node", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(64))
    quote_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # inProgress → pending → approved → accepted; …
    currency: Mapped[str] = mapped_column(String(3))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(16, 2))  # at list prices
    total: Mapped[Decimal] = mapped_column(Numeric(16, 2))  # after discounts
    max_discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    approval_required: Mapped[bool] = mapped_column(Boolean)
    approval_rule: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    approval_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    previous_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    superseded_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    account_manager: Mapped[str] = mapped_column(String(128), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Visit(Base):
    """A customer visit (客户拜访): planned, then recorded (participants, outcome, minutes) with its
    follow-up tasks; owned by the node where it was planned."""

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_owner_planned", "owner_node", "planned_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # planned → done | cancelled
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    minutes: Mapped[str | None] = mapped_column(Text, nullable=True)
    follow_ups: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    account_manager: Mapped[str] = mapped_column(String(128), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    """A marketing campaign (营销活动, F7), authored at a node and flowing down to its subtree once
    launched; ``valid_from``/``valid_to`` are its period (end exclusive)."""

    __tablename__ = "campaign"
    __table_args__ = (Index("ix_campaign_owner_status", "owner_node", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str] = mapped_column(Text)
    segment: Mapped[dict[str, Any]] = mapped_column(JSONB)  # a saved customer filter
    offers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    channel: Mapped[str] = mapped_column(String(32))
    budget: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # draft → approved → running → closed
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignTargetList(Base):
    """The targets of a launched campaign in one part of its author's subtree (``scope_node``: a
    national campaign has one list per province), snapshot at launch; owned by the campaign's author."""

    __tablename__ = "campaign_target_list"
    __table_args__ = (UniqueConstraint("campaign_id", "scope_node"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    scope_node: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{customerId, name, node}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignResponse(Base):
    """The work on one campaign target at the node that holds the customer (营销响应): contact attempts and
    the customer's response; owned there, flowing up."""

    __tablename__ = "campaign_response"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id", "owner_node"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    response: Mapped[str] = mapped_column(String(16))  # none | interested | notInterested | converted
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    account_manager: Mapped[str] = mapped_column(String(128), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HubSubscription(HubSubscriptionMixin, Base):
    """A TMF630 listener of catalogue events registered on /hub (the columns are the platform's)."""

    __tablename__ = "hub_subscription"


class HubDelivery(HubDeliveryMixin, Base):
    """A TMF event waiting to be POSTed to one listener; deleted once delivered (or given up)."""

    __tablename__ = "hub_delivery"


class Notification(NotificationMixin, Base):
    """A notification (消息) of the sales jobs to a user of this node: contract expiry reminders, due
    follow-ups (the columns are the platform's, docs/notifications.md). Not replicated."""

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
