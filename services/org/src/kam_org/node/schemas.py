"""API models of nodes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kam_org.api import Resource


class NodeRead(Resource):
    id: str
    href: str
    code: str
    tier: str
    parent: str | None
    name_zh: str
    name_en: str
    type_: Literal["Node"] = Field(default="Node", alias="@type")


NODE_FIELDS = set(NodeRead.model_json_schema(by_alias=True)["properties"])
