"""API models of TMF629 Customer, extended as KeyAccountCustomer (大客户), and the TMF sub-resources
the party models share (ContactMedium, Characteristic, TimePeriod, references).

Key-account attributes are first-class properties of the `KeyAccountCustomer` extension
(`@type`/`@baseType`/`@schemaLocation`), not characteristics, so they are typed, validated,
filterable and indexed (docs/decisions.md). Standard TMF attributes that KAM keeps without a column
of their own are validated here and stored as given (`stored_attributes`, docs/api-conventions.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kam_customer.customer.rules import (
    CUSTOMER_CODE_RE,
    CustomerType,
    Grade,
    Industry,
    LifeStatus,
    MgmtLevel,
    Nature,
    RecogStatus,
    ValueType,
    credit_code_problem,
)
from kam_platform.api import ApiModel as BaseApiModel
from kam_platform.api import ReadModel, Resource

TYPE = "KeyAccountCustomer"
BASE_TYPE = "Customer"
SCHEMA_LOCATION = "https://kam.example/schemas/KeyAccountCustomer.schema.json"

Str200 = Annotated[str, Field(min_length=1, max_length=200)]


class ApiModel(BaseApiModel):
    """Request bodies of the customer service: the house ApiModel, surrounding whitespace stripped."""

    model_config = ConfigDict(str_strip_whitespace=True)


# --- TMF sub-resources (TMF629 and TMF632 share them) ----------------------------------------------

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Text200 = Annotated[str | None, Field(max_length=200)]


class Extensible(ApiModel):
    """The TMF630 polymorphism attributes any sub-resource may carry."""

    base_type: Annotated[str | None, Field(alias="@baseType", max_length=100)] = None
    schema_location: Annotated[str | None, Field(alias="@schemaLocation", max_length=500)] = None
    type_: Annotated[str | None, Field(alias="@type", max_length=100)] = None


class TimePeriod(ApiModel):
    start_date_time: Annotated[datetime | None, Field(alias="startDateTime")] = None
    end_date_time: Annotated[datetime | None, Field(alias="endDateTime")] = None


class MediumCharacteristic(Extensible):
    """TMF ContactMedium.characteristic: a phone number, an e-mail address or a postal address."""

    city: Text200 = None
    contact_type: Annotated[str | None, Field(alias="contactType", max_length=64)] = None
    country: Text200 = None
    email_address: Annotated[str | None, Field(alias="emailAddress", max_length=200)] = None
    fax_number: Annotated[str | None, Field(alias="faxNumber", max_length=32)] = None
    phone_number: Annotated[str | None, Field(alias="phoneNumber", max_length=32)] = None
    post_code: Annotated[str | None, Field(alias="postCode", max_length=16)] = None
    social_network_id: Annotated[str | None, Field(alias="socialNetworkId", max_length=200)] = None
    state_or_province: Annotated[str | None, Field(alias="stateOrProvince", max_length=100)] = None
    street1: Text200 = None
    street2: Text200 = None

    @field_validator("phone_number", "fax_number")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not PHONE_RE.match(v):
            raise ValueError(f"{v!r} is not a phone number")
        return v

    @field_validator("email_address")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL_RE.match(v):
            raise ValueError(f"{v!r} is not an e-mail address")
        return v


class ContactMedium(Extensible):
    """TMF ContactMedium (mediumType e.g. mobile, phone, email, fax, postalAddress)."""

    medium_type: Annotated[str, Field(alias="mediumType", min_length=1, max_length=32)]
    preferred: bool | None = None
    characteristic: MediumCharacteristic | None = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None


class Characteristic(Extensible):
    """TMF Characteristic: a name and a value of any JSON type."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    value_type: Annotated[str | None, Field(alias="valueType", max_length=64)] = None
    value: Annotated[Any, Field(description="any JSON value")]


class EntityRef(Extensible):
    """A TMF reference by id (AgreementRef, PaymentMethodRef, …)."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    href: Annotated[str | None, Field(max_length=500)] = None
    name: Text200 = None
    referred_type: Annotated[str | None, Field(alias="@referredType", max_length=100)] = None


class AccountRef(Extensible):
    """TMF629 AccountRef: a billing account, by name (and id when known)."""

    id: Annotated[str | None, Field(max_length=64)] = None
    href: Annotated[str | None, Field(max_length=500)] = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str | None, Field(max_length=1000)] = None
    referred_type: Annotated[str | None, Field(alias="@referredType", max_length=100)] = None


class ExternalReference(Extensible):
    """TMF632 ExternalReference: the party's id in another system."""

    external_reference_type: Annotated[str | None, Field(alias="externalReferenceType", max_length=64)] = None
    name: Annotated[str, Field(min_length=1, max_length=200)]


def stored_attributes(body: BaseModel, names: Iterable[str]) -> dict[str, Any]:
    """The stored-as-given attributes a request body gave, by API name, as JSON; None for one given as
    null or as an empty list (a merge patch removing it)."""
    fields = type(body).model_fields
    given = [n for n in names if n in body.model_fields_set]
    dumped = body.model_dump(mode="json", by_alias=True, exclude_none=True, include=set(given))
    out: dict[str, Any] = {}
    for name in given:
        key = fields[name].alias or name
        value = dumped.get(key)
        out[key] = value if value not in (None, []) else None
    return out


def merge_stored(current: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    """`current` with `changes` merged in (None removes an attribute); a new dict, so the ORM sees it."""
    out = dict(current or {})
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


class Money(ApiModel):
    unit: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    value: Decimal


class CreditProfileIn(ApiModel):
    credit_level: Annotated[str | None, Field(alias="creditLevel", max_length=16)] = None  # 信用等级
    credit_score: Annotated[int | None, Field(alias="creditScore", ge=0, le=1000)] = None
    credit_risk_rating: Annotated[int | None, Field(alias="creditRiskRating", ge=0, le=100)] = None
    credit_limit: Annotated[Money | None, Field(alias="creditLimit")] = None
    credit_profile_date: Annotated[datetime | None, Field(alias="creditProfileDate")] = None
    type_: Annotated[str | None, Field(alias="@type")] = None


class Ref(ApiModel):
    """A reference to another resource by id (href and name are informative)."""

    id: Annotated[str | None, Field(max_length=64)] = None
    href: str | None = None
    name: Annotated[str | None, Field(max_length=200)] = None
    referred_type: Annotated[str | None, Field(alias="@referredType")] = None
    type_: Annotated[str | None, Field(alias="@type")] = None


class RelatedPartyIn(Extensible):
    """TMF RelatedParty. Role `accountManager` (客户经理) is the customer's account manager; a party in
    any other role is kept as given."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    href: Annotated[str | None, Field(max_length=500)] = None
    name: Annotated[str | None, Field(max_length=100)] = None
    role: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    referred_type: Annotated[str | None, Field(alias="@referredType", max_length=100)] = None


ACCOUNT_MANAGER = "accountManager"


def _check_credit_code(v: str | None) -> str | None:
    if v is None:
        return v
    v = v.upper()
    problem = credit_code_problem(v)
    if problem:
        raise ValueError(f"invalid unified social credit code {v!r}: {problem}")
    return v


def _check_type(v: str | None) -> str | None:
    if v is not None and v not in (TYPE, BASE_TYPE):
        raise ValueError(f"@type must be {TYPE!r} or {BASE_TYPE!r}")
    return v


class CustomerFields(ApiModel):
    # standard TMF629 attributes without a column: validated, stored as given, replicated, returned
    STORED: ClassVar[tuple[str, ...]] = (
        "contact_medium",
        "characteristic",
        "account",
        "agreement",
        "payment_method",
        "valid_for",
    )

    contact_medium: Annotated[list[ContactMedium] | None, Field(alias="contactMedium", max_length=20)] = None
    characteristic: Annotated[list[Characteristic] | None, Field(max_length=100)] = None
    account: Annotated[list[AccountRef] | None, Field(max_length=50)] = None
    agreement: Annotated[list[EntityRef] | None, Field(max_length=50)] = None
    payment_method: Annotated[list[EntityRef] | None, Field(alias="paymentMethod", max_length=20)] = None
    valid_for: Annotated[TimePeriod | None, Field(alias="validFor")] = None
    short_name: Annotated[str | None, Field(alias="shortName", max_length=100)] = None
    nature: Nature | None = None
    value_type: Annotated[ValueType | None, Field(alias="valueType")] = None
    status_reason: Annotated[str | None, Field(alias="statusReason", max_length=500)] = None
    credit_code: Annotated[str | None, Field(alias="creditCode", max_length=18)] = None
    parent_customer: Annotated[Ref | None, Field(alias="parentCustomer")] = None
    # TMF629: the party the customer is (a key account's is an Organization); an id this node does not
    # know creates it, unverified (docs/api-conventions.md)
    engaged_party: Annotated[Ref | None, Field(alias="engagedParty")] = None
    related_party: Annotated[list[RelatedPartyIn] | None, Field(alias="relatedParty", max_length=20)] = None
    enterprise_scale: Annotated[str | None, Field(alias="enterpriseScale", max_length=32)] = None
    address: Annotated[str | None, Field(max_length=500)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    credit_profile: Annotated[list[CreditProfileIn] | None, Field(alias="creditProfile", max_length=1)] = None
    type_: Annotated[str | None, Field(alias="@type")] = None
    base_type: Annotated[str | None, Field(alias="@baseType")] = None
    schema_location: Annotated[str | None, Field(alias="@schemaLocation")] = None

    @field_validator("credit_code")
    @classmethod
    def _credit(cls, v: str | None) -> str | None:
        return _check_credit_code(v)

    @field_validator("type_")
    @classmethod
    def _type(cls, v: str | None) -> str | None:
        return _check_type(v)

    @field_validator("engaged_party")
    @classmethod
    def _engaged(cls, v: Ref | None) -> Ref | None:
        if v is not None and v.referred_type not in (None, "Organization"):
            raise ValueError("a key account's engaged party is an Organization (@referredType 'Organization')")
        return v

    def stored(self) -> dict[str, Any]:
        """The stored-as-given attributes this body gives (None: remove), relatedParty in a role other
        than the account manager's among them."""
        out = stored_attributes(self, self.STORED)
        if "related_party" in self.model_fields_set:
            others = [
                p.model_dump(mode="json", by_alias=True, exclude_none=True)
                for p in self.related_party or []
                if p.role != ACCOUNT_MANAGER
            ]
            out["relatedParty"] = others or None
        return out


class CustomerCreate(CustomerFields):
    name: Str200
    customer_code: Annotated[str | None, Field(alias="customerCode", max_length=32)] = None
    customer_type: Annotated[CustomerType, Field(alias="customerType")] = CustomerType.SINGLE
    mgmt_level: Annotated[MgmtLevel, Field(alias="mgmtLevel")] = MgmtLevel.LOCAL
    # a TMF client's minimal body names no industry: 待补充, shown in dataCompleteness until completed
    industry: Industry = Industry.UNKNOWN
    grade: Grade = Grade.C
    status: LifeStatus = LifeStatus.PROSPECT
    recognition_status: Annotated[RecogStatus, Field(alias="recognitionStatus")] = RecogStatus.CANDIDATE

    @field_validator("customer_code")
    @classmethod
    def _code(cls, v: str | None) -> str | None:
        if v is not None and not CUSTOMER_CODE_RE.match(v):
            raise ValueError(
                "customerCode must be 4-32 characters of A-Z, 0-9 and '-', starting with a letter or digit"
            )
        return v


class CustomerUpdate(CustomerFields):
    """A merge patch: only present keys change; null clears an optional attribute."""

    name: Str200 | None = None
    customer_type: Annotated[CustomerType | None, Field(alias="customerType")] = None
    mgmt_level: Annotated[MgmtLevel | None, Field(alias="mgmtLevel")] = None
    industry: Industry | None = None
    grade: Grade | None = None
    status: LifeStatus | None = None
    recognition_status: Annotated[RecogStatus | None, Field(alias="recognitionStatus")] = None
    customer_code: Annotated[str | None, Field(alias="customerCode")] = None


# merge-patch keys that may not be null (mandatory attributes)
NOT_NULLABLE = {"name", "customerType", "mgmtLevel", "industry", "grade", "status", "recognitionStatus"}
IMMUTABLE = {"customerCode"}


class TransferRequest(ApiModel):
    to_node: Annotated[str, Field(alias="toNode", min_length=1, max_length=32)]
    reason: Annotated[str | None, Field(max_length=500)] = None


class AccountManagerAssign(ApiModel):
    account_manager: Annotated[str | None, Field(alias="accountManager", max_length=64)]
    account_manager_name: Annotated[str | None, Field(alias="accountManagerName", max_length=100)] = None
    reason: Annotated[str | None, Field(max_length=500)] = None


# --- responses -------------------------------------------------------------------------------------


class PartyRef(ReadModel):
    """A reference to a TMF632 party (the legal entity behind a key account)."""

    id: str
    href: str
    name: str | None = None
    referred_type: Annotated[str, Field(alias="@referredType")]


class CustomerRef(ReadModel):
    id: str
    href: str
    referred_type: Annotated[Literal["Customer"], Field(alias="@referredType")] = "Customer"


class RelatedPartyRead(ReadModel):
    id: str
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referred_type: Annotated[str | None, Field(alias="@referredType")] = None


class DataCompleteness(ReadModel):
    """Which key-account attributes are still to be completed (待补充) — a TMF client's minimal create
    leaves them open; recognition and province verification ask for them later."""

    is_complete: bool
    missing: Annotated[list[str], Field(description="attribute names, e.g. industry, creditCode")]


class NationalKeyAccount(ReadModel):
    """The group's designation of this customer as a national key account (全国大客户), if any."""

    designation_id: str
    grade: Grade
    group_account_manager: str | None
    group_account_manager_name: str | None
    service_level: str | None
    designated_by: str


class CustomerRead(Resource):
    """TMF629 Customer as KeyAccountCustomer (大客户)."""

    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = TYPE
    base_type: Annotated[str, Field(alias="@baseType")] = BASE_TYPE
    schema_location: Annotated[str, Field(alias="@schemaLocation")] = SCHEMA_LOCATION
    name: str
    status: LifeStatus  # 生命周期状态
    status_reason: str | None
    customer_code: str  # 客户编码
    short_name: str | None
    customer_type: CustomerType
    nature: Nature | None
    mgmt_level: MgmtLevel
    industry: Industry
    value_type: ValueType | None
    grade: Grade  # 客户等级
    recognition_status: RecogStatus  # 认定状态
    credit_code: str | None
    engaged_party: PartyRef | None
    related_party: list[RelatedPartyRead]
    parent_customer: CustomerRef | None
    enterprise_scale: str | None
    address: str | None
    description: str | None
    credit_profile: Annotated[
        list[dict[str, Any]], Field(description="TMF629 CreditProfile: creditLevel, creditScore, creditLimit, …")
    ]
    contact_medium: Annotated[
        list[dict[str, Any]], Field(default_factory=list, description="TMF629 ContactMedium, as given")
    ]
    characteristic: Annotated[
        list[dict[str, Any]], Field(default_factory=list, description="TMF629 Characteristic, as given")
    ]
    account: Annotated[list[dict[str, Any]], Field(default_factory=list, description="TMF629 AccountRef, as given")]
    agreement: Annotated[list[dict[str, Any]], Field(default_factory=list, description="TMF629 AgreementRef, as given")]
    payment_method: Annotated[
        list[dict[str, Any]], Field(default_factory=list, description="TMF629 PaymentMethodRef, as given")
    ]
    valid_for: Annotated[dict[str, Any] | None, Field(description="TMF629 validFor (TimePeriod)")] = None
    data_completeness: DataCompleteness  # 资料完整度
    owner_node: str
    version: int
    created_at: datetime | None
    updated_at: datetime | None


class CustomerDetail(CustomerRead):
    """One customer, with its national key-account designation."""

    national_key_account: NationalKeyAccount | None = None
    # 省级核实 (F1, issue 14): unverified / verified / returned / notRequired
    verification: str | None = None


class AuditRecordRead(ReadModel):
    """One append-only change record: who, when, which attributes, old → new."""

    id: str
    type_: Annotated[Literal["AuditRecord"], Field(alias="@type")] = "AuditRecord"
    entity_type: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    changes: dict[str, Any] | None
    request_id: str | None
    note: str | None
    owner_node: str


class ValidFor(ReadModel):
    start_date_time: datetime
    end_date_time: datetime | None


class AccountManagerAssignmentRead(ReadModel):
    id: str
    type_: Annotated[Literal["AccountManagerAssignment"], Field(alias="@type")] = "AccountManagerAssignment"
    account_manager: str | None
    account_manager_name: str | None
    previous_account_manager: str | None
    assigned_by: str
    valid_for: ValidFor
    reason: str | None


class CustomerBrief(ReadModel):
    id: str
    href: str
    name: str
    customer_code: str
    owner_node: str
    customer_type: CustomerType


class HierarchyRead(ReadModel):
    """A group customer's place in its hierarchy: the HQ chain above it and its direct branches."""

    customer: CustomerBrief
    ancestors: list[CustomerBrief]
    branches: list[CustomerBrief]


Action = Literal["create", "update", "delete", "status", "assign", "import", "transfer"]

JsonDict = dict[str, Any]
