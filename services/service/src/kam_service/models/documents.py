"""Documents (文档管理, F4): the metadata with its file versions (replicated up as one record), and the
content in chunks of at most 128 KiB (bytea; replicated up chunk by chunk)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_service.models import Base


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (Index("ix_document_related", "related_type", "related_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    account_manager: Mapped[str | None] = mapped_column(String(64), nullable=True)
    related_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    related_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    access_roles: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    # [{number, fileName, contentType, size, sha256, chunks, uploadedBy, uploadedAt, note}]
    versions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DocumentChunk(Base):
    """One piece of one file version. ``id`` is uuid5 of (document, version, seq), so a redelivered chunk
    lands once."""

    __tablename__ = "document_chunk"
    __table_args__ = (UniqueConstraint("document_id", "version_number", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    document_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    version_number: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
