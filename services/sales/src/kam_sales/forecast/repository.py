"""The forecast's and the funnel's SQL: one aggregate over what the caller may see closing in a period.

At the node levels of the data scope the whole months of the period are read from the roll-up
(`OpportunityRollup`, kept by triggers on the opportunity table in every write's transaction) with the
scope's WHERE on its `owner_node`, and only the partial months at the period's edges from the
opportunities; at the portfolio levels (own / team: a portfolio is small) every figure is read from the
scoped opportunities, as before the roll-up. Both sources give the same sums (the roll-up holds the
unrounded weighted amount), so the answer does not depend on which one was read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, Select, and_, cast, func, or_, select, true, union_all
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal, scope_filter
from kam_platform.topology import Topology
from kam_sales.models import Opportunity, OpportunityRollup
from kam_sales.opportunity.repository import OpportunityRepository
from kam_sales.opportunity.schemas import OPEN


def _month(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)


def whole_months(start: date | None, end: date | None) -> tuple[date | None, date | None] | None:
    """The whole close months of `[start, end)` (an open bound stays open) as `[lo, hi)` month starts,
    or None when the period holds no whole month."""
    lo = None if start is None else (start if start.day == 1 else _next_month(start))
    hi = None if end is None else _month(end)
    if lo is not None and hi is not None and lo >= hi:
        return None
    return lo, hi


def _between(col: Any, start: date | None, end: date | None) -> ColumnElement[bool]:
    conds = [c for c in (None if start is None else col >= start, None if end is None else col < end) if c is not None]
    return and_(*conds) if conds else true()


class ForecastRepository(OpportunityRepository):
    def _sources(
        self, principal: Principal, topology: Topology, start: date | None, end: date | None, keys: list[str]
    ) -> Select[Any]:
        """`keys` (columns both tables have) with deals, amount and weighted amount, per source row, of
        what the caller sees closing in `[start, end)`: the roll-up's whole months and the
        opportunities of the rest of the period (all of it at the portfolio levels)."""
        months = None if principal.by_portfolio else whole_months(start, end)
        parts: list[Select[Any]] = []
        if months is None:
            rest = _between(Opportunity.close_date, start, end)
        else:
            lo, hi = months
            r = OpportunityRollup
            parts.append(
                select(
                    *(getattr(r, k).label(k) for k in keys),
                    r.deals.label("deals"),
                    r.amount.label("amount"),
                    r.weighted.label("weighted"),
                ).where(scope_filter(r.owner_node, principal, topology), _between(r.close_month, lo, hi))
            )
            edges = [
                _between(Opportunity.close_date, a, b)
                for a, b in ((start, lo), (hi, end))
                if a is not None and b is not None and a < b
            ]
            if not edges:  # whole months only: the roll-up alone answers (no empty branch to plan)
                return parts[0]
            rest = or_(*edges)
        o = self.scoped(principal, topology).where(rest).subquery()
        parts.append(
            select(
                *(o.c[k].label(k) for k in keys),
                func.count().label("deals"),
                func.sum(o.c.expected_amount).label("amount"),
                func.sum(o.c.expected_amount * o.c.probability / 100).label("weighted"),
            ).group_by(*(o.c[k] for k in keys))
        )
        return parts[0] if len(parts) == 1 else union_all(*parts)  # type: ignore[return-value]

    async def totals(
        self, principal: Principal, topology: Topology, start: date, end: date, *, by_manager: bool
    ) -> list[dict[str, Any]]:
        """(owner node or account manager, currency) → open count, pipeline, weighted, committed, won count."""
        key_name = "account_manager" if by_manager else "owner_node"
        s = self._sources(principal, topology, start, end, [key_name, "stage", "currency"]).subquery()
        is_open, won = s.c.stage.in_(OPEN), s.c.stage == "WON"
        zero = cast(0, Numeric(18, 2))

        def total(col: Any, cond: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(col).filter(cond), zero)

        stmt = select(
            s.c[key_name].label("key"),
            s.c.currency,
            cast(func.coalesce(func.sum(s.c.deals).filter(is_open), 0), BigInteger).label("open_count"),
            total(s.c.amount, is_open).label("pipeline"),
            total(s.c.weighted, is_open).label("weighted"),
            total(s.c.amount, won).label("committed"),
            cast(func.coalesce(func.sum(s.c.deals).filter(won), 0), BigInteger).label("won_count"),
        ).group_by(s.c[key_name], s.c.currency)
        return [
            {**r._asdict(), **{k: Decimal(r._asdict()[k]) for k in ("pipeline", "weighted", "committed")}}
            for r in (await self.session.execute(stmt)).all()
        ]

    async def funnel(
        self, principal: Principal, topology: Topology, start: date | None, end: date | None
    ) -> list[dict[str, Any]]:
        """(stage, currency) → count and expected amount of the deals in scope (closing in the period
        when one is given)."""
        s = self._sources(principal, topology, start, end, ["stage", "currency"]).subquery()
        stmt = select(
            s.c.stage,
            s.c.currency,
            cast(func.sum(s.c.deals), BigInteger).label("count"),
            func.coalesce(func.sum(s.c.amount), cast(0, Numeric(18, 2))).label("amount"),
        ).group_by(s.c.stage, s.c.currency)
        return [r._asdict() for r in (await self.session.execute(stmt)).all()]
