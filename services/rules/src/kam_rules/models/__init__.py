"""Tables of the rules service (schema ``rules``): rule sets (a downward dataset), their version history,
the audit trail, and the replication plumbing (outbox, inbox, dead letters)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kam_platform.audit import AuditMixin
from kam_platform.db import service_metadata
from kam_platform.outbox import OutboxMixin
from kam_platform.replication import DeadLetterMixin, InboxMixin

SCHEMA = "rules"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


class RuleSet(Base):
    """A rule set (规则): typed parameters of one kind, in force for the scope node's subtree during
    ``validFor``; owned (and written) only by the node that authored it."""

    __tablename__ = "rule_set"
    __table_args__ = (Index("ix_rule_set_kind_status", "kind", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    scope_node: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # DRAFT → APPROVED → PUBLISHED → RETIRED
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    bounds: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    based_on: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    author: Mapped[str] = mapped_column(String(128))
    approver: Mapped[str | None] = mapped_column(String(128), nullable=True)
    publisher: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RuleSetVersion(Base):
    """Every version of a rule set this node has seen (its own edits; the published states replicas get)."""

    __tablename__ = "rule_set_version"
    __table_args__ = (UniqueConstraint("rule_set_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    rule_set_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    owner_node: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())


class Audit(AuditMixin, Base):
    __tablename__ = "audit"


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = OutboxMixin.outbox_indexes("outbox")


class Inbox(InboxMixin, Base):
    __tablename__ = "inbox"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letter"
