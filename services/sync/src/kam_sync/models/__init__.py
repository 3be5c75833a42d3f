"""Tables of the sync service (schema ``sync``): resync requests and the outbox that publishes them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kam_platform.db import service_metadata
from kam_platform.outbox import OutboxMixin

SCHEMA = "sync"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


class ResyncRequest(Base):
    """A request that the subtree republish its records (and the ancestors their reference data)."""

    __tablename__ = "resync_request"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    node: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = OutboxMixin.outbox_indexes("outbox")
