"""All SQL of the 10000 adapter: service numbers in the caller's scope (the KA_LOOKUP index), a
customer's open tickets, the inbound record, the outbound queue's due scan and the day's reconciliation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal
from kam_platform.scoped import ScopedRepository
from kam_platform.topology import Topology
from kam_service.models import TroubleTicket
from kam_service.models.cs10000 import CsInbound, CsOutbound, CsReconciliation, CsSurvey, ServiceNumber
from kam_service.ticket.repository import TicketRepository
from kam_service.ticket.states import FINISHED

OPEN_TICKETS_SHOWN = 20


class NumberRepository(ScopedRepository[ServiceNumber]):
    model = ServiceNumber

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return ServiceNumber.account_manager.in_(managers)

    async def by_number(self, number: str) -> ServiceNumber | None:
        found: ServiceNumber | None = await self.session.scalar(
            select(ServiceNumber).where(ServiceNumber.number == number)
        )
        return found

    async def by_number_for_update(self, number: str) -> ServiceNumber | None:
        found: ServiceNumber | None = await self.session.scalar(
            select(ServiceNumber).where(ServiceNumber.number == number).with_for_update()
        )
        return found

    async def visible_number(self, number: str, principal: Principal, topology: Topology) -> ServiceNumber | None:
        stmt = self.scoped(principal, topology).where(ServiceNumber.number == number, ServiceNumber.status == "ACTIVE")
        found: ServiceNumber | None = await self.session.scalar(stmt)
        return found

    async def of_customer(
        self, customer_id: uuid.UUID, principal: Principal, topology: Topology
    ) -> Sequence[ServiceNumber]:
        stmt = (
            self.scoped(principal, topology)
            .where(ServiceNumber.customer_id == customer_id)
            .order_by(ServiceNumber.number)
        )
        return (await self.session.scalars(stmt)).all()

    async def by_customer_code(self, code: str, principal: Principal, topology: Topology) -> ServiceNumber | None:
        stmt = (
            self.scoped(principal, topology)
            .where(ServiceNumber.customer_code == code, ServiceNumber.status == "ACTIVE")
            .order_by(ServiceNumber.number)
            .limit(1)
        )
        found: ServiceNumber | None = await self.session.scalar(stmt)
        return found

    async def own_for_update(self, node: str) -> Sequence[ServiceNumber]:
        stmt = (
            select(ServiceNumber)
            .where(ServiceNumber.owner_node == node)
            .order_by(ServiceNumber.customer_id, ServiceNumber.number)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def active_of(self, customer_id: uuid.UUID, node: str) -> Sequence[ServiceNumber]:
        stmt = (
            select(ServiceNumber)
            .where(
                ServiceNumber.customer_id == customer_id,
                ServiceNumber.owner_node == node,
                ServiceNumber.status == "ACTIVE",
            )
            .order_by(ServiceNumber.number)
        )
        return (await self.session.scalars(stmt)).all()

    async def open_tickets(
        self, customer_id: uuid.UUID, principal: Principal, topology: Topology
    ) -> Sequence[TroubleTicket]:
        """The customer's unfinished tickets the caller sees (a replica's too), newest first."""
        tickets = TicketRepository.from_session(self.session)
        stmt = (
            tickets.scoped(principal, topology)
            .where(TroubleTicket.customer_id == customer_id, TroubleTicket.status.notin_([s.value for s in FINISHED]))
            .order_by(TroubleTicket.created_at.desc())
            .limit(OPEN_TICKETS_SHOWN)
        )
        return (await self.session.scalars(stmt)).all()


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> InboundRepository:
        return cls(session)

    async def claim(self, msg_id: str, msg_type: str, now: datetime) -> bool:
        """Record the message as handled in this transaction; False when it was handled before (a
        concurrent first delivery holds the key until it commits, then this one sees it)."""
        stmt = (
            insert(CsInbound)
            .values(msg_id=msg_id, msg_type=msg_type, result={}, received_at=now)
            .on_conflict_do_nothing(index_elements=[CsInbound.msg_id])
            .returning(CsInbound.msg_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def answer(self, msg_id: str) -> dict[str, Any] | None:
        row = await self.session.get(CsInbound, msg_id, populate_existing=True)
        return None if row is None else dict(row.result)

    async def record(self, msg_id: str, result: dict[str, Any]) -> None:
        await self.session.execute(update(CsInbound).where(CsInbound.msg_id == msg_id).values(result=result))

    async def add_survey(self, survey: CsSurvey) -> None:
        self.session.add(survey)
        await self.session.flush()


class OutboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> OutboundRepository:
        return cls(session)

    async def due(self, now: datetime, limit: int) -> Sequence[CsOutbound]:
        """Pending messages due, the oldest of each order key only, locked (another sender skips them)."""
        older = aliased(CsOutbound)
        blocked = (
            select(older.seq)
            .where(older.order_key == CsOutbound.order_key, older.status == "PENDING", older.seq < CsOutbound.seq)
            .exists()
        )
        stmt = (
            select(CsOutbound)
            .where(CsOutbound.status == "PENDING", CsOutbound.next_attempt_at <= now, ~blocked)
            .order_by(CsOutbound.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def page(self, status: str | None, offset: int, limit: int) -> tuple[Sequence[CsOutbound], int]:
        where = [CsOutbound.status == status] if status else []
        total = await self.session.scalar(select(func.count()).select_from(CsOutbound).where(*where))
        stmt = select(CsOutbound).where(*where).order_by(CsOutbound.seq).offset(offset).limit(limit)
        return (await self.session.scalars(stmt)).all(), int(total or 0)

    async def of_period(self, start: datetime, end: datetime) -> Sequence[CsOutbound]:
        stmt = (
            select(CsOutbound)
            .where(and_(CsOutbound.created_at >= start, CsOutbound.created_at < end))
            .order_by(CsOutbound.seq)
        )
        return (await self.session.scalars(stmt)).all()

    async def save_report(self, report: CsReconciliation) -> CsReconciliation:
        merged: CsReconciliation = await self.session.merge(report)
        await self.session.flush()
        return merged

    async def report(self, day: Any) -> CsReconciliation | None:
        found: CsReconciliation | None = await self.session.get(CsReconciliation, day)
        return found
