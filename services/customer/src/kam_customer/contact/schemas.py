"""API models of TMF632 Individual, extended as KeyAccountContact (大客户联系人).

contactMedium is kept as given; its first phone number and e-mail address are the contact's `phone`
(PII, masked without customer.pii:read) and `email`. The other standard attributes without a column
are validated and kept as given (docs/api-conventions.md)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from kam_customer.customer.rules import DecisionRole
from kam_customer.customer.schemas import (
    ApiModel,
    Characteristic,
    ContactMedium,
    CustomerRef,
    Extensible,
    ExternalReference,
    Ref,
    RelatedPartyIn,
    TimePeriod,
    stored_attributes,
)
from kam_platform.api import ReadModel, Resource

TYPE = "KeyAccountContact"
BASE_TYPE = "Individual"
SCHEMA_LOCATION = "https://kam.example/schemas/KeyAccountContact.schema.json"

ID_RE = re.compile(r"^\d{17}[\dX]$")
PHONE_TYPES = ("phone", "mobile")


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


class OtherNameIndividual(Extensible):
    aristocratic_title: Annotated[str | None, Field(alias="aristocraticTitle", max_length=100)] = None
    family_name: Annotated[str | None, Field(alias="familyName", max_length=50)] = None
    family_name_prefix: Annotated[str | None, Field(alias="familyNamePrefix", max_length=50)] = None
    formatted_name: Annotated[str | None, Field(alias="formattedName", max_length=200)] = None
    full_name: Annotated[str | None, Field(alias="fullName", max_length=100)] = None
    generation: Annotated[str | None, Field(max_length=50)] = None
    given_name: Annotated[str | None, Field(alias="givenName", max_length=50)] = None
    legal_name: Annotated[str | None, Field(alias="legalName", max_length=200)] = None
    middle_name: Annotated[str | None, Field(alias="middleName", max_length=50)] = None
    preferred_given_name: Annotated[str | None, Field(alias="preferredGivenName", max_length=50)] = None
    title: Annotated[str | None, Field(max_length=100)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class Skill(Extensible):
    comment: Annotated[str | None, Field(max_length=500)] = None
    evaluated_level: Annotated[str | None, Field(alias="evaluatedLevel", max_length=64)] = None
    skill_code: Annotated[str | None, Field(alias="skillCode", max_length=64)] = None
    skill_name: Annotated[str | None, Field(alias="skillName", max_length=200)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class LanguageAbility(Extensible):
    is_favourite_language: Annotated[bool | None, Field(alias="isFavouriteLanguage")] = None
    language_code: Annotated[str | None, Field(alias="languageCode", max_length=16)] = None
    language_name: Annotated[str | None, Field(alias="languageName", max_length=64)] = None
    listening_proficiency: Annotated[str | None, Field(alias="listeningProficiency", max_length=32)] = None
    reading_proficiency: Annotated[str | None, Field(alias="readingProficiency", max_length=32)] = None
    speaking_proficiency: Annotated[str | None, Field(alias="speakingProficiency", max_length=32)] = None
    writing_proficiency: Annotated[str | None, Field(alias="writingProficiency", max_length=32)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class Disability(Extensible):
    disability_code: Annotated[str | None, Field(alias="disabilityCode", max_length=64)] = None
    disability_name: Annotated[str | None, Field(alias="disabilityName", max_length=200)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


Short = Annotated[str | None, Field(max_length=100)]


class ContactFields(ApiModel):
    # standard TMF632 attributes without a column: validated, stored as given, replicated, returned
    STORED: ClassVar[tuple[str, ...]] = (
        "contact_medium",
        "aristocratic_title",
        "country_of_birth",
        "death_date",
        "family_name_prefix",
        "formatted_name",
        "gender",
        "generation",
        "legal_name",
        "location",
        "marital_status",
        "middle_name",
        "nationality",
        "place_of_birth",
        "preferred_given_name",
        "credit_rating",
        "disability",
        "external_reference",
        "language_ability",
        "other_name",
        "party_characteristic",
        "related_party",
        "skill",
        "status",
        "tax_exemption_certificate",
    )

    full_name: Annotated[str | None, Field(alias="fullName", max_length=100)] = None
    title: Annotated[str | None, Field(max_length=100)] = None
    department: Annotated[str | None, Field(max_length=100)] = None
    decision_role: Annotated[DecisionRole | None, Field(alias="decisionRole")] = None
    preferred_contact_medium: Annotated[
        Literal["phone", "mobile", "email", "wechat", "visit"] | None, Field(alias="preferredContactMedium")
    ] = None
    contact_medium: Annotated[list[ContactMedium] | None, Field(alias="contactMedium", max_length=10)] = None
    individual_identification: Annotated[
        list[IdentificationIn] | None, Field(alias="individualIdentification", max_length=1)
    ] = None
    birth_date: Annotated[date | None, Field(alias="birthDate")] = None
    is_primary: Annotated[bool | None, Field(alias="isPrimary")] = None
    aristocratic_title: Annotated[Short, Field(alias="aristocraticTitle")] = None
    country_of_birth: Annotated[Short, Field(alias="countryOfBirth")] = None
    death_date: Annotated[datetime | None, Field(alias="deathDate")] = None
    family_name_prefix: Annotated[Short, Field(alias="familyNamePrefix")] = None
    formatted_name: Annotated[str | None, Field(alias="formattedName", max_length=200)] = None
    gender: Short = None
    generation: Short = None
    legal_name: Annotated[str | None, Field(alias="legalName", max_length=200)] = None
    location: Annotated[str | None, Field(max_length=200)] = None
    marital_status: Annotated[Short, Field(alias="maritalStatus")] = None
    middle_name: Annotated[Short, Field(alias="middleName")] = None
    nationality: Short = None
    place_of_birth: Annotated[Short, Field(alias="placeOfBirth")] = None
    preferred_given_name: Annotated[Short, Field(alias="preferredGivenName")] = None
    credit_rating: Annotated[list[dict[str, Any]] | None, Field(alias="creditRating", max_length=10)] = None
    disability: Annotated[list[Disability] | None, Field(max_length=10)] = None
    external_reference: Annotated[list[ExternalReference] | None, Field(alias="externalReference", max_length=20)] = (
        None
    )
    language_ability: Annotated[list[LanguageAbility] | None, Field(alias="languageAbility", max_length=20)] = None
    other_name: Annotated[list[OtherNameIndividual] | None, Field(alias="otherName", max_length=20)] = None
    party_characteristic: Annotated[list[Characteristic] | None, Field(alias="partyCharacteristic", max_length=100)] = (
        None
    )
    related_party: Annotated[list[RelatedPartyIn] | None, Field(alias="relatedParty", max_length=20)] = None
    skill: Annotated[list[Skill] | None, Field(max_length=50)] = None
    status: Annotated[str | None, Field(max_length=32, description="TMF632 IndividualStateType")] = None
    tax_exemption_certificate: Annotated[
        list[dict[str, Any]] | None, Field(alias="taxExemptionCertificate", max_length=20)
    ] = None
    type_: Annotated[str | None, Field(alias="@type")] = None
    base_type: Annotated[str | None, Field(alias="@baseType")] = None
    schema_location: Annotated[str | None, Field(alias="@schemaLocation")] = None

    def stored(self) -> dict[str, Any]:
        """The stored-as-given attributes this body gives (None: remove)."""
        return stored_attributes(self, self.STORED)


class ContactCreate(ContactFields):
    given_name: Annotated[str, Field(alias="givenName", min_length=1, max_length=50)]
    family_name: Annotated[str, Field(alias="familyName", min_length=1, max_length=50)]
    # KAM: the key account the contact belongs to; TMF632 needs none, so it may be linked later
    customer: Ref | None = None


class ContactUpdate(ContactFields):
    given_name: Annotated[str | None, Field(alias="givenName", min_length=1, max_length=50)] = None
    family_name: Annotated[str | None, Field(alias="familyName", min_length=1, max_length=50)] = None


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
    contact_medium: Annotated[
        list[dict[str, Any]],
        Field(description="TMF632 ContactMedium as given; phoneNumber/faxNumber masked without customer.pii:read"),
    ]
    individual_identification: list[IdentificationRead]
    birth_date: date | None
    is_primary: bool
    customer: Annotated[CustomerRef | None, Field(description="the key account; none until linked")]
    aristocratic_title: str | None = None
    country_of_birth: str | None = None
    death_date: datetime | None = None
    family_name_prefix: str | None = None
    formatted_name: str | None = None
    gender: str | None = None
    generation: str | None = None
    legal_name: str | None = None
    location: str | None = None
    marital_status: str | None = None
    middle_name: str | None = None
    nationality: str | None = None
    place_of_birth: str | None = None
    preferred_given_name: str | None = None
    credit_rating: list[dict[str, Any]] = Field(default_factory=list)
    disability: list[dict[str, Any]] = Field(default_factory=list)
    external_reference: list[dict[str, Any]] = Field(default_factory=list)
    language_ability: list[dict[str, Any]] = Field(default_factory=list)
    other_name: list[dict[str, Any]] = Field(default_factory=list)
    party_characteristic: list[dict[str, Any]] = Field(default_factory=list)
    related_party: list[dict[str, Any]] = Field(default_factory=list)
    skill: list[dict[str, Any]] = Field(default_factory=list)
    status: str | None = None
    tax_exemption_certificate: list[dict[str, Any]] = Field(default_factory=list)
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime


__all__ = ["ContactCreate", "ContactRead", "ContactUpdate"]
