"""Staff (员工): the people who log in, with their roles."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_org.models.base import Base
from kam_platform.db import ReplicatedMixin


class Staff(ReplicatedMixin, Base):
    __tablename__ = "staff"
    # server timestamps come back via RETURNING (no lazy refresh under async)
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (UniqueConstraint("owner_node", "username"),)

    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    # no foreign key: a replica applies each aggregate on its own, in whatever order they arrive; the
    # owner's service checks the unit (and the unit's delete counts its references under a row lock)
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    # argon2; never leaves the node: NULL on a replica of another node's staff, which cannot log in here
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # a one-time password (a node's bootstrap administrator): the user must change it at first login
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StaffRole(Base):
    __tablename__ = "staff_role"

    staff_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("role.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
