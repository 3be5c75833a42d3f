"""Duplicate candidates (疑似重复): pairs of customers a scan found, with a score and the reasons.
Local to the node that scanned (its review queue); not replicated."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base, Customer
from kam_platform.ids import uuid7

# the normalised name (migration 0011: full-width → half-width, case, punctuation, legal-form suffixes
# and branch words removed) the duplicate search looks up
NAME_KEY = text("customer.name_key(name)")
Index("ix_customer_name_key", NAME_KEY, _table=Customer.__table__, postgresql_where=text("deleted_at IS NULL"))  # type: ignore[arg-type]


class DuplicateCandidate(Base):
    """A pair (customer_a < customer_b) that may be one customer twice; OPEN until reviewed."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (Index("uq_duplicate_candidate_pair", "customer_a", "customer_b", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    customer_a: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    customer_b: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    owner_a: Mapped[str] = mapped_column(String(32))
    owner_b: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="OPEN")  # OPEN / DISMISSED / MERGED
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
