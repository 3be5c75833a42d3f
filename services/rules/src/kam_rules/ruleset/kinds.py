"""The kinds of rule set and the typed parameters of each (one pydantic model per kind).

Parameters are validated against the kind's model: an unknown or ill-typed parameter is a 422 naming it
(``parameters.timers.A.COMPLAINT.responseMinutes``). Numbers that refinements compare are plain JSON
numbers (integers, or decimal strings for money); maps keyed by grade or ticket type keep each value
addressable by a path, which is what bounds name.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Kind(StrEnum):
    RECOGNITION = "recognition"  # 大客户认定与分级门槛
    VALUE_SCORING = "value_scoring"  # 客户价值评分权重
    CHURN_WARNING = "churn_warning"  # 流失预警触发条件
    SLA = "sla"  # 服务时限与升级 (by grade and ticket type)
    REMINDER = "reminder"  # 合同到期与回访提醒
    OPPORTUNITY_PROBABILITY = "opportunity_probability"  # 商机阶段概率
    ASSIGNMENT = "assignment"  # 客户经理分配
    SETTLEMENT_SPLIT = "settlement_split"  # 一点收费结算分摊
    QUOTE_DISCOUNT_APPROVAL = "quote_discount_approval"  # 报价折扣审批门槛


GRADES = ("A", "B", "C")
TICKET_TYPES = ("COMPLAINT", "FAULT", "REQUEST")
NATURES = ("PARTY_GOV_MIL", "ENTERPRISE", "PUBLIC_INSTITUTION", "SOCIAL_ORG", "FOREIGN", "CARRIER")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Minutes = Annotated[int, Field(ge=1, le=60 * 24 * 90)]
Percent = Annotated[int, Field(ge=0, le=100)]


def _keys(value: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)} (allowed: {', '.join(allowed)})")


class GradeThreshold(Params):
    min_monthly_spend: Annotated[Money, Field(alias="minMonthlySpend")]


class RecognitionParams(Params):
    """大客户认定: a customer spending at least ``minMonthlySpend`` (CNY) in each of the last ``months``
    months — or of a priority nature (党政军) — is proposed; its grade is the highest whose threshold the
    smallest of those months reaches."""

    min_monthly_spend: Annotated[Money, Field(alias="minMonthlySpend")]
    months: Annotated[int, Field(ge=1, le=24)]
    priority_natures: Annotated[list[str], Field(alias="priorityNatures", max_length=len(NATURES))] = []
    priority_grade: Annotated[str, Field(alias="priorityGrade", pattern="^[ABC]$")] = "B"
    grades: dict[str, GradeThreshold]

    @model_validator(mode="after")
    def _check(self) -> RecognitionParams:
        _keys(self.grades, GRADES, "grade")
        bad = sorted(set(self.priority_natures) - set(NATURES))
        if bad:
            raise ValueError(f"priorityNatures: unknown nature {', '.join(bad)}")
        return self


class ValueScoringParams(Params):
    """客户价值评分: weights (percent) of each factor; they sum to 100."""

    weights: dict[str, Percent]

    @model_validator(mode="after")
    def _check(self) -> ValueScoringParams:
        _keys(self.weights, ("spend", "growth", "products", "loyalty", "strategic"), "factor")
        if sum(self.weights.values()) != 100:
            raise ValueError(f"weights sum to {sum(self.weights.values())}, not 100")
        return self


class ChurnWarningParams(Params):
    """流失预警: warn when spend drops by ``spendDropPercent`` over ``months`` months, or after
    ``complaints`` complaints within them."""

    spend_drop_percent: Annotated[Percent, Field(alias="spendDropPercent")]
    months: Annotated[int, Field(ge=1, le=12)]
    complaints: Annotated[int, Field(ge=1, le=100)]


class SlaTimer(Params):
    response_minutes: Annotated[Minutes, Field(alias="responseMinutes")]
    resolve_minutes: Annotated[Minutes, Field(alias="resolveMinutes")]
    # the clock the minutes run on: around the clock, or the node's business calendar (working hours, holidays)
    calendar: Annotated[str, Field(pattern="^(24x7|business)$")] = "24x7"


class EscalationStep(Params):
    after_minutes: Annotated[Minutes, Field(alias="afterMinutes")]
    to: Annotated[str, Field(min_length=1, max_length=64)]  # a role or org level


class SlaParams(Params):
    """服务时限: response and resolution timers by grade and ticket type, and the escalation ladder."""

    timers: dict[str, dict[str, SlaTimer]]
    escalation: Annotated[list[EscalationStep], Field(max_length=10)] = []

    @model_validator(mode="after")
    def _check(self) -> SlaParams:
        _keys(self.timers, GRADES, "grade")
        for by_type in self.timers.values():
            _keys(by_type, TICKET_TYPES, "ticket type")
        steps = [s.after_minutes for s in self.escalation]
        if steps != sorted(set(steps)):
            raise ValueError("escalation: steps must be in increasing afterMinutes")
        return self


class ReminderParams(Params):
    """合同到期与回访提醒: days before a contract ends to remind; days between follow-ups by grade."""

    contract_expiry_days: Annotated[list[Annotated[int, Field(ge=1, le=365)]], Field(alias="contractExpiryDays")]
    follow_up_days: Annotated[dict[str, Annotated[int, Field(ge=1, le=365)]], Field(alias="followUpDays")]

    @model_validator(mode="after")
    def _check(self) -> ReminderParams:
        _keys(self.follow_up_days, GRADES, "grade")
        if self.contract_expiry_days != sorted(set(self.contract_expiry_days), reverse=True):
            raise ValueError("contractExpiryDays: distinct days, largest first (e.g. 90, 60, 30)")
        return self


class OpportunityProbabilityParams(Params):
    """商机阶段概率 (percent) by stage."""

    stages: dict[str, Percent]

    @model_validator(mode="after")
    def _check(self) -> OpportunityProbabilityParams:
        _keys(self.stages, ("LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"), "stage")
        return self


class AssignmentParams(Params):
    """客户经理分配: how new key accounts get their manager, and the most one manager holds."""

    strategy: Annotated[str, Field(pattern="^(LEAST_LOADED|ROUND_ROBIN|BY_INDUSTRY)$")]
    max_customers_per_manager: Annotated[int, Field(alias="maxCustomersPerManager", ge=1, le=10000)]


class SettlementSplitParams(Params):
    """一点收费结算分摊: the basis of the split among provinces and the collecting point's share."""

    basis: Annotated[str, Field(pattern="^(USAGE|REVENUE|FIXED)$")]
    collector_share_percent: Annotated[Percent, Field(alias="collectorSharePercent")]


class QuoteDiscountApprovalParams(Params):
    """报价折扣审批: a quote whose largest line discount (percent off the list price) is above
    ``thresholdPercent`` needs the approval of the account manager's manager; no quote gives more than
    ``maxPercent``."""

    threshold_percent: Annotated[Decimal, Field(alias="thresholdPercent", ge=0, le=100, decimal_places=2)]
    max_percent: Annotated[Decimal, Field(alias="maxPercent", ge=0, le=100, decimal_places=2)]

    @model_validator(mode="after")
    def _check(self) -> QuoteDiscountApprovalParams:
        if self.threshold_percent > self.max_percent:
            raise ValueError("thresholdPercent is above maxPercent")
        return self


KIND_MODELS: dict[Kind, type[Params]] = {
    Kind.RECOGNITION: RecognitionParams,
    Kind.VALUE_SCORING: ValueScoringParams,
    Kind.CHURN_WARNING: ChurnWarningParams,
    Kind.SLA: SlaParams,
    Kind.REMINDER: ReminderParams,
    Kind.OPPORTUNITY_PROBABILITY: OpportunityProbabilityParams,
    Kind.ASSIGNMENT: AssignmentParams,
    Kind.SETTLEMENT_SPLIT: SettlementSplitParams,
    Kind.QUOTE_DISCOUNT_APPROVAL: QuoteDiscountApprovalParams,
}
