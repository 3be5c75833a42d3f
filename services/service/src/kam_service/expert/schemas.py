"""Expert and expert request bodies (/api/v1/service/expert, /api/v1/service/expertRequest)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel, Resource

from .states import RequestStatus

Tag = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9_]+$")]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class ExpertCreate(ApiModel):
    username: Annotated[str, Field(min_length=3, max_length=128, pattern=r"^[^@\s]+@[^@\s]+$", description="user@node")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    domains: Annotated[list[Tag], Field(min_length=1, max_length=20, description="e.g. CLOUD, IDC, SDWAN, 5G")]
    industries: Annotated[list[Tag], Field(default_factory=list, max_length=30, description="empty: any industry")]
    is_active: bool = True


class ExpertUpdate(ApiModel):
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    domains: Annotated[list[Tag] | None, Field(min_length=1, max_length=20)] = None
    industries: Annotated[list[Tag] | None, Field(max_length=30)] = None
    is_active: bool | None = None


class ExpertRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["Expert"], Field(alias="@type")] = "Expert"
    username: str
    name: str
    domains: list[str]
    industries: list[str]
    is_active: bool
    owner_node: str
    version: int
    last_update: datetime


class CustomerRef(ApiModel):
    id: Id
    role: Literal["customer"]
    name: Annotated[str | None, Field(max_length=200)] = None


class ExpertRequestCreate(ApiModel):
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4000)] = ""
    domain: Tag
    industry: Tag | None = None
    related_party: Annotated[list[CustomerRef], Field(min_length=1, max_length=1)]


class AssignExpert(ApiModel):
    """An expert by id, or none: the best match (domain, industry, fewest open requests here)."""

    expert_id: Id | None = None


class OutcomeCreate(ApiModel):
    summary: Annotated[str, Field(min_length=1, max_length=4000)]
    document_id: Annotated[Id, Field(description="the technical solution document (F4)")]


class NoteIn(ApiModel):
    note: Annotated[str | None, Field(max_length=1000)] = None


class PartyRead(ReadModel):
    id: str
    role: str
    name: str | None


class ExpertRequestRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["ExpertRequest"], Field(alias="@type")] = "ExpertRequest"
    subject: str
    description: str
    domain: str
    industry: str | None
    related_party: list[PartyRead]
    requested_by: str
    status: RequestStatus
    expert: PartyRead | None
    outcome_summary: str | None
    outcome_document: PartyRead | None
    owner_node: str
    version: int
    creation_date: datetime
    last_update: datetime


EXPERT_FIELDS = ["username", "name", "domains", "industries", "isActive", "ownerNode", "version", "lastUpdate"]
REQUEST_FIELDS = [
    "subject", "description", "domain", "industry", "relatedParty", "requestedBy", "status", "expert",
    "outcomeSummary", "outcomeDocument", "ownerNode", "version", "creationDate", "lastUpdate",
]  # fmt: skip
