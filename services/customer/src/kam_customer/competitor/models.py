"""Competitor presence (竞争信息): which competitor holds what at a key account, on what terms."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.db import ReplicatedMixin


class CompetitorPresence(ReplicatedMixin, Base):
    """竞争信息 [S13]: a competitor's products and offers at one customer, with its source and date."""

    __tablename__ = "competitor_presence"
    __table_args__ = (Index("ix_competitor_presence_competitor_contract_end", "competitor", "contract_end"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    competitor: Mapped[str] = mapped_column(String(100))  # 竞争对手 (中国移动, 中国联通, …)
    products_held: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)
    offers: Mapped[str | None] = mapped_column(Text)  # offers or discounts given (优惠)
    contract_end: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))  # 信息来源
    observed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
