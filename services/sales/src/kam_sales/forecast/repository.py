"""The forecast's SQL: one aggregate over the caller's scoped opportunities closing in a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, case, cast, func, select

from kam_platform.auth import Principal
from kam_platform.topology import Topology
from kam_sales.models import Opportunity
from kam_sales.opportunity.repository import OpportunityRepository
from kam_sales.opportunity.schemas import OPEN


class ForecastRepository(OpportunityRepository):
    async def totals(
        self, principal: Principal, topology: Topology, start: date, end: date, *, by_manager: bool
    ) -> list[dict[str, Any]]:
        """(owner node or account manager, currency) → open count, pipeline, weighted, committed, won count."""
        scoped = self.scoped(principal, topology).where(Opportunity.close_date >= start, Opportunity.close_date < end)
        o = scoped.subquery()
        is_open = o.c.stage.in_(OPEN)
        key = o.c.account_manager if by_manager else o.c.owner_node
        zero = cast(0, Numeric(18, 2))
        stmt = select(
            key.label("key"),
            o.c.currency,
            func.count().filter(is_open).label("open_count"),
            func.coalesce(func.sum(case((is_open, o.c.expected_amount), else_=zero)), zero).label("pipeline"),
            func.coalesce(
                func.sum(case((is_open, o.c.expected_amount * o.c.probability / 100), else_=zero)), zero
            ).label("weighted"),
            func.coalesce(func.sum(case((o.c.stage == "WON", o.c.expected_amount), else_=zero)), zero).label(
                "committed"
            ),
            func.count().filter(o.c.stage == "WON").label("won_count"),
        ).group_by(key, o.c.currency)
        return [
            {**r._asdict(), **{k: Decimal(r._asdict()[k]) for k in ("pipeline", "weighted", "committed")}}
            for r in (await self.session.execute(stmt)).all()
        ]

    async def funnel(
        self, principal: Principal, topology: Topology, start: date | None, end: date | None
    ) -> list[dict[str, Any]]:
        """(stage, currency) → count and expected amount of the scoped opportunities (closing in the
        period when one is given)."""
        scoped = self.scoped(principal, topology)
        if start is not None:
            scoped = scoped.where(Opportunity.close_date >= start)
        if end is not None:
            scoped = scoped.where(Opportunity.close_date < end)
        o = scoped.subquery()
        zero = cast(0, Numeric(18, 2))
        stmt = select(
            o.c.stage,
            o.c.currency,
            func.count().label("count"),
            func.coalesce(func.sum(o.c.expected_amount), zero).label("amount"),
        ).group_by(o.c.stage, o.c.currency)
        return [r._asdict() for r in (await self.session.execute(stmt)).all()]
