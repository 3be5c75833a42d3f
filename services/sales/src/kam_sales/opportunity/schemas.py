"""API models of opportunities (销售机会)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator

from kam_platform.api import ApiModel, ReadModel, Resource
from kam_sales.catalog.schemas import Ref
from kam_sales.money import Money


class Stage(StrEnum):
    LEAD = "LEAD"  # 线索
    QUALIFIED = "QUALIFIED"  # 已确认
    PROPOSAL = "PROPOSAL"  # 方案/报价
    NEGOTIATION = "NEGOTIATION"  # 商务谈判
    WON = "WON"  # 赢单
    LOST = "LOST"  # 丢单


OPEN = ("LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION")
# stage → stages it may move to: open stages move freely among themselves; a deal is won from a
# proposal or a negotiation, lost from any open stage; won and lost are final
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "LEAD": ("QUALIFIED", "PROPOSAL", "NEGOTIATION", "LOST"),
    "QUALIFIED": ("LEAD", "PROPOSAL", "NEGOTIATION", "LOST"),
    "PROPOSAL": ("LEAD", "QUALIFIED", "NEGOTIATION", "WON", "LOST"),
    "NEGOTIATION": ("LEAD", "QUALIFIED", "PROPOSAL", "WON", "LOST"),
    "WON": (),
    "LOST": (),
}


class Source(StrEnum):
    CAMPAIGN = "CAMPAIGN"
    LEAD = "LEAD"
    VISIT = "VISIT"
    REFERRAL = "REFERRAL"
    SELF = "SELF"
    OTHER = "OTHER"


class Role(StrEnum):
    DECISION_MAKER = "decisionMaker"  # 决策者
    INFLUENCER = "influencer"  # 影响者
    USER = "user"  # 使用者


class DecisionMaker(ApiModel):
    """One link of the decision chain (决策链): a contact of the customer and their role in this deal."""

    contact_id: Annotated[str, Field(alias="contactId", min_length=1, max_length=64)]
    name: Annotated[str | None, Field(max_length=100)] = None
    role: Role
    note: Annotated[str | None, Field(max_length=500)] = None


class FollowUp(ApiModel):
    """The next follow-up (下次跟进) and what it is for."""

    at: datetime
    note: Annotated[str | None, Field(max_length=1000)] = None

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("a time with an offset (RFC 3339), e.g. 2026-12-01T10:00:00+08:00")
        return v


class CustomerRef(ApiModel):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str | None, Field(max_length=200)] = None
    href: Annotated[str | None, Field(max_length=500)] = None


Chain = Annotated[list[DecisionMaker], Field(alias="decisionChain", max_length=30, default_factory=list)]
Products = Annotated[list[Ref], Field(max_length=50, default_factory=list)]


class OpportunityCreate(ApiModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str | None, Field(max_length=4000)] = None
    customer: CustomerRef
    source: Source = Source.SELF
    stage: Annotated[Stage, Field(description="an open stage")] = Stage.LEAD
    expected_amount: Annotated[Money, Field(alias="expectedAmount")]
    close_date: Annotated[date | None, Field(alias="closeDate")] = None
    competitor: Annotated[str | None, Field(max_length=200)] = None
    account_manager: Annotated[
        str | None, Field(alias="accountManager", max_length=128, description="default: the creator")
    ] = None
    products: Products
    decision_chain: Chain
    next_follow_up: Annotated[FollowUp | None, Field(alias="nextFollowUp")] = None


class OpportunityUpdate(ApiModel):
    """A merge patch; ``stage`` moves the deal (to WON or LOST with ``closeReason``)."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    source: Source | None = None
    stage: Stage | None = None
    close_reason: Annotated[str | None, Field(alias="closeReason", min_length=1, max_length=2000)] = None
    expected_amount: Annotated[Money | None, Field(alias="expectedAmount")] = None
    close_date: Annotated[date | None, Field(alias="closeDate")] = None
    competitor: Annotated[str | None, Field(max_length=200)] = None
    account_manager: Annotated[str | None, Field(alias="accountManager", min_length=1, max_length=128)] = None
    products: Annotated[list[Ref] | None, Field(max_length=50)] = None
    decision_chain: Annotated[list[DecisionMaker] | None, Field(alias="decisionChain", max_length=30)] = None
    next_follow_up: Annotated[FollowUp | None, Field(alias="nextFollowUp")] = None


class StageChange(ReadModel):
    from_: Annotated[str | None, Field(alias="from")] = None
    to: str
    probability: int
    at: datetime
    by: str
    reason: str | None = None


class OpportunityRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "Opportunity"
    name: str
    description: str | None = None
    customer: dict[str, str]
    source: str
    stage: str
    probability: Annotated[int, Field(description="percent, from the effective opportunity_probability rule")]
    probability_rule: Annotated[str, Field(alias="probabilityRule")]
    expected_amount: Annotated[Money, Field(alias="expectedAmount")]
    weighted_amount: Annotated[Money, Field(alias="weightedAmount", description="expectedAmount × probability")]
    close_date: Annotated[date | None, Field(alias="closeDate")] = None
    competitor: str | None = None
    account_manager: Annotated[str, Field(alias="accountManager")]
    close_reason: Annotated[str | None, Field(alias="closeReason")] = None
    products: list[dict[str, Any]]
    decision_chain: Annotated[list[dict[str, Any]], Field(alias="decisionChain")]
    next_follow_up: Annotated[dict[str, Any] | None, Field(alias="nextFollowUp")] = None
    owner_node: Annotated[str, Field(alias="ownerNode")]
    version: int
    created_by: Annotated[str, Field(alias="createdBy")]
    created_at: Annotated[datetime, Field(alias="createdAt")]
    updated_at: Annotated[datetime, Field(alias="updatedAt")]
    closed_at: Annotated[datetime | None, Field(alias="closedAt")] = None
