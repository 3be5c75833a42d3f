"""API models of the sales forecast (销售预测)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from kam_platform.api import ReadModel
from kam_sales.money import Money


class ForecastLine(ReadModel):
    """One node's (its whole subtree's) or one account manager's figures for the period."""

    type_: Annotated[str, Field(alias="@type")] = "ForecastLine"
    node: str | None = None
    account_manager: Annotated[str | None, Field(alias="accountManager")] = None
    currency: str
    open_count: Annotated[int, Field(alias="openCount")]
    pipeline: Annotated[Money, Field(description="expected amount of open deals closing in the period")]
    weighted: Annotated[Money, Field(description="pipeline × stage probability")]
    committed: Annotated[Money, Field(description="won deals closing in the period")]
    won_count: Annotated[int, Field(alias="wonCount")]


class Forecast(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "Forecast"
    node: str
    start: date
    end: Annotated[date, Field(description="exclusive")]
    by: str
    lines: list[ForecastLine]


class FunnelStage(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "FunnelStage"
    stage: str
    count: int
    amounts: Annotated[list[Money], Field(description="expected amount of the stage's deals, per currency")]


class Funnel(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "Funnel"
    start: date | None = None
    end: Annotated[date | None, Field(description="exclusive")] = None
    stages: list[FunnelStage]
