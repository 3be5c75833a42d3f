"""API models of org units."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from kam_org.api import InputModel, Resource

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class OrgUnitCreate(InputModel):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=128)
    kind: str = Field(min_length=1, max_length=64, description="e.g. 大客户部, 政企部")
    parent_id: uuid.UUID | None = None


class OrgUnitUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    kind: str | None = Field(default=None, min_length=1, max_length=64)
    parent_id: uuid.UUID | None = None


class OrgUnitRead(Resource):
    id: uuid.UUID
    href: str
    code: str
    name: str
    kind: str
    parent_id: uuid.UUID | None
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
    type_: Literal["OrgUnit"] = Field(default="OrgUnit", alias="@type")


ORG_UNIT_FIELDS = set(OrgUnitRead.model_json_schema(by_alias=True)["properties"])
