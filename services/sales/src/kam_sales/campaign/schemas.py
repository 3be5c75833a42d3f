"""API models of campaigns (营销活动, F7), their target work lists, responses and evaluation."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, field_validator

from kam_platform.api import ApiModel, ReadModel, Resource
from kam_sales.agreement.schemas import Period
from kam_sales.catalog.schemas import Ref
from kam_sales.money import Money


class Status(StrEnum):
    DRAFT = "draft"  # 草稿
    APPROVED = "approved"  # 已审批
    RUNNING = "running"  # 执行中 (launched: targets snapshot)
    CLOSED = "closed"  # 已结束


TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("approved",),
    "approved": ("running",),
    "running": ("closed",),
    "closed": (),
}


class Channel(StrEnum):
    VISIT = "visit"  # 上门拜访
    PHONE = "phone"  # 电话营销
    SMS = "sms"  # 短信
    EMAIL = "email"  # 邮件
    EVENT = "event"  # 会议活动
    ONLINE = "online"  # 线上


# the customer list's attribute filters a saved segment may use (TMF630 filters of TMF629 customers)
SEGMENT_ATTRIBUTES = (
    "grade",
    "industry",
    "customerType",
    "nature",
    "mgmtLevel",
    "valueType",
    "status",
    "recognitionStatus",
    "accountManager",
    "ownerNode",
    "name",
)


class Segment(ApiModel):
    """The target segment (目标客群): a saved customer filter, TMF630 attribute filters of the customer
    list (``{"grade": "A,B", "industry": "FINANCE"}``), resolved at launch in the launcher's scope."""

    filter: Annotated[dict[str, str], Field(max_length=len(SEGMENT_ATTRIBUTES))]

    @field_validator("filter")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            base = key.split(".")[0]
            if base not in SEGMENT_ATTRIBUTES or key.count(".") > 1:
                raise ValueError(
                    f"{key}: not a customer attribute a segment filters on ({', '.join(SEGMENT_ATTRIBUTES)})"
                )
            if not value or len(value) > 500:
                raise ValueError(f"{key}: a filter value is 1 to 500 characters")
        return v


class CampaignCreate(ApiModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    objective: Annotated[str, Field(min_length=1, max_length=4000, description="活动目标")]
    segment: Segment
    offers: Annotated[list[Ref], Field(max_length=50, default_factory=list, description="catalogue offerings")]
    channel: Channel
    budget: Money
    period: Period


class CampaignUpdate(ApiModel):
    """A merge patch of a draft (status moves are the approve / launch / close operations)."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    objective: Annotated[str | None, Field(min_length=1, max_length=4000)] = None
    segment: Segment | None = None
    offers: Annotated[list[Ref] | None, Field(max_length=50)] = None
    channel: Channel | None = None
    budget: Money | None = None
    period: Period | None = None


class CampaignRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "Campaign"
    name: str
    objective: str
    segment: Annotated[
        dict[str, Any], Field(description="the saved filter; once launched also targetCount and snapshotAt")
    ]
    offers: list[dict[str, str]]
    channel: str
    budget: Money
    period: Period
    status: str
    approved_by: Annotated[str | None, Field(alias="approvedBy")] = None
    approved_at: Annotated[datetime | None, Field(alias="approvedAt")] = None
    launched_at: Annotated[datetime | None, Field(alias="launchedAt")] = None
    closed_at: Annotated[datetime | None, Field(alias="closedAt")] = None
    owner_node: Annotated[str, Field(alias="ownerNode")]
    version: int
    created_by: Annotated[str, Field(alias="createdBy")]
    created_at: Annotated[datetime, Field(alias="createdAt")]
    updated_at: Annotated[datetime, Field(alias="updatedAt")]


class Response(StrEnum):
    NONE = "none"  # 未响应
    INTERESTED = "interested"  # 有意向
    NOT_INTERESTED = "notInterested"  # 无意向
    CONVERTED = "converted"  # 已转商机


class NewOpportunity(ApiModel):
    """The opportunity a converted target becomes (source CAMPAIGN)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    expected_amount: Annotated[Money, Field(alias="expectedAmount")]
    close_date: Annotated[date | None, Field(alias="closeDate")] = None


class ContactAttempt(ApiModel):
    """One contact attempt (触达) on a target."""

    channel: Channel | None = None
    note: Annotated[str | None, Field(max_length=2000)] = None
    at: AwareDatetime | None = None


class TargetResponse(ApiModel):
    """The customer's response; `converted` creates the opportunity given."""

    response: Annotated[Response, Field(description="interested | notInterested | converted")]
    note: Annotated[str | None, Field(max_length=2000)] = None
    opportunity: NewOpportunity | None = None


class TargetRead(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "CampaignTarget"
    campaign: dict[str, str]
    customer: dict[str, str]
    node: Annotated[str, Field(description="where the target is worked: the customer's owner node")]
    account_manager: Annotated[str | None, Field(alias="accountManager")] = None
    attempts: list[dict[str, str]]
    response: str
    responded_at: Annotated[datetime | None, Field(alias="respondedAt")] = None
    opportunity: dict[str, str] | None = None


class EvaluationLine(ReadModel):
    """One node's figures (its subtree rolled up)."""

    type_: Annotated[str, Field(alias="@type")] = "CampaignEvaluationLine"
    node: str
    targets: int
    contacted: int
    responders: int
    conversions: int
    response_rate: Annotated[str | None, Field(alias="responseRate", description="CAMPAIGN_RESP, percent")] = None
    pipeline: Annotated[Money, Field(description="expected amount of the open opportunities converted")]
    won: Annotated[Money, Field(description="expected amount of those won")]
    cost: Annotated[Money, Field(description="the budget's share of this line, by its share of the targets")]
    cost_per_response: Annotated[Money | None, Field(alias="costPerResponse")] = None


class Evaluation(ReadModel):
    type_: Annotated[str, Field(alias="@type")] = "CampaignEvaluation"
    campaign: dict[str, str]
    node: str
    total: EvaluationLine
    lines: list[EvaluationLine]
