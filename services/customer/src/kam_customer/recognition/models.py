"""Recognition tables (schema ``customer``): candidates and the monthly spend they are judged on."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base


class MonthlySpend(Base):
    """A customer's billed spend of one month (CNY) — the billing summary recognition reads. Until the
    billing service feeds it, it is loaded through ``POST /api/v1/customer/recognition/spend``."""

    __tablename__ = "monthly_spend"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("customer.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecognitionCandidate(Base):
    """候选: a customer the rules propose for recognition or a grade change, with the reason; decided by
    a person other than the proposer."""

    __tablename__ = "recognition_candidate"
    __table_args__ = (
        # one open proposal per customer: a new run does not pile up duplicates
        Index(
            "uq_recognition_candidate_customer_id_open",
            "customer_id",
            unique=True,
            postgresql_where=text("status = 'PROPOSED'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("customer.id"), index=True)
    customer_code: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(200))
    current_grade: Mapped[str] = mapped_column(String(4))
    current_status: Mapped[str] = mapped_column(String(16))
    proposed_grade: Mapped[str] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB)
    rule_set_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    rule_version: Mapped[int] = mapped_column(BigInteger)
    rule_owner_node: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # PROPOSED / CONFIRMED / REJECTED
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RecognitionSchedule(Base):
    """The node's recognition schedule: every ``interval_days`` the run is made as ``run_as`` (the person who
    set the schedule; a person other than them decides its candidates)."""

    __tablename__ = "recognition_schedule"

    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval_days: Mapped[int] = mapped_column(BigInteger)
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    run_as: Mapped[str] = mapped_column(String(128))
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    last_result: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
