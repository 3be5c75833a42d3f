"""API models of staff. The password is write-only; its hash never leaves the service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from kam_org.api import InputModel, Resource

USERNAME = r"^[a-z][a-z0-9_.-]{1,63}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9][0-9 -]{4,30}$"
MIN_PASSWORD = 8


class StaffCreate(InputModel):
    username: str = Field(pattern=USERNAME, description="login name, unique per node")
    display_name: str = Field(min_length=1, max_length=128, description="姓名")
    password: str = Field(min_length=MIN_PASSWORD, max_length=256, description="write-only")
    phone: str | None = Field(default=None, pattern=PHONE)
    email: str | None = Field(default=None, pattern=EMAIL, max_length=254)
    org_unit_id: uuid.UUID | None = None
    roles: list[str] = Field(default_factory=list, description="role codes")
    is_active: bool = True


class StaffUpdate(InputModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=256)
    phone: str | None = Field(default=None, pattern=PHONE)
    email: str | None = Field(default=None, pattern=EMAIL, max_length=254)
    org_unit_id: uuid.UUID | None = None
    roles: list[str] | None = None
    is_active: bool | None = None


class StaffRead(Resource):
    id: uuid.UUID
    href: str
    username: str
    display_name: str
    phone: str | None
    email: str | None
    org_unit_id: uuid.UUID | None
    roles: list[str]
    is_active: bool
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
    type_: Literal["Staff"] = Field(default="Staff", alias="@type")


STAFF_FIELDS = set(StaffRead.model_json_schema(by_alias=True)["properties"])
