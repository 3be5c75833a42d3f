"""SQL of the node's business calendar and the durable escalation records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Self

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

    async def claim_steps(self, steps: Sequence[dict[str, Any]]) -> set[tuple[uuid.UUID, int]]:
        """Record that these escalation steps fired, in one statement (the evaluator's batch; each dict
        names ticket_id, step, owner_node, notified, handler, due_at, fired_at): the (ticket, step) pairs
        that fired now — not those that already had (another run, a restart)."""
        if not steps:
            return set()
        stmt = (
            insert(EscalationFired)
            .values(list(steps))
            .on_conflict_do_nothing(index_elements=["ticket_id", "step"])
            .returning(EscalationFired.ticket_id, EscalationFired.step)
        )
        return {(r.ticket_id, r.step) for r in (await self.session.execute(stmt)).all()}

    async def fired(self, ticket_id: uuid.UUID) -> list[EscalationFired]:
        stmt = select(EscalationFired).where(EscalationFired.ticket_id == ticket_id).order_by(EscalationFired.step)
        return list((await self.session.scalars(stmt)).all())
