"""Assignment queues (派单队列): per team and skill (ticket types, customer grades), with the rule that
picks a handler among the members. Configuration of the node (not replicated); changes audited."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_service.models import Base


class TicketQueue(Base):
    __tablename__ = "ticket_queue"
    __table_args__ = (UniqueConstraint("owner_node", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    team: Mapped[str] = mapped_column(String(64))  # 班组
    ticket_types: Mapped[list[str]] = mapped_column(ARRAY(Text))  # the skill: ticket types it serves
    grades: Mapped[list[str]] = mapped_column(ARRAY(Text))  # customer grades it serves (empty: all)
    members: Mapped[list[str]] = mapped_column(ARRAY(Text))  # handler user names, in order
    strategy: Mapped[str] = mapped_column(String(16))  # ROUND_ROBIN / LEAST_LOADED
    rank: Mapped[int] = mapped_column(Integer, default=100)  # lower first among matching queues
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # round robin: the next member's index
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
