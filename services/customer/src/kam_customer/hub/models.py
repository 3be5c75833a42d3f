"""TMF630 notification listeners registered on /hub and their pending deliveries (schema ``customer``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.ids import uuid7


class HubSubscription(Base):
    __tablename__ = "hub_subscription"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    owner_node: Mapped[str] = mapped_column(String(32))
    callback: Mapped[str] = mapped_column(String(2000))
    query: Mapped[str | None] = mapped_column(String(500))
    scope_node: Mapped[str] = mapped_column(String(32))  # events are delivered within the subscriber's scope
    created_by: Mapped[str] = mapped_column(String(128), index=True)
    # the registering user's home node: user names are unique per node only (None on older rows)
    created_by_node: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # per-listener back-off: consecutive failed deliveries, and when to try again
    failure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    # a delivering process leases the listener so two processes do not post to it at once
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HubDelivery(Base):
    """A TMF event waiting to be POSTed to one listener; deleted once delivered (or given up)."""

    __tablename__ = "hub_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),  # a redelivered stream message queues once
        Index("ix_hub_delivery_subscription_id_id", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hub_subscription.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
