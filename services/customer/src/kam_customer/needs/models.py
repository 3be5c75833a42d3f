"""The needs profile table (需求档案): one per key account, versioned, owned by the customer's owner."""

from __future__ import annotations

import uuid

from sqlalchemy import String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.db import ReplicatedMixin


class NeedsProfile(ReplicatedMixin, Base):
    """需求档案 [REQUIREMENTS §3.4.1, S7/S13/S16]: what the account manager knows of a customer's needs."""

    __tablename__ = "needs_profile"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, index=True)
    network_situation: Mapped[str | None] = mapped_column(Text)  # 网络情况
    business_situation: Mapped[str | None] = mapped_column(Text)  # 业务情况
    tech_innovation_goals: Mapped[str | None] = mapped_column(Text)  # 技术创新目标
    current_product_usage: Mapped[str | None] = mapped_column(Text)  # 现用产品使用情况
    decision_process: Mapped[str | None] = mapped_column(Text)  # 决策流程
    latent_needs: Mapped[str | None] = mapped_column(Text)  # 潜在需求
    business_scope: Mapped[str | None] = mapped_column(Text)  # 经营范围
    customers_of_customer: Mapped[str | None] = mapped_column(Text)  # 客户的客户
    updated_by: Mapped[str] = mapped_column(String(128))
