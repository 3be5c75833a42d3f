"""API models of TMF629 Customer, extended as KeyAccountCustomer (大客户).

Key-account attributes are first-class properties of the `KeyAccountCustomer` extension
(`@type`/`@baseType`/`@schemaLocation`), not characteristics, so they are typed, validated,
filterable and indexed (docs/decisions.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

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


class RelatedPartyIn(ApiModel):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    href: str | None = None
    name: Annotated[str | None, Field(max_length=100)] = None
    role: Annotated[str, Field(min_length=1, max_length=32)]
    referred_type: Annotated[str | None, Field(alias="@referredType")] = None
    type_: Annotated[str | None, Field(alias="@type")] = None


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
    short_name: Annotated[str | None, Field(alias="shortName", max_length=100)] = None
    nature: Nature | None = None
    value_type: Annotated[ValueType | None, Field(alias="valueType")] = None
    status_reason: Annotated[str | None, Field(alias="statusReason", max_length=500)] = None
    credit_code: Annotated[str | None, Field(alias="creditCode", max_length=18)] = None
    parent_customer: Annotated[Ref | None, Field(alias="parentCustomer")] = None
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


class CustomerCreate(CustomerFields):
    name: Str200
    customer_code: Annotated[str | None, Field(alias="customerCode", max_length=32)] = None
    customer_type: Annotated[CustomerType, Field(alias="customerType")] = CustomerType.SINGLE
    mgmt_level: Annotated[MgmtLevel, Field(alias="mgmtLevel")] = MgmtLevel.LOCAL
    industry: Industry
    grade: Grade = Grade.C
    status: LifeStatus = LifeStatus.PROSPECT
    recognition_status: Annotated[RecogStatus, Field(alias="recognitionStatus")] = RecogStatus.CANDIDATE
    engaged_party: Annotated[Ref | None, Field(alias="engagedParty")] = None

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
    engaged_party: Annotated[Ref | None, Field(alias="engagedParty")] = None
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
    name: str | None
    role: str
    referred_type: Annotated[str | None, Field(alias="@referredType")] = None


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
    owner_node: str
    version: int
    created_at: datetime | None
    updated_at: datetime | None


class CustomerDetail(CustomerRead):
    """One customer, with its national key-account designation."""

    national_key_account: NationalKeyAccount | None = None


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
