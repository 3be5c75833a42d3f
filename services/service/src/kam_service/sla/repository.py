"""SQL of the node's business calendar and the durable escalation records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_service.models import BusinessCalendar, EscalationFired


class SlaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        return cls(session)

    async def calendar(self, node: str, *, for_update: bool = False) -> BusinessCalendar | None:
        stmt = select(BusinessCalendar).where(BusinessCalendar.node == node)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def add_calendar(self, row: BusinessCalendar) -> None:
        self.session.add(row)
        await self.session.flush()

    async def claim_step(
        self,
        *,
        ticket_id: uuid.UUID,
        step: int,
        node: str,
        notified: str,
        handler: str | None,
        due_at: datetime,
        at: datetime,
    ) -> bool:
        """Record that `step` of the ticket fired; False when it already had (another run, a restart)."""
        stmt = (
            insert(EscalationFired)
            .values(
                ticket_id=ticket_id,
                step=step,
                owner_node=node,
                notified=notified,
                handler=handler,
                due_at=due_at,
                fired_at=at,
            )
            .on_conflict_do_nothing(index_elements=["ticket_id", "step"])
            .returning(EscalationFired.step)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def fired(self, ticket_id: uuid.UUID) -> list[EscalationFired]:
        stmt = select(EscalationFired).where(EscalationFired.ticket_id == ticket_id).order_by(EscalationFired.step)
        return list((await self.session.scalars(stmt)).all())
