"""API models of recognition."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel, Resource


class RecognitionRunCreate(ApiModel):
    on: Annotated[date | None, Field(alias="date", description="evaluate as of this date (default today)")] = None


class RuleRef(ReadModel):
    id: str
    version: int
    owner_node: Annotated[str, Field(alias="ownerNode")]


class CandidateRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "RecognitionCandidate"
    run_id: Annotated[str, Field(alias="runId")]
    customer_id: Annotated[str, Field(alias="customerId")]
    customer_code: Annotated[str, Field(alias="customerCode")]
    customer_name: Annotated[str, Field(alias="customerName")]
    current_grade: Annotated[str, Field(alias="currentGrade")]
    current_status: Annotated[str, Field(alias="currentRecognitionStatus")]
    proposed_grade: Annotated[str, Field(alias="proposedGrade")]
    reason: str
    evidence: dict[str, Any]
    rule: RuleRef
    status: str
    proposed_by: Annotated[str, Field(alias="proposedBy")]
    proposed_at: Annotated[datetime, Field(alias="proposedAt")]
    decided_by: Annotated[str | None, Field(alias="decidedBy")] = None
    decided_at: Annotated[datetime | None, Field(alias="decidedAt")] = None
    decision_note: Annotated[str | None, Field(alias="decisionNote")] = None


class RecognitionRunRead(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "RecognitionRun"
    id: str
    node: str
    date: date
    rule: RuleRef
    evaluated: int
    proposed: int
    candidates: list[CandidateRead]


class Decision(ApiModel):
    note: Annotated[str | None, Field(max_length=1000)] = None


class Rejection(ApiModel):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class SpendIn(ApiModel):
    customer_id: Annotated[str, Field(alias="customerId", max_length=64)]
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
    amount: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]


class SpendLoad(ApiModel):
    items: Annotated[list[SpendIn], Field(min_length=1, max_length=10000)]


class SpendLoaded(ReadModel):
    loaded: int


class ScheduleSet(ApiModel):
    interval_days: Annotated[int, Field(alias="intervalDays", ge=1, le=366)]
    enabled: bool = True
    next_run_at: Annotated[datetime | None, Field(alias="nextRunAt", description="default: now")] = None


class ScheduleRead(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "RecognitionSchedule"
    node: str
    interval_days: Annotated[int, Field(alias="intervalDays")]
    enabled: bool
    run_as: Annotated[str, Field(alias="runAs")]
    next_run_at: Annotated[datetime, Field(alias="nextRunAt")]
    last_run_at: Annotated[datetime | None, Field(alias="lastRunAt")] = None
    last_run_id: Annotated[str | None, Field(alias="lastRunId")] = None
    last_result: Annotated[str | None, Field(alias="lastResult")] = None
