"""The sales forecast at /api/v1/sales/forecast."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_sales.money import Money

from . import service
from .schemas import Forecast, ForecastLine, Funnel, FunnelStage

router = APIRouter(prefix="/api/v1/sales", tags=["forecast"])
Reader = Annotated[Principal, require("sales.opportunity:read")]


@router.get("/forecast", response_model=Forecast)
async def get_forecast(
    session: Session,
    settings: AppSettings,
    who: Reader,
    start: date,
    end: Annotated[date, Query(description="exclusive")],
    node: Annotated[str | None, Query(max_length=32)] = None,
    by: Literal["node", "accountManager"] = "node",
) -> Forecast:
    """Pipeline, weighted pipeline and committed (won) amounts of the opportunities in the caller's scope
    whose closeDate falls in [start, end): by node (default: the caller's scope node; one line for the
    node's own deals and one per child, its subtree rolled up) or by account manager."""
    target, lines = await service.forecast(
        session, settings=settings, principal=who, node=node, start=start, end=end, by=by
    )
    return Forecast(
        node=target,
        start=start,
        end=end,
        by=by,
        lines=[
            ForecastLine(
                node=line["key"] if by == "node" else None,
                account_manager=line["key"] if by == "accountManager" else None,
                currency=line["currency"],
                open_count=line["open_count"],
                pipeline=Money(unit=line["currency"], value=line["pipeline"]),
                weighted=Money(unit=line["currency"], value=line["weighted"]),
                committed=Money(unit=line["currency"], value=line["committed"]),
                won_count=line["won_count"],
            )
            for line in lines
        ],
    )


@router.get("/funnel", response_model=Funnel)
async def get_funnel(
    session: Session,
    settings: AppSettings,
    who: Reader,
    start: Annotated[date | None, Query(description="closeDate from (optional)")] = None,
    end: Annotated[date | None, Query(description="closeDate before (exclusive, optional)")] = None,
) -> Funnel:
    """The pipeline by stage (销售漏斗, the kanban's columns) of the opportunities in the caller's scope,
    optionally of those closing in [start, end): each stage in order with its deals and expected amount
    per currency, in one aggregate query."""
    stages = await service.funnel(session, settings=settings, principal=who, start=start, end=end)
    return Funnel(
        start=start,
        end=end,
        stages=[
            FunnelStage(
                stage=s["stage"],
                count=s["count"],
                amounts=[Money(unit=u, value=v) for u, v in sorted(s["amounts"].items())],
            )
            for s in stages
        ],
    )
