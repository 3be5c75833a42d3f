"""API models of contracts (合同, TMF651 Agreement) and their expiry reminders."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from kam_platform.api import ApiModel, Resource
from kam_sales.money import Money
from kam_sales.opportunity.schemas import CustomerRef


class Status(StrEnum):
    IN_PROGRESS = "inProgress"  # 起草中
    SIGNED = "signed"  # 已签订 (in force during agreementPeriod)
    TERMINATED = "terminated"  # 已终止
    CANCELLED = "cancelled"  # 已作废 (never signed)


TRANSITIONS: dict[str, tuple[str, ...]] = {
    "inProgress": ("signed", "cancelled"),
    "signed": ("terminated",),
    "terminated": (),
    "cancelled": (),
}


class Period(ApiModel):
    """``agreementPeriod`` by day: ``startDateTime`` inclusive, ``endDateTime`` exclusive (the contract
    expires on it)."""

    start_date_time: Annotated[date, Field(alias="startDateTime")]
    end_date_time: Annotated[date, Field(alias="endDateTime")]

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.end_date_time <= self.start_date_time:
            raise ValueError("endDateTime must be after startDateTime")
        return self


class Ref(ApiModel):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    href: Annotated[str | None, Field(max_length=500)] = None


class AgreementCreate(ApiModel):
    number: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w\-/.]+$", description="合同编号")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str | None, Field(max_length=4000)] = None
    customer: CustomerRef
    agreement_period: Annotated[Period, Field(alias="agreementPeriod")]
    amount: Money
    terms: Annotated[str | None, Field(max_length=20000)] = None
    opportunity: Ref | None = None
    quote: Ref | None = None
    sla_reference: Annotated[str | None, Field(alias="slaReference", max_length=200)] = None
    account_manager: Annotated[str | None, Field(alias="accountManager", max_length=128)] = None


class AgreementUpdate(ApiModel):
    """A merge patch. While inProgress every attribute may change; once signed only ``status``
    (→ terminated) and ``renewalStatus`` (→ notRenewed)."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    agreement_period: Annotated[Period | None, Field(alias="agreementPeriod")] = None
    amount: Money | None = None
    terms: Annotated[str | None, Field(max_length=20000)] = None
    opportunity: Ref | None = None
    quote: Ref | None = None
    sla_reference: Annotated[str | None, Field(alias="slaReference", max_length=200)] = None
    account_manager: Annotated[str | None, Field(alias="accountManager", min_length=1, max_length=128)] = None
    status: Status | None = None
    signed_date: Annotated[date | None, Field(alias="signedDate")] = None
    renewal_status: Annotated[str | None, Field(alias="renewalStatus", pattern="^notRenewed$")] = None


class AgreementRenew(ApiModel):
    """The renewal's own terms: a new version of the contract, linked to the one it renews."""

    agreement_period: Annotated[Period, Field(alias="agreementPeriod")]
    amount: Money | None = None
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    terms: Annotated[str | None, Field(max_length=20000)] = None


class AgreementRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "Agreement"
    number: str
    agreement_version: Annotated[int, Field(alias="agreementVersion", description="1, 2, … one per renewal")]
    name: str
    description: str | None = None
    agreement_type: Annotated[str, Field(alias="agreementType")] = "commercial"
    customer: dict[str, str]
    status: str
    signed_date: Annotated[date | None, Field(alias="signedDate")] = None
    agreement_period: Annotated[Period, Field(alias="agreementPeriod")]
    amount: Money
    terms: str | None = None
    opportunity: dict[str, str] | None = None
    quote: dict[str, str] | None = None
    sla_reference: Annotated[str | None, Field(alias="slaReference")] = None
    renewal_status: Annotated[str, Field(alias="renewalStatus")]
    previous_agreement: Annotated[dict[str, str] | None, Field(alias="previousAgreement")] = None
    renewed_by: Annotated[dict[str, str] | None, Field(alias="renewedBy")] = None
    account_manager: Annotated[str, Field(alias="accountManager")]
    owner_node: Annotated[str, Field(alias="ownerNode")]
    version: int
    created_by: Annotated[str, Field(alias="createdBy")]
    created_at: Annotated[datetime, Field(alias="createdAt")]
    updated_at: Annotated[datetime, Field(alias="updatedAt")]


class ReminderRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "AgreementExpiryReminder"
    agreement: dict[str, str]
    offset_days: Annotated[int, Field(alias="offsetDays")]
    due_on: Annotated[date, Field(alias="dueOn")]
    end_date: Annotated[date, Field(alias="endDate")]
    account_manager: Annotated[str, Field(alias="accountManager")]
    rule: str
    reminded_at: Annotated[datetime, Field(alias="remindedAt")]
