"""API models of teams."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from kam_org.api import InputModel, Resource
from kam_org.org_unit.schemas import CODE


class TeamCreate(InputModel):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=128)
    kind: str = Field(min_length=1, max_length=64, description="e.g. 行业专家团队, 客户服务团队")
    description: str = ""
    org_unit_id: uuid.UUID | None = None
    leader_id: uuid.UUID | None = None
    member_ids: list[uuid.UUID] = Field(default_factory=list, description="staff ids")


class TeamUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    kind: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = None
    org_unit_id: uuid.UUID | None = None
    leader_id: uuid.UUID | None = None
    member_ids: list[uuid.UUID] | None = None


class TeamRead(Resource):
    id: uuid.UUID
    href: str
    code: str
    name: str
    kind: str
    description: str
    org_unit_id: uuid.UUID | None
    leader_id: uuid.UUID | None
    member_ids: list[uuid.UUID]
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
    type_: Literal["Team"] = Field(default="Team", alias="@type")


TEAM_FIELDS = set(TeamRead.model_json_schema(by_alias=True)["properties"])
