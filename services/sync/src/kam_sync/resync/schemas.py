"""API models of a resync request."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel


class ResyncCreate(ApiModel):
    reason: Annotated[str | None, Field(max_length=500)] = None


class ResyncRead(ReadModel):
    type_: Annotated[Literal["ResyncRequest"], Field(alias="@type")] = "ResyncRequest"
    id: str
    node: str
    requested_by: str
    reason: str | None
