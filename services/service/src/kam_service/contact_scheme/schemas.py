"""Contact scheme bodies (/api/v1/service/contactScheme)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from kam_platform.api import ApiModel, ReadModel, Resource

Phone = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[0-9+\-() ]+$")]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]


class Level(StrEnum):
    GROUP = "GROUP"  # 集团
    PROVINCE = "PROVINCE"  # 省
    CITY = "CITY"  # 市
    DISTRICT = "DISTRICT"  # 区县


class EntryIn(ApiModel):
    """One layer: a branch of the customer and the telecom office that serves it (层级对接)."""

    level: Level
    customer_branch: Text100
    customer_contact: Annotated[str | None, Field(max_length=100)] = None
    customer_phone: Phone | None = None
    telecom_node: Annotated[str, Field(min_length=1, max_length=32, description="the serving node")]
    telecom_office: Text100
    telecom_contact: Annotated[str | None, Field(max_length=100)] = None
    telecom_phone: Phone | None = None


class CustomerRef(ApiModel):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    role: Literal["customer"]
    name: Annotated[str | None, Field(max_length=200)] = None


class ContactSchemeCreate(ApiModel):
    related_party: Annotated[list[CustomerRef], Field(min_length=1, max_length=1)]
    hotlines: Annotated[list[Phone], Field(default_factory=list, max_length=20, description="服务热线")]
    entries: Annotated[list[EntryIn], Field(default_factory=list, max_length=200)]
    note: Annotated[str, Field(max_length=2000)] = ""


class ContactSchemeUpdate(ApiModel):
    hotlines: Annotated[list[Phone] | None, Field(max_length=20)] = None
    entries: Annotated[list[EntryIn] | None, Field(max_length=200)] = None
    note: Annotated[str | None, Field(max_length=2000)] = None


class EntryRead(ReadModel):
    level: Level
    customer_branch: str
    customer_contact: str | None
    customer_phone: Annotated[str | None, Field(description="masked without customer.pii:read")]
    telecom_node: str
    telecom_office: str
    telecom_contact: str | None
    telecom_phone: str | None


class PartyRead(ReadModel):
    id: str
    role: str
    name: str | None


class ContactSchemeRead(Resource):
    id: str
    href: str
    type_: Annotated[Literal["ContactScheme"], Field(alias="@type")] = "ContactScheme"
    related_party: list[PartyRead]
    hotlines: list[str]
    entries: list[EntryRead]
    note: str
    owner_node: str
    version: int
    last_update: datetime


FIELDS = ["relatedParty", "hotlines", "entries", "note", "ownerNode", "version", "lastUpdate"]
