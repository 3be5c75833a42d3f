"""The inbox and dead letters of org's apply consumers (replicas of the subtree's org records)."""

from __future__ import annotations

from kam_org.models.base import Base
from kam_platform.replication import DeadLetterMixin, InboxMixin


class Inbox(InboxMixin, Base):
    """Ids of replicated events already applied."""

    __tablename__ = "inbox"


class DeadLetter(DeadLetterMixin, Base):
    """Replicated events refused or failing after bounded retries."""

    __tablename__ = "dead_letter"
