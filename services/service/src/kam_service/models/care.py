"""Care activities and plans (客户关怀), experts and expert requests (专家服务), contact schemes (联系方案):
records owned where they were made, replicated up."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_service.models import Base


class CarePlan(Base):
    """A care plan: one kind of care for a set of targets (a customer, or a segment's customers and
    contacts), on an occasion; the daily job proposes its activities ``lead_days`` ahead."""

    __tablename__ = "care_plan"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(200), default="")
    occasion: Mapped[str] = mapped_column(String(10), default="")  # MM-DD yearly, an ISO date once, "" birthdays
    lead_days: Mapped[int] = mapped_column(Integer, default=7)
    budget_per_target: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # [{customerId, customerName, contactId, contactName, monthDay}]
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CareActivity(Base):
    __tablename__ = "care_activity"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    plan_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    account_manager: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    contact_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    feedback: Mapped[str | None] = mapped_column(Text, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the daily job's key (plan, target, occurrence): a proposal is made once
    proposal_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Expert(Base):
    __tablename__ = "expert"
    __table_args__ = (UniqueConstraint("owner_node", "username"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(100))
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text))
    industries: Mapped[list[str]] = mapped_column(ARRAY(Text))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExpertRequest(Base):
    __tablename__ = "expert_request"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    domain: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(32), nullable=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    account_manager: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    expert_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    expert_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_document_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContactScheme(Base):
    """A customer's contact scheme at the node serving it: hotlines and the layer-to-layer map."""

    __tablename__ = "contact_scheme"
    __table_args__ = (UniqueConstraint("owner_node", "customer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    account_manager: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hotlines: Mapped[list[str]] = mapped_column(ARRAY(Text))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
