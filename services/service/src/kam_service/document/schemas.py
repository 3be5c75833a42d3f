"""Document request and response bodies (KAM resource under /api/v1/service/document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel, Resource

from .states import Category, RelatedType

Role = Annotated[str, Field(min_length=1, max_length=64)]


class CustomerRef(ApiModel):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    role: Literal["customer"]
    name: Annotated[str | None, Field(max_length=200)] = None


class RelatedEntity(ApiModel):
    """What else the document belongs to (its customer is always `relatedParty`)."""

    type: RelatedType
    id: Annotated[str, Field(min_length=1, max_length=64)]


class DocumentCreate(ApiModel):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    category: Category = Category.OTHER
    description: Annotated[str, Field(max_length=4000)] = ""
    related_party: Annotated[list[CustomerRef], Field(min_length=1, max_length=1)]
    related_entity: RelatedEntity | None = None
    access_roles: Annotated[
        list[Role],
        Field(default_factory=list, max_length=20, description="empty: every reader; else one of these roles"),
    ]
    expires_on: Annotated[date | None, Field(description="the content is not served after this day")] = None


class DocumentUpdate(ApiModel):
    """A JSON merge patch of the metadata (files are added as versions: POST …/content)."""

    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    category: Category | None = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    access_roles: Annotated[list[Role] | None, Field(max_length=20)] = None
    expires_on: date | None = None


class DocumentVersionRead(ReadModel):
    number: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    note: str | None
    content_href: str


class RelatedPartyRead(ReadModel):
    id: str
    role: str
    name: str | None
    referred_type: Annotated[str, Field(alias="@referredType")] = "Customer"


class DocumentRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["Document"], Field(alias="@type")] = "Document"
    title: str
    category: Category
    description: str
    related_party: list[RelatedPartyRead]
    related_entity: RelatedEntity | None
    access_roles: list[str]
    expires_on: date | None
    is_expired: bool
    owner_node: str
    version: int
    current_version: int
    versions: list[DocumentVersionRead]
    created_by: str
    creation_date: datetime
    last_update: datetime


FIELDS = [
    "title",
    "category",
    "description",
    "relatedParty",
    "relatedEntity",
    "accessRoles",
    "expiresOn",
    "isExpired",
    "ownerNode",
    "version",
    "currentVersion",
    "versions",
    "createdBy",
    "creationDate",
    "lastUpdate",
]
