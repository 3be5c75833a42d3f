"""API models of sales leads (线索, TMF699 SalesLead)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from kam_platform.api import ApiModel, Resource
from kam_sales.catalog.schemas import Ref
from kam_sales.money import Money
from kam_sales.opportunity.schemas import CustomerRef


class Status(StrEnum):
    NEW = "new"  # 新线索
    QUALIFIED = "qualified"  # 已确认
    CONVERTED = "converted"  # 已转商机
    REJECTED = "rejected"  # 已关闭


# conversion is its own operation (POST …/convert), so PATCH never moves a lead to converted
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("qualified", "rejected"),
    "qualified": ("new", "rejected"),
    "converted": (),
    "rejected": (),
}


class Rating(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class Source(StrEnum):
    CAMPAIGN = "CAMPAIGN"
    VISIT = "VISIT"
    REFERRAL = "REFERRAL"
    INBOUND = "INBOUND"
    OTHER = "OTHER"


Products = Annotated[list[Ref], Field(max_length=50, default_factory=list)]


class LeadCreate(ApiModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str | None, Field(max_length=4000)] = None
    rating: Rating = Rating.WARM
    source: Source = Source.OTHER
    customer: CustomerRef | None = None
    prospect_name: Annotated[
        str | None,
        Field(alias="prospectName", min_length=1, max_length=200, description="a prospect not yet a customer"),
    ] = None
    estimated_revenue: Annotated[Money | None, Field(alias="estimatedRevenue")] = None
    products: Products
    account_manager: Annotated[str | None, Field(alias="accountManager", max_length=128)] = None

    @model_validator(mode="after")
    def _who(self) -> LeadCreate:
        if (self.customer is None) == (self.prospect_name is None):
            raise ValueError("a lead names either customer (an existing customer) or prospectName, not both")
        return self


class LeadUpdate(ApiModel):
    """A merge patch; ``status`` moves the lead (rejected needs ``statusReason``)."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    rating: Rating | None = None
    source: Source | None = None
    customer: CustomerRef | None = None
    estimated_revenue: Annotated[Money | None, Field(alias="estimatedRevenue")] = None
    products: Annotated[list[Ref] | None, Field(max_length=50)] = None
    account_manager: Annotated[str | None, Field(alias="accountManager", min_length=1, max_length=128)] = None
    status: Status | None = None
    status_reason: Annotated[str | None, Field(alias="statusReason", min_length=1, max_length=2000)] = None


class LeadConvert(ApiModel):
    """What the opportunity the lead becomes needs beyond the lead (its customer, expected amount)."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    customer: CustomerRef | None = None
    expected_amount: Annotated[Money | None, Field(alias="expectedAmount")] = None
    close_date: Annotated[date | None, Field(alias="closeDate")] = None


class LeadRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "SalesLead"
    name: str
    description: str | None = None
    status: str
    status_reason: Annotated[str | None, Field(alias="statusReason")] = None
    rating: str
    source: str
    customer: dict[str, str] | None = None
    prospect_name: Annotated[str | None, Field(alias="prospectName")] = None
    estimated_revenue: Annotated[Money | None, Field(alias="estimatedRevenue")] = None
    products: list[dict[str, Any]]
    account_manager: Annotated[str, Field(alias="accountManager")]
    sales_opportunity: Annotated[dict[str, str] | None, Field(alias="salesOpportunity")] = None
    owner_node: Annotated[str, Field(alias="ownerNode")]
    version: int
    created_by: Annotated[str, Field(alias="createdBy")]
    creation_date: Annotated[datetime, Field(alias="creationDate")]
    status_change_date: Annotated[datetime, Field(alias="statusChangeDate")]
