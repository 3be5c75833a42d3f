"""Append-only audit of every write (who, when, old → new) and the transactional outbox."""

from __future__ import annotations

from kam_org.models.base import Base
from kam_platform.audit import AuditMixin
from kam_platform.outbox import OutboxMixin


class Audit(AuditMixin, Base):
    __tablename__ = "audit"


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = OutboxMixin.outbox_indexes("outbox")
