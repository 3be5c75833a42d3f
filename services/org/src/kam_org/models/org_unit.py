"""Organisation units (组织机构) of a node, e.g. 大客户部, 政企客户部."""

from __future__ import annotations

import uuid

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_org.models.base import Base
from kam_platform.db import ReplicatedMixin


class OrgUnit(ReplicatedMixin, Base):
    __tablename__ = "org_unit"
    # server timestamps come back via RETURNING (no lazy refresh under async)
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (UniqueConstraint("owner_node", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))  # 部门类型, e.g. 大客户部 / 政企部
    # no foreign key: a replica may receive a child unit before its parent; the owner's service checks it
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
