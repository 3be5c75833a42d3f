"""What each service last registered in the permission catalogue (kam_org.registry)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kam_org.models.base import Base


class PermissionRegistration(Base):
    """One row per service: the digest of its spec's permissions and default grants as registered, and
    those grants (so a later spec adds only its new grants and never re-adds one an admin removed)."""

    __tablename__ = "permission_registration"

    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))  # ServiceSpec.permissions_digest(); "" = baseline only
    permissions: Mapped[dict[str, Any]] = mapped_column(JSONB)  # code → description
    grants: Mapped[dict[str, Any]] = mapped_column(JSONB)  # role code → [permission codes]
    version: Mapped[int] = mapped_column(BigInteger)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
