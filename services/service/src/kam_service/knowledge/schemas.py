"""Knowledge base request and response bodies (KAM resources under /api/v1/service/knowledge)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel, Resource

from .states import ContributionStatus, ItemKind, ItemStatus

Title = Annotated[str, Field(min_length=1, max_length=200)]
Body = Annotated[str, Field(min_length=1, max_length=100_000)]
Summary = Annotated[str, Field(max_length=2000)]
Tag = Annotated[str, Field(min_length=1, max_length=40)]
Tags = Annotated[list[Tag], Field(max_length=30)]


class KnowledgeItemCreate(ApiModel):
    """A new item (draft) authored at this node: the group or a province."""

    kind: ItemKind
    title: Title
    summary: Summary = ""
    body: Body
    tags: Tags = Field(default_factory=list)
    valid_from: date | None = None
    valid_to: date | None = None


class KnowledgeItemUpdate(ApiModel):
    """A JSON merge patch of a draft's content."""

    title: Title | None = None
    summary: Summary | None = None
    body: Body | None = None
    tags: Tags | None = None
    valid_to: date | None = None


class StatusAction(ApiModel):
    reason: Annotated[str | None, Field(max_length=1000)] = None


class HighlightRead(ReadModel):
    """Search hits marked with <em>…</em> in HTML-escaped text."""

    title: str
    body: str


class KnowledgeItemRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "KnowledgeItem"
    kind: ItemKind
    title: str
    summary: str
    body: str
    tags: list[str]
    status: ItemStatus
    revision: int
    author: str
    reviewer: str | None
    reviewed_at: datetime | None
    published_at: datetime | None
    retired_at: datetime | None
    status_reason: str | None
    source_contribution_id: str | None
    contributed_by_node: str | None
    valid_from: date
    valid_to: date | None
    owner_node: str
    version: int
    creation_date: datetime
    last_update: datetime
    rank: float | None = None
    highlight: HighlightRead | None = None


ITEM_FIELDS = [
    "kind",
    "title",
    "summary",
    "body",
    "tags",
    "status",
    "revision",
    "author",
    "reviewer",
    "reviewedAt",
    "publishedAt",
    "retiredAt",
    "statusReason",
    "sourceContributionId",
    "contributedByNode",
    "validFrom",
    "validTo",
    "ownerNode",
    "version",
    "creationDate",
    "lastUpdate",
    "rank",
    "highlight",
]


class KnowledgeRevisionRead(ReadModel):
    type_: Annotated[Literal["KnowledgeRevision"], Field(alias="@type")] = "KnowledgeRevision"
    revision: int
    title: str
    summary: str
    body: str
    tags: list[str]
    author: str
    reviewer: str | None
    published_at: datetime | None
    superseded_at: datetime


class ContributionCreate(ApiModel):
    """A contribution from this node to the province above it, which reviews it."""

    kind: ItemKind
    title: Title
    summary: Summary = ""
    body: Body
    tags: Tags = Field(default_factory=list)


class OutcomeRead(ReadModel):
    """What the reviewing node made of a contribution: its own knowledge item, as it stands."""

    item_id: str
    status: ItemStatus
    reviewer: str | None
    status_reason: str | None


class ContributionRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "KnowledgeContribution"
    kind: ItemKind
    title: str
    summary: str
    body: str
    tags: list[str]
    author: str
    reviewing_node: str
    status: ContributionStatus
    owner_node: str
    version: int
    creation_date: datetime
    last_update: datetime
    outcome: OutcomeRead | None


CONTRIBUTION_FIELDS = [
    "kind",
    "title",
    "summary",
    "body",
    "tags",
    "author",
    "reviewingNode",
    "status",
    "ownerNode",
    "version",
    "creationDate",
    "lastUpdate",
    "outcome",
]
