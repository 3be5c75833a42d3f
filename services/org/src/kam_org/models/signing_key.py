"""The node's token signing keys (Ed25519). One is active (signs); all published in the JWKS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kam_org.models.base import Base


class SigningKey(Base):
    __tablename__ = "signing_key"
    # at most one active key: concurrent start-ups race on this index, and the loser's insert is a no-op
    __table_args__ = (Index("uq_signing_key_active", "is_active", unique=True, postgresql_where=text("is_active")),)

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
