"""Care plan and care activity bodies (/api/v1/service/care/...)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from kam_platform.api import ApiModel, ReadModel, Resource

from .states import CareKind, CareStatus

MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
OCCASION = r"^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
Id = Annotated[str, Field(min_length=1, max_length=64)]


class Money(ApiModel):
    unit: Literal["CNY"] = "CNY"
    value: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]

    @field_validator("value")
    @classmethod
    def _cents(cls, v: Decimal) -> Decimal:
        return v.quantize(Decimal("0.01"))


class TargetIn(ApiModel):
    customer_id: Id
    contact_id: Id | None = None
    contact_name: Annotated[str | None, Field(max_length=100)] = None
    month_day: Annotated[
        str | None,
        Field(pattern=MONTH_DAY, description="MM-DD of the contact's birthday (default: the contact's birthDate)"),
    ] = None


def _check_kind(kind: CareKind | None, occasion: str | None, targets: list[TargetIn] | None) -> None:
    if kind is CareKind.BIRTHDAY_GREETING:
        if occasion:
            raise ValueError("occasion: a birthday greeting takes each contact's birthday (targets[].monthDay)")
        if targets is not None and any(not t.contact_id for t in targets):
            raise ValueError("targets: a birthday greeting needs contactId for every target (monthDay: its birthday)")
    elif kind is not None and not occasion:
        raise ValueError("occasion: MM-DD (every year) or YYYY-MM-DD (once) is required for this kind")


class CarePlanCreate(ApiModel):
    kind: CareKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    segment: Annotated[str, Field(max_length=200, description="the segment the targets were chosen from")] = ""
    occasion: Annotated[str | None, Field(pattern=OCCASION)] = None
    lead_days: Annotated[int, Field(ge=0, le=60, description="proposed this many days ahead")] = 7
    budget_per_target: Money | None = None
    targets: Annotated[list[TargetIn], Field(min_length=1, max_length=200)]
    is_active: bool = True

    @model_validator(mode="after")
    def _kind(self) -> CarePlanCreate:
        _check_kind(self.kind, self.occasion, self.targets)
        return self


class CarePlanUpdate(ApiModel):
    """A JSON merge patch of a plan."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    segment: Annotated[str | None, Field(max_length=200)] = None
    occasion: Annotated[str | None, Field(pattern=OCCASION)] = None
    lead_days: Annotated[int | None, Field(ge=0, le=60)] = None
    budget_per_target: Money | None = None
    targets: Annotated[list[TargetIn] | None, Field(min_length=1, max_length=200)] = None
    is_active: bool | None = None


class TargetRead(ReadModel):
    customer_id: str
    customer_name: str
    contact_id: str | None
    contact_name: str | None
    month_day: str | None


class CarePlanRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["CarePlan"], Field(alias="@type")] = "CarePlan"
    kind: CareKind
    name: str
    segment: str
    occasion: str | None
    lead_days: int
    budget_per_target: Money | None
    targets: list[TargetRead]
    is_active: bool
    owner_node: str
    version: int
    created_by: str
    last_update: datetime


class PartyIn(ApiModel):
    id: Id
    role: Literal["customer", "contact"]
    name: Annotated[str | None, Field(max_length=100)] = None


class CareActivityCreate(ApiModel):
    kind: CareKind
    title: Annotated[str, Field(min_length=1, max_length=200)]
    related_party: Annotated[list[PartyIn], Field(min_length=1, max_length=2)]
    due_on: date
    cost: Money | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> CareActivityCreate:
        roles = [p.role for p in self.related_party]
        if roles.count("customer") != 1 or roles.count("contact") > 1:
            raise ValueError("relatedParty: exactly one party with role 'customer' (and at most one 'contact')")
        return self


class CareActivityUpdate(ApiModel):
    """A JSON merge patch; `status` moves it (409 naming the allowed statuses)."""

    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    due_on: date | None = None
    status: CareStatus | None = None
    cost: Money | None = None
    feedback: Annotated[str | None, Field(max_length=4000)] = None
    satisfaction: Annotated[int | None, Field(ge=1, le=5)] = None


class PartyRead(ReadModel):
    id: str
    role: str
    name: str | None


class CareActivityRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["CareActivity"], Field(alias="@type")] = "CareActivity"
    kind: CareKind
    title: str
    plan_id: str | None
    related_party: list[PartyRead]
    due_on: date
    status: CareStatus
    cost: Money | None
    feedback: str | None
    satisfaction: int | None
    owner_node: str
    version: int
    created_by: str
    creation_date: datetime
    last_update: datetime


class ProposalRead(ReadModel):
    on: date
    proposed: int
    activities: list[CareActivityRead]


ACTIVITY_FIELDS = [
    "kind", "title", "planId", "relatedParty", "dueOn", "status", "cost", "feedback", "satisfaction", "ownerNode",
    "version", "createdBy", "creationDate", "lastUpdate",
]  # fmt: skip
PLAN_FIELDS = [
    "kind", "name", "segment", "occasion", "leadDays", "budgetPerTarget", "targets", "isActive", "ownerNode",
    "version", "createdBy", "lastUpdate",
]  # fmt: skip
