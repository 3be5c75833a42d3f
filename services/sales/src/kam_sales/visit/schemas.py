"""API models of customer visits (客户拜访) and visit completion (VISIT_DONE)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field

from kam_platform.api import ApiModel, ReadModel, Resource
from kam_sales.agreement.schemas import Ref
from kam_sales.opportunity.schemas import CustomerRef


class Status(StrEnum):
    PLANNED = "planned"  # 计划
    DONE = "done"  # 已拜访
    CANCELLED = "cancelled"  # 已取消


TRANSITIONS: dict[str, tuple[str, ...]] = {"planned": ("done", "cancelled"), "done": (), "cancelled": ()}


class Outcome(StrEnum):
    POSITIVE = "positive"  # 有进展
    NEUTRAL = "neutral"  # 一般
    NEGATIVE = "negative"  # 无进展 / 有异议


class Side(StrEnum):
    OURS = "ours"  # 我方
    CUSTOMER = "customer"  # 客户方


class Participant(ApiModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    side: Side
    role: Annotated[str | None, Field(max_length=100, description="职务 / 角色")] = None
    contact_id: Annotated[str | None, Field(alias="contactId", max_length=64)] = None


class FollowUp(ApiModel):
    """A follow-up task from the visit (后续任务)."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    due_date: Annotated[date | None, Field(alias="dueDate")] = None
    assignee: Annotated[str | None, Field(max_length=128)] = None
    status: Annotated[str, Field(pattern="^(open|done)$")] = "open"


class VisitCreate(ApiModel):
    customer: CustomerRef
    opportunity: Ref | None = None
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    purpose: Annotated[str | None, Field(max_length=4000)] = None
    location: Annotated[str | None, Field(max_length=200)] = None
    planned_at: Annotated[AwareDatetime, Field(alias="plannedAt")]
    participants: Annotated[list[Participant], Field(max_length=50, default_factory=list)]
    account_manager: Annotated[str | None, Field(alias="accountManager", max_length=128)] = None


class VisitUpdate(ApiModel):
    """A merge patch: the plan while planned; `status: cancelled`; follow-up tasks at any time."""

    subject: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    purpose: Annotated[str | None, Field(max_length=4000)] = None
    location: Annotated[str | None, Field(max_length=200)] = None
    planned_at: Annotated[AwareDatetime | None, Field(alias="plannedAt")] = None
    participants: Annotated[list[Participant] | None, Field(max_length=50)] = None
    follow_ups: Annotated[list[FollowUp] | None, Field(alias="followUps", max_length=50)] = None
    status: Status | None = None


class VisitRecord(ApiModel):
    """What happened (拜访记录): who took part, the outcome, the minutes, the follow-up tasks."""

    visited_at: Annotated[AwareDatetime | None, Field(alias="visitedAt", description="default: now")] = None
    participants: Annotated[list[Participant], Field(min_length=1, max_length=50)]
    outcome: Outcome
    minutes: Annotated[str, Field(min_length=1, max_length=20000, description="纪要")]
    follow_ups: Annotated[list[FollowUp], Field(alias="followUps", max_length=50, default_factory=list)]


class VisitRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "Visit"
    customer: dict[str, str]
    opportunity: dict[str, str] | None = None
    subject: str
    purpose: str | None = None
    location: str | None = None
    status: str
    planned_at: Annotated[datetime, Field(alias="plannedAt")]
    visited_at: Annotated[datetime | None, Field(alias="visitedAt")] = None
    participants: list[Participant]
    outcome: str | None = None
    minutes: str | None = None
    follow_ups: Annotated[list[FollowUp], Field(alias="followUps")]
    account_manager: Annotated[str, Field(alias="accountManager")]
    owner_node: Annotated[str, Field(alias="ownerNode")]
    version: int
    created_by: Annotated[str, Field(alias="createdBy")]
    created_at: Annotated[datetime, Field(alias="createdAt")]
    updated_at: Annotated[datetime, Field(alias="updatedAt")]


class CompletionLine(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "VisitCompletionLine"
    node: str | None = None
    account_manager: Annotated[str | None, Field(alias="accountManager")] = None
    planned: Annotated[int, Field(description="visits planned in the period, cancelled ones not counted")]
    done: int
    rate: Annotated[str | None, Field(description="VISIT_DONE: done ÷ planned, percent to 2 places")] = None


class Completion(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "VisitCompletion"
    node: str
    start: date
    end: Annotated[date, Field(description="exclusive")]
    by: str
    lines: list[CompletionLine]
