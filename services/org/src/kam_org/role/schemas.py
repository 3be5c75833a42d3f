"""API models of roles and permissions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from kam_org.api import InputModel, Resource

ROLE_CODE = r"^[a-z][a-z0-9_]{1,63}$"


class RoleCreate(InputModel):
    code: str = Field(pattern=ROLE_CODE, description="stable role code, e.g. account_manager")
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    description: str = ""
    permissions: list[str] = Field(default_factory=list, description="permission codes")


class RoleUpdate(InputModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=128)
    name_en: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = None
    permissions: list[str] | None = None


class RoleRead(Resource):
    id: str
    href: str
    code: str
    name_zh: str
    name_en: str
    description: str
    permissions: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    type_: Literal["Role"] = Field(default="Role", alias="@type")


class PermissionRead(Resource):
    id: str
    href: str
    code: str
    description: str
    type_: Literal["Permission"] = Field(default="Permission", alias="@type")


ROLE_FIELDS = set(RoleRead.model_json_schema(by_alias=True)["properties"])
PERMISSION_FIELDS = set(PermissionRead.model_json_schema(by_alias=True)["properties"])
