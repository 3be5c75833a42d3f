"""All SQL of assignment: the node's queues, the queues matching a ticket, the members' open load."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import any_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_service.models import TroubleTicket
from kam_service.models.assignment import TicketQueue
from kam_service.ticket.states import Status

OPEN = (Status.ACKNOWLEDGED.value, Status.IN_PROGRESS.value, Status.PENDING.value)


class QueueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> QueueRepository:
        return cls(session)

    async def of_node(self, node: str) -> Sequence[TicketQueue]:
        stmt = select(TicketQueue).where(TicketQueue.owner_node == node).order_by(TicketQueue.rank, TicketQueue.name)
        return (await self.session.scalars(stmt)).all()

    async def get(self, node: str, queue_id: uuid.UUID, *, for_update: bool = False) -> TicketQueue | None:
        stmt = select(TicketQueue).where(TicketQueue.owner_node == node, TicketQueue.id == queue_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_name(self, node: str, name: str) -> TicketQueue | None:
        stmt = select(TicketQueue).where(TicketQueue.owner_node == node, TicketQueue.name == name)
        return (await self.session.scalars(stmt)).one_or_none()

    async def add(self, queue: TicketQueue) -> None:
        self.session.add(queue)
        await self.session.flush()

    async def first_matching(self, node: str, ticket_type: str, grade: str) -> TicketQueue | None:
        """The active queue of lowest rank serving this ticket type and grade, locked (its round robin
        cursor moves under the lock, so two tickets accepted at once get different members)."""
        stmt = (
            select(TicketQueue)
            .where(
                TicketQueue.owner_node == node,
                TicketQueue.is_active.is_(True),
                literal(ticket_type) == any_(TicketQueue.ticket_types),
                (func.cardinality(TicketQueue.grades) == 0) | (literal(grade) == any_(TicketQueue.grades)),
            )
            .order_by(TicketQueue.rank, TicketQueue.name)
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def open_load(self, node: str, members: Sequence[str]) -> dict[str, int]:
        """Open tickets (acknowledged, in progress, pending) this node's members handle."""
        stmt = (
            select(TroubleTicket.handler, func.count())
            .where(
                TroubleTicket.owner_node == node,
                TroubleTicket.handler.in_(list(members)),
                TroubleTicket.status.in_(OPEN),
            )
            .group_by(TroubleTicket.handler)
        )
        return {h: n for h, n in (await self.session.execute(stmt)).all() if h is not None}
