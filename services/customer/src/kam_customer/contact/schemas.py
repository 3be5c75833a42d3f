"""API models of TMF632 Individual, extended as KeyAccountContact (大客户联系人)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from kam_customer.customer.rules import DecisionRole
from kam_customer.customer.schemas import ApiModel, CustomerRef, Ref
from kam_platform.api import ReadModel, Resource

TYPE = "KeyAccountContact"
BASE_TYPE = "Individual"
SCHEMA_LOCATION = "https://kam.example/schemas/KeyAccountContact.schema.json"

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")


class MediumCharacteristic(ApiModel):
    phone_number: Annotated[str | None, Field(alias="phoneNumber", max_length=32)] = None
    email_address: Annotated[str | None, Field(alias="emailAddress", max_length=200)] = None
    type_: Annotated[str | None, Field(alias="@type")] = None

    @field_validator("phone_number")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not PHONE_RE.match(v):
            raise ValueError(f"{v!r} is not a phone number")
        return v

    @field_validator("email_address")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
            raise ValueError(f"{v!r} is not an e-mail address")
        return v


class ContactMediumIn(ApiModel):
    medium_type: Annotated[Literal["phone", "mobile", "email"], Field(alias="mediumType")]
    preferred: bool | None = None
    characteristic: MediumCharacteristic
    type_: Annotated[str | None, Field(alias="@type")] = None


class IdentificationIn(ApiModel):
    identification_type: Annotated[Literal["ID_CARD"], Field(alias="identificationType")] = "ID_CARD"
    identification_id: Annotated[str, Field(alias="identificationId")]
    type_: Annotated[str | None, Field(alias="@type")] = None

    @field_validator("identification_id")
    @classmethod
    def _id(cls, v: str) -> str:
        v = v.upper()
        if not ID_RE.match(v):
            raise ValueError("identificationId must be an 18-character resident ID number")
        return v


class ContactFields(ApiModel):
    full_name: Annotated[str | None, Field(alias="fullName", max_length=100)] = None
    title: Annotated[str | None, Field(max_length=100)] = None
    department: Annotated[str | None, Field(max_length=100)] = None
    decision_role: Annotated[DecisionRole | None, Field(alias="decisionRole")] = None
    preferred_contact_medium: Annotated[
        Literal["phone", "mobile", "email", "wechat", "visit"] | None, Field(alias="preferredContactMedium")
    ] = None
    contact_medium: Annotated[list[ContactMediumIn] | None, Field(alias="contactMedium", max_length=10)] = None
    individual_identification: Annotated[
        list[IdentificationIn] | None, Field(alias="individualIdentification", max_length=1)
    ] = None
    birth_date: Annotated[date | None, Field(alias="birthDate")] = None
    is_primary: Annotated[bool | None, Field(alias="isPrimary")] = None
    type_: Annotated[str | None, Field(alias="@type")] = None
    base_type: Annotated[str | None, Field(alias="@baseType")] = None
    schema_location: Annotated[str | None, Field(alias="@schemaLocation")] = None


class ContactCreate(ContactFields):
    given_name: Annotated[str, Field(alias="givenName", min_length=1, max_length=50)]
    family_name: Annotated[str, Field(alias="familyName", min_length=1, max_length=50)]
    customer: Ref


class ContactUpdate(ContactFields):
    given_name: Annotated[str | None, Field(alias="givenName", min_length=1, max_length=50)] = None
    family_name: Annotated[str | None, Field(alias="familyName", min_length=1, max_length=50)] = None


class ContactMediumRead(ReadModel):
    medium_type: Literal["mobile", "email"]
    preferred: bool
    characteristic: Annotated[
        dict[str, str], Field(description="`phoneNumber` (masked without customer.pii:read) or `emailAddress`")
    ]


class IdentificationRead(ReadModel):
    identification_type: Literal["ID_CARD"]
    identification_id: Annotated[str, Field(description="masked without customer.pii:read")]


class ContactRead(Resource):
    """TMF632 Individual as KeyAccountContact (大客户联系人)."""

    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = TYPE
    base_type: Annotated[str, Field(alias="@baseType")] = BASE_TYPE
    schema_location: Annotated[str, Field(alias="@schemaLocation")] = SCHEMA_LOCATION
    given_name: str | None
    family_name: str | None
    full_name: str
    title: str | None
    department: str | None
    decision_role: DecisionRole | None  # 决策角色
    preferred_contact_medium: str | None
    contact_medium: list[ContactMediumRead]
    individual_identification: list[IdentificationRead]
    birth_date: date | None
    is_primary: bool
    customer: CustomerRef
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime


__all__ = ["ContactCreate", "ContactRead", "ContactUpdate"]
