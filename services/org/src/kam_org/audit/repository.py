"""SQL of the audit trail."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Audit


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> AuditRepository:
        return cls(session)

    def add(self, record: Audit) -> None:
        self.session.add(record)
