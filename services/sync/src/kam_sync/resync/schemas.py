"""API models of a resync request."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel


class ResyncCreate(ApiModel):
    reason: Annotated[str | None, Field(max_length=500)] = None
    # the node was restored from an older backup: its parent also sends it back what it lost
    restore: Annotated[
        bool,
        Field(
            description="This node was restored from an older backup: its parent also sends down its replicas "
            "of the records owned in this node's subtree, applied here where newer (not at the root)"
        ),
    ] = False


class ResyncRead(ReadModel):
    type_: Annotated[Literal["ResyncRequest"], Field(alias="@type")] = "ResyncRequest"
    id: str
    node: str
    requested_by: str
    reason: str | None
    restore: bool = False
