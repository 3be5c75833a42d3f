"""API models of TMF630 listener registration as answered (the request body, HubCreate, is in
service.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ReadModel


class EventSubscriptionRead(ReadModel):
    id: str
    href: str
    callback: str
    query: str | None
    type_: Annotated[Literal["EventSubscription"], Field(alias="@type")] = "EventSubscription"
