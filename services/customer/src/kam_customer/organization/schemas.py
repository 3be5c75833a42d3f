"""API models of TMF632 Organization: the legal entities behind key accounts.

The unified social credit code (统一社会信用代码) is KAM's `creditCode` and TMF632's
`organizationIdentification` of type USCC: either spelling sets it, validated. The other standard
attributes without a column are validated and kept as given (docs/api-conventions.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from kam_customer.customer.schemas import (
    ApiModel,
    Characteristic,
    ContactMedium,
    Extensible,
    ExternalReference,
    RelatedPartyIn,
    TimePeriod,
    _check_credit_code,
    stored_attributes,
)
from kam_platform.api import Resource

USCC = "USCC"
# TMF632 OrganizationStateType: initialized is an organization not yet verified (待核实)
UNVERIFIED = "initialized"
# the externalReferenceType that keeps an engagedParty id this node did not know
PARTY_REFERENCE = "engagedParty.id"


class OrganizationIdentification(Extensible):
    """TMF632 OrganizationIdentification; type USCC is the unified social credit code."""

    identification_id: Annotated[str, Field(alias="identificationId", min_length=1, max_length=64)]
    identification_type: Annotated[str | None, Field(alias="identificationType", max_length=64)] = None
    issuing_authority: Annotated[str | None, Field(alias="issuingAuthority", max_length=200)] = None
    issuing_date: Annotated[datetime | None, Field(alias="issuingDate")] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None
    attachment: Annotated[list[dict[str, Any]] | None, Field(max_length=10)] = None

    @property
    def is_uscc(self) -> bool:
        return (self.identification_type or "").upper() == USCC


class OrganizationRef(Extensible):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    href: Annotated[str | None, Field(max_length=500)] = None
    name: Annotated[str | None, Field(max_length=200)] = None
    referred_type: Annotated[str | None, Field(alias="@referredType", max_length=100)] = None


class OrganizationRelationship(Extensible):
    """TMF632 OrganizationParentRelationship / OrganizationChildRelationship."""

    relationship_type: Annotated[str | None, Field(alias="relationshipType", max_length=64)] = None
    organization: OrganizationRef | None = None


class OtherNameOrganization(Extensible):
    name: Annotated[str | None, Field(max_length=200)] = None
    name_type: Annotated[str | None, Field(alias="nameType", max_length=64)] = None
    trading_name: Annotated[str | None, Field(alias="tradingName", max_length=200)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class PartyCreditProfile(Extensible):
    credit_agency_name: Annotated[str | None, Field(alias="creditAgencyName", max_length=200)] = None
    credit_agency_type: Annotated[str | None, Field(alias="creditAgencyType", max_length=64)] = None
    rating_reference: Annotated[str | None, Field(alias="ratingReference", max_length=200)] = None
    rating_score: Annotated[int | None, Field(alias="ratingScore")] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class TaxExemptionCertificate(Extensible):
    id: Annotated[str | None, Field(max_length=64)] = None
    attachment: dict[str, Any] | None = None
    tax_definition: Annotated[list[dict[str, Any]] | None, Field(alias="taxDefinition", max_length=20)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class OrganizationCreate(ApiModel):
    # standard TMF632 attributes without a column: validated, stored as given, replicated, returned
    STORED: ClassVar[tuple[str, ...]] = (
        "is_head_office",
        "is_legal_entity",
        "name_type",
        "contact_medium",
        "credit_rating",
        "exists_during",
        "external_reference",
        "organization_child_relationship",
        "organization_parent_relationship",
        "other_name",
        "party_characteristic",
        "related_party",
        "tax_exemption_certificate",
    )

    trading_name: Annotated[str, Field(alias="tradingName", min_length=1, max_length=200)]
    name: Annotated[str | None, Field(max_length=200)] = None
    organization_type: Annotated[str | None, Field(alias="organizationType", max_length=64)] = None
    credit_code: Annotated[str | None, Field(alias="creditCode", max_length=18)] = None  # 统一社会信用代码
    status: Annotated[str | None, Field(max_length=32)] = None
    organization_identification: Annotated[
        list[OrganizationIdentification] | None, Field(alias="organizationIdentification", max_length=10)
    ] = None
    is_head_office: Annotated[bool | None, Field(alias="isHeadOffice")] = None
    is_legal_entity: Annotated[bool | None, Field(alias="isLegalEntity")] = None
    name_type: Annotated[str | None, Field(alias="nameType", max_length=64)] = None
    contact_medium: Annotated[list[ContactMedium] | None, Field(alias="contactMedium", max_length=20)] = None
    credit_rating: Annotated[list[PartyCreditProfile] | None, Field(alias="creditRating", max_length=10)] = None
    exists_during: Annotated[TimePeriod | None, Field(alias="existsDuring")] = None
    external_reference: Annotated[list[ExternalReference] | None, Field(alias="externalReference", max_length=20)] = (
        None
    )
    organization_child_relationship: Annotated[
        list[OrganizationRelationship] | None, Field(alias="organizationChildRelationship", max_length=100)
    ] = None
    organization_parent_relationship: Annotated[
        list[OrganizationRelationship] | None, Field(alias="organizationParentRelationship", max_length=10)
    ] = None
    other_name: Annotated[list[OtherNameOrganization] | None, Field(alias="otherName", max_length=20)] = None
    party_characteristic: Annotated[list[Characteristic] | None, Field(alias="partyCharacteristic", max_length=100)] = (
        None
    )
    related_party: Annotated[list[RelatedPartyIn] | None, Field(alias="relatedParty", max_length=20)] = None
    tax_exemption_certificate: Annotated[
        list[TaxExemptionCertificate] | None, Field(alias="taxExemptionCertificate", max_length=20)
    ] = None
    type_: Annotated[str | None, Field(alias="@type")] = None
    base_type: Annotated[str | None, Field(alias="@baseType")] = None
    schema_location: Annotated[str | None, Field(alias="@schemaLocation")] = None

    @model_validator(mode="after")
    def _identification(self) -> OrganizationCreate:
        self.credit_code = _check_credit_code(self.credit_code)
        uscc = [i for i in self.organization_identification or [] if i.is_uscc]
        if len(uscc) > 1:
            raise ValueError("organizationIdentification: at most one identification of type USCC")
        if uscc:
            try:
                code = _check_credit_code(uscc[0].identification_id)
            except ValueError as e:
                raise ValueError(f"organizationIdentification (USCC): {e}") from None
            if self.credit_code is not None and code != self.credit_code:
                raise ValueError("creditCode and the USCC organizationIdentification name different credit codes")
            uscc[0].identification_id = code or ""
        return self

    def given_credit_code(self) -> tuple[bool, str | None]:
        """Whether the body sets the credit code (creditCode, or organizationIdentification whose USCC
        entry is the code — a list without one clears it), and to what."""
        if "organization_identification" in self.model_fields_set:
            uscc = [i for i in self.organization_identification or [] if i.is_uscc]
            return True, uscc[0].identification_id if uscc else self.credit_code
        return "credit_code" in self.model_fields_set, self.credit_code

    def stored(self) -> dict[str, Any]:
        """The stored-as-given attributes this body gives (None: remove); organizationIdentification
        is kept whole, its USCC entry answered from the credit code."""
        return stored_attributes(self, (*self.STORED, "organization_identification"))


class OrganizationUpdate(OrganizationCreate):
    """A merge patch: only present keys change; null clears an optional attribute."""

    trading_name: Annotated[str | None, Field(alias="tradingName", min_length=1, max_length=200)] = None  # type: ignore[assignment]


class OrganizationRead(Resource):
    """TMF632 Organization."""

    id: str
    href: str
    type_: Annotated[Literal["Organization"], Field(alias="@type")] = "Organization"
    name: str
    trading_name: str
    organization_type: str | None
    is_legal_entity: bool
    is_head_office: bool | None = None
    name_type: str | None = None
    status: Annotated[str | None, Field(description="initialized (待核实, unverified) / validated / closed")]
    organization_identification: Annotated[
        list[dict[str, Any]], Field(description="identificationType USCC: the unified social credit code")
    ]
    contact_medium: list[dict[str, Any]] = Field(default_factory=list)
    credit_rating: list[dict[str, Any]] = Field(default_factory=list)
    exists_during: dict[str, Any] | None = None
    external_reference: list[dict[str, Any]] = Field(default_factory=list)
    organization_child_relationship: list[dict[str, Any]] = Field(default_factory=list)
    organization_parent_relationship: list[dict[str, Any]] = Field(default_factory=list)
    other_name: list[dict[str, Any]] = Field(default_factory=list)
    party_characteristic: list[dict[str, Any]] = Field(default_factory=list)
    related_party: list[dict[str, Any]] = Field(default_factory=list)
    tax_exemption_certificate: list[dict[str, Any]] = Field(default_factory=list)
    owner_node: str
    version: int
    created_at: datetime
    updated_at: datetime
