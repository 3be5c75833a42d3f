"""The service-quality answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ReadModel


class GradeCount(ReadModel):
    grade: str
    open: int
    breached: int  # of the open ones: response or resolution deadline missed


class QualityFigures(ReadModel):
    """Over the tickets of the period (accepted / resolved / closed in it, as each figure says)."""

    accepted: int
    response_breached: int
    resolve_breached: int
    resolved: int
    mttr_minutes: Annotated[float | None, Field(description="mean resolutionDate - creationDate of those resolved")]
    closed: int
    resolve_in_sla: Annotated[float | None, Field(description="RESOLVE_IN_SLA: closed within SLA / closed")]
    surveyed: int
    satisfaction: Annotated[float | None, Field(description="mean SAT_SCORE (1..5) of the surveys")]
    satisfied_share: Annotated[float | None, Field(description="share of surveys scoring 4 or 5")]
    reopened: int


class NodeQuality(QualityFigures):
    node: str


class ServiceQualityRead(ReadModel):
    type_: Annotated[Literal["ServiceQuality"], Field(alias="@type")] = "ServiceQuality"
    scope_node: str
    period_start: datetime
    period_end: datetime
    open_by_grade: list[GradeCount]
    total: QualityFigures
    by_node: list[NodeQuality]
