"""Tables of the customer-service system (客服系统, 10000) adapter: key accounts' service numbers (the
KA_LOOKUP index, replicated up), the durable outbound queue, the inbound idempotency record and the
daily reconciliation reports (docs/adapters.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_service.models import Base


class ServiceNumber(Base):
    """A key account's service number (业务号码) with the customer facts KA_LOOKUP answers, owned by the
    node that registered it; a number is held once per node (a replica's too: the unique index)."""

    __tablename__ = "cs_service_number"
    __table_args__ = (
        Index("uq_cs_service_number_number", "number", unique=True),
        Index("ix_cs_service_number_customer_id", "customer_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    customer_code: Mapped[str] = mapped_column(String(32), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(8))  # 客户等级 at the last refresh
    account_manager: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority_routing: Mapped[bool] = mapped_column(default=True)  # 优先路由
    status: Mapped[str] = mapped_column(String(16))  # ACTIVE / RETIRED
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CsOutbound(Base):
    """One message to the 10000 system, queued in the transaction of the change it reports and sent
    at least once by the sender; the receiver drops repeats by ``idempotency_key`` (= the envelope's
    ``msg_id``). Messages of one ``order_key`` go out one at a time, oldest first."""

    __tablename__ = "cs_outbound"
    __table_args__ = (
        Index("uq_cs_outbound_idempotency_key", "idempotency_key", unique=True),
        # the sender's scan: pending messages due
        Index("ix_cs_outbound_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
        Index("ix_cs_outbound_order", "order_key", "seq", postgresql_where=text("status = 'PENDING'")),
        Index("ix_cs_outbound_created_at", "created_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    msg_type: Mapped[str] = mapped_column(String(32))  # KA_LIST_SYNC / TICKET_UPDATE
    order_key: Mapped[str] = mapped_column(String(100))  # e.g. ticket:<id>, customer:<id>
    correlation_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))  # PENDING / ACKED / NACKED
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ack_code: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CsInbound(Base):
    """Each inbound message handled once: its ``msg_id`` and the answer given, returned again to a
    repeat (the 10000 system retries too)."""

    __tablename__ = "cs_inbound"

    msg_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CsSurvey(Base):
    """A SURVEY_RESULT (回访结果) for a customer without a ticket (a ticket's closes the ticket's loop)."""

    __tablename__ = "cs_survey"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_code: Mapped[str] = mapped_column(String(32), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    msg_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CsReconciliation(Base):
    """The daily reconciliation of one day's outbound messages: sent vs acknowledged, mismatches listed."""

    __tablename__ = "cs_reconciliation"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queued: Mapped[int] = mapped_column(Integer)
    acked: Mapped[int] = mapped_column(Integer)
    mismatches: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
