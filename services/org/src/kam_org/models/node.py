"""The tier tree (集团 → 省 → 本地网), loaded from the topology at start-up so it is queryable."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kam_org.models.base import Base


class Node(Base):
    __tablename__ = "node"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))  # group 集团 / province 省 / local 本地网
    parent: Mapped[str | None] = mapped_column(String(32), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
