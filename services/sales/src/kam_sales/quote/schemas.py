"""API models of quotes (报价, TMF648 Quote)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel, Resource
from kam_sales.agreement.schemas import Ref
from kam_sales.catalog.schemas import Ref as OfferingRef
from kam_sales.money import Money
from kam_sales.opportunity.schemas import CustomerRef


class Status(StrEnum):
    IN_PROGRESS = "inProgress"  # 编制中 (editable)
    PENDING = "pending"  # 待审批 (a discount above the rule's threshold)
    APPROVED = "approved"  # 已批准 (may go to the customer)
    REJECTED = "rejected"  # 已驳回 (revise it)
    ACCEPTED = "accepted"  # 客户已接受
    CANCELLED = "cancelled"  # 已作废
    SUPERSEDED = "superseded"  # replaced by a revision


# what PATCH `state` may do; submit / approve / reject / revise are their own operations
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "inProgress": ("cancelled",),
    "pending": ("cancelled",),
    "approved": ("accepted", "cancelled"),
    "rejected": ("cancelled",),
    "accepted": (),
    "cancelled": (),
    "superseded": (),
}
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2, allow_inf_nan=False)]


class QuoteItemCreate(ApiModel):
    """One line (报价明细): an offering active and sellable at the node, a quantity, the list unit price
    and the discount off it (percent)."""

    product_offering: Annotated[OfferingRef, Field(alias="productOffering")]
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    unit_price: Annotated[Money, Field(alias="unitPrice", description="list price per unit (标准资费)")]
    discount_percent: Annotated[Percent, Field(alias="discountPercent", description="折扣 (percent off)")] = Decimal(0)
    note: Annotated[str | None, Field(max_length=500)] = None


class QuoteCreate(ApiModel):
    number: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w\-/.]+$", description="报价单号")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str | None, Field(max_length=4000)] = None
    customer: CustomerRef
    opportunity: Ref | None = None
    quote_item: Annotated[list[QuoteItemCreate], Field(alias="quoteItem", min_length=1, max_length=200)]
    valid_until: Annotated[date | None, Field(alias="validUntil")] = None
    account_manager: Annotated[str | None, Field(alias="accountManager", max_length=128)] = None


class QuoteUpdate(ApiModel):
    """A merge patch: the content while inProgress; `state` as TRANSITIONS allow."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    quote_item: Annotated[list[QuoteItemCreate] | None, Field(alias="quoteItem", min_length=1, max_length=200)] = None
    valid_until: Annotated[date | None, Field(alias="validUntil")] = None
    state: Status | None = None


class Decision(ApiModel):
    """An approver's word (审批意见)."""

    note: Annotated[str | None, Field(max_length=2000)] = None


class QuoteItemRead(ReadModel):
    id: str
    product_offering: Annotated[dict[str, str], Field(alias="productOffering")]
    quantity: int
    unit_price: Annotated[Money, Field(alias="unitPrice")]
    discount_percent: Annotated[Decimal, Field(alias="discountPercent")]
    amount: Money  # quantity × unit price × (1 − discount), to the cent
    note: str | None = None


class Approval(ReadModel):
    required: bool
    rule: str | None = None  # "<rule id>@<version>" or "default"
    approved_by: Annotated[str | None, Field(alias="approvedBy")] = None
    note: str | None = None
    decided_at: Annotated[datetime | None, Field(alias="decidedAt")] = None


class QuoteRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "Quote"
    number: str
    quote_version: Annotated[int, Field(alias="quoteVersion", description="1, 2, … one per revision")]
    name: str
    description: str | None = None
    customer: dict[str, str]
    opportunity: dict[str, str] | None = None
    state: Annotated[str, Field(description="TMF648 state")]
    quote_item: Annotated[list[QuoteItemRead], Field(alias="quoteItem")]
    subtotal: Money
    total: Money
    max_discount_percent: Annotated[Decimal, Field(alias="maxDiscountPercent")]
    approval: Approval
    valid_until: Annotated[date | None, Field(alias="validUntil")] = None
    previous_quote: Annotated[dict[str, str] | None, Field(alias="previousQuote")] = None
    superseded_by: Annotated[dict[str, str] | None, Field(alias="supersededBy")] = None
    account_manager: Annotated[str, Field(alias="accountManager")]
    owner_node: Annotated[str, Field(alias="ownerNode")]
    version: int
    created_by: Annotated[str, Field(alias="createdBy")]
    created_at: Annotated[datetime, Field(alias="createdAt")]
    updated_at: Annotated[datetime, Field(alias="updatedAt")]
