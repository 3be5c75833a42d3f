"""Teams (团队, REQUIREMENTS §3.7) and their members."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_org.models.base import Base
from kam_platform.db import ReplicatedMixin


class Team(ReplicatedMixin, Base):
    __tablename__ = "team"
    # server timestamps come back via RETURNING (no lazy refresh under async)
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (UniqueConstraint("owner_node", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. 行业专家团队, 客户服务团队 (§2.1)
    description: Mapped[str] = mapped_column(Text, default="")
    # no foreign keys to other aggregates (a replica applies them in arrival order); the owner's service
    # checks them
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    leader_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, index=True)
