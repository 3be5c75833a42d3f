"""API models of rule sets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, model_validator

from kam_platform.api import ApiModel, ReadModel, Resource

from .bounds import Bound
from .kinds import Kind


class ValidFor(ApiModel):
    """The effective period: from ``startDate`` (inclusive) to ``endDate`` (exclusive; absent = open)."""

    start_date: Annotated[date, Field(alias="startDate")]
    end_date: Annotated[date | None, Field(alias="endDate")] = None

    @model_validator(mode="after")
    def _order(self) -> ValidFor:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError("endDate must be after startDate")
        return self


class RuleSetCreate(ApiModel):
    kind: Kind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    valid_for: Annotated[ValidFor, Field(alias="validFor")]
    parameters: dict[str, Any]
    bounds: Annotated[list[Bound] | None, Field(max_length=50)] = None
    note: Annotated[str | None, Field(max_length=2000)] = None


class RuleSetUpdate(ApiModel):
    """A merge patch of a draft."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    valid_for: Annotated[ValidFor | None, Field(alias="validFor")] = None
    parameters: dict[str, Any] | None = None
    bounds: Annotated[list[Bound] | None, Field(max_length=50)] = None
    note: Annotated[str | None, Field(max_length=2000)] = None


class RuleSetAction(ApiModel):
    """An optional note on an approval, publication or retirement (kept in the audit record)."""

    note: Annotated[str | None, Field(max_length=1000)] = None


class RuleSetRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "RuleSet"
    kind: str
    name: str
    owner_node: Annotated[str, Field(alias="ownerNode")]
    scope_node: Annotated[str, Field(alias="scopeNode")]
    version: int
    status: str
    valid_for: Annotated[ValidFor, Field(alias="validFor")]
    parameters: dict[str, Any]
    bounds: list[Bound]
    based_on: Annotated[str | None, Field(alias="basedOn")] = None
    author: str
    approver: str | None = None
    publisher: str | None = None
    note: str | None = None
    created_at: Annotated[datetime, Field(alias="createdAt")]
    updated_at: Annotated[datetime, Field(alias="updatedAt")]
    published_at: Annotated[datetime | None, Field(alias="publishedAt")] = None


class EffectiveRule(ReadModel):
    """The rule set in force for a kind at a node on a date, and where it comes from."""

    type_: Annotated[str, Field(alias="@type")] = "EffectiveRule"
    kind: str
    node: str
    date: date
    rule_set: Annotated[RuleSetRead, Field(alias="ruleSet")]
    chain: Annotated[list[str], Field(description="ids from the national rule down to the one in force")]


class RuleSetVersionRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "RuleSetVersion"
    rule_set_id: Annotated[str, Field(alias="ruleSetId")]
    version: int
    status: str
    actor: str
    at: datetime
    state: dict[str, Any]
