"""The decision map (决策链): directed relations between the contacts of one key account."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.db import ReplicatedMixin


class ContactRelation(ReplicatedMixin, Base):
    """A relation from one contact to another (reports to, influences, ally, opponent) [S13]."""

    __tablename__ = "contact_relation"
    __table_args__ = (
        CheckConstraint("from_contact_id <> to_contact_id", name="not_self"),
        # one live relation of a type between two contacts
        Index(
            "uq_contact_relation_from_to_type_live",
            "from_contact_id",
            "to_contact_id",
            "relation_type",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    from_contact_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    to_contact_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    relation_type: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
