"""API models of merges (客户合并)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_customer.customer.schemas import ApiModel
from kam_platform.api import ReadModel


class MergeCreate(ApiModel):
    """A survivor and the victims merged into it. `choices` names, per attribute (API name), the customer
    whose value the survivor takes; an attribute not named keeps the survivor's value, or — where the
    survivor has none — takes the first victim's that has one."""

    survivor_id: str
    victim_ids: Annotated[list[str], Field(min_length=1, max_length=20)]
    choices: Annotated[dict[str, str], Field(default_factory=dict, max_length=30)]
    reason: Annotated[str | None, Field(max_length=500)] = None


class MergeRead(ReadModel):
    id: str
    href: str
    type_: Annotated[Literal["CustomerMerge"], Field(alias="@type")] = "CustomerMerge"
    survivor_id: str
    victim_ids: list[str]
    status: Literal["MERGED", "REVERSED"]
    choices: dict[str, str]  # attribute → the customer whose value the survivor took
    moved: dict[str, int]  # records moved to the survivor, by kind (at the owner; {} at a replica)
    merged_by: str
    reversible_until: datetime
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime


class MergeReverse(ApiModel):
    reason: Annotated[str | None, Field(max_length=500)] = None
