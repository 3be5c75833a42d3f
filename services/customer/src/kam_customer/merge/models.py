"""Merges (合并): a survivor and its victims, what moved, and how to reverse it within the window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.db import ReplicatedMixin


class CustomerMerge(ReplicatedMixin, Base):
    """合并记录: owned by the node that owns survivor and victims; the victims redirect to the survivor
    while it is MERGED."""

    __tablename__ = "customer_merge"
    # GET of a victim finds its merge by the victim's id
    __table_args__ = (Index("ix_customer_merge_victim_ids", "victim_ids", postgresql_using="gin"),)

    survivor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    victim_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    status: Mapped[str] = mapped_column(String(16))  # MERGED / REVERSED
    choices: Mapped[dict[str, str]] = mapped_column(JSONB)  # field → the customer whose value was taken
    # what the merge changed, to reverse it: the survivor's fields before, the records moved per victim
    undo: Mapped[dict[str, Any]] = mapped_column(JSONB)
    merged_by: Mapped[str] = mapped_column(String(128))
    reversible_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
