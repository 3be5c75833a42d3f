"""All SQL of the quality board: aggregates over the tickets the caller may see, in one query each (a
reported ticket that was dispatched is counted once, as the handler's ticket)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.auth import Principal
from kam_platform.topology import Topology
from kam_service.models import TroubleTicket
from kam_service.ticket.repository import TicketRepository
from kam_service.ticket.states import Status

OPEN = (Status.ACKNOWLEDGED.value, Status.IN_PROGRESS.value, Status.PENDING.value)


class QualityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _visible(self, principal: Principal, topology: Topology) -> Any:
        stmt = TicketRepository.from_session(self.session).scoped(principal, topology)
        return stmt.where(TroubleTicket.dispatched_to.is_(None)).subquery()

    async def open_by_grade(self, principal: Principal, topology: Topology) -> list[tuple[str, int, int]]:
        t = self._visible(principal, topology)
        breached = t.c.response_breached | t.c.resolve_breached
        stmt = (
            select(t.c.customer_grade, func.count(), func.count().filter(breached))
            .where(t.c.status.in_(OPEN))
            .group_by(t.c.customer_grade)
            .order_by(t.c.customer_grade)
        )
        return [(g, int(n), int(b)) for g, n, b in (await self.session.execute(stmt)).all()]

    async def figures(
        self, principal: Principal, topology: Topology, start: datetime, end: datetime, *, by_node: bool
    ) -> list[dict[str, Any]]:
        t = self._visible(principal, topology)
        accepted = and_(t.c.created_at >= start, t.c.created_at < end)
        resolved = and_(t.c.resolved_at >= start, t.c.resolved_at < end)
        closed = and_(t.c.closed_at >= start, t.c.closed_at < end)
        surveyed = and_(closed, t.c.satisfaction_score.is_not(None))
        minutes = func.extract("epoch", t.c.resolved_at - t.c.created_at) / 60.0
        cols = [
            func.count().filter(accepted).label("accepted"),
            func.count().filter(and_(accepted, t.c.response_breached)).label("response_breached"),
            func.count().filter(and_(accepted, t.c.resolve_breached)).label("resolve_breached"),
            func.count().filter(resolved).label("resolved"),
            func.avg(minutes).filter(resolved).label("mttr_minutes"),
            func.count().filter(closed).label("closed"),
            func.count().filter(and_(closed, t.c.resolve_breached.is_(False))).label("closed_in_sla"),
            func.count().filter(surveyed).label("surveyed"),
            func.avg(cast(t.c.satisfaction_score, Float)).filter(surveyed).label("satisfaction"),
            func.count().filter(and_(surveyed, t.c.satisfaction_score >= 4)).label("satisfied"),
            func.count().filter(and_(accepted, t.c.reopen_count > 0)).label("reopened"),
        ]
        active = accepted | resolved | closed
        if by_node:
            stmt = (
                select(t.c.owner_node.label("node"), *cols)
                .where(active)
                .group_by(t.c.owner_node)
                .order_by(t.c.owner_node)
            )
        else:
            stmt = select(*cols)
        rows = (await self.session.execute(stmt)).mappings().all()
        return [dict(r) for r in rows]


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
