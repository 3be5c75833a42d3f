"""API models of competitor presence (竞争信息)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import Resource

Name = Annotated[str, Field(min_length=1, max_length=100)]
Product = Annotated[str, Field(min_length=1, max_length=200)]


class CompetitorPresenceCreate(ApiModel):
    competitor: Name  # 竞争对手
    products_held: Annotated[list[Product], Field(max_length=100, default_factory=list)]
    offers: Annotated[str | None, Field(max_length=4000)] = None  # offers or discounts given
    contract_end: date | None = None
    source: Annotated[str | None, Field(max_length=200)] = None  # 信息来源
    observed_on: date | None = None  # default: today
    note: Annotated[str | None, Field(max_length=4000)] = None


class CompetitorPresenceUpdate(ApiModel):
    """A JSON merge patch (null clears; `competitor` and `observedOn` cannot be cleared)."""

    competitor: Name | None = None
    products_held: Annotated[list[Product], Field(max_length=100)] | None = None
    offers: Annotated[str | None, Field(max_length=4000)] = None
    contract_end: date | None = None
    source: Annotated[str | None, Field(max_length=200)] = None
    observed_on: date | None = None
    note: Annotated[str | None, Field(max_length=4000)] = None


class CustomerRef(ApiModel):
    id: str
    href: str
    name: str | None = None
    referred_type: Annotated[Literal["Customer"], Field(alias="@referredType")] = "Customer"


class CompetitorPresenceRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["CompetitorPresence"], Field(alias="@type")] = "CompetitorPresence"
    customer: CustomerRef
    competitor: str
    products_held: list[str]
    offers: str | None
    contract_end: date | None
    source: str | None
    observed_on: date
    note: str | None
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
