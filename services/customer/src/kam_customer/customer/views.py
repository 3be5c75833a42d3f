"""Render customers as TMF629 KeyAccountCustomer resources."""

from __future__ import annotations

from typing import Any

from kam_customer.models import Customer

from .rules import Industry
from .schemas import ACCOUNT_MANAGER, BASE_TYPE, SCHEMA_LOCATION, TYPE, CustomerRead

CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
ORGANIZATION_PATH = "/tmf-api/party/v4/organization"

# every attribute a client may select with fields=
FIELDS = (
    "name",
    "status",
    "statusReason",
    "customerCode",
    "shortName",
    "customerType",
    "nature",
    "mgmtLevel",
    "industry",
    "valueType",
    "grade",
    "recognitionStatus",
    "creditCode",
    "engagedParty",
    "relatedParty",
    "parentCustomer",
    "enterpriseScale",
    "address",
    "description",
    "creditProfile",
    "contactMedium",
    "characteristic",
    "account",
    "agreement",
    "paymentMethod",
    "validFor",
    "dataCompleteness",
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
    "@baseType",
    "@schemaLocation",
)


def customer_href(base: str, customer_id: object) -> str:
    return f"{base}{CUSTOMER_PATH}/{customer_id}"


def to_api(c: Customer, base: str) -> CustomerRead:
    return CustomerRead.model_validate(to_dict(c, base))


def stored(c: Customer) -> dict[str, Any]:
    """The standard TMF attributes kept as given (none for a row written before they were kept)."""
    return getattr(c, "tmf_attributes", None) or {}


def data_completeness(c: Customer) -> dict[str, Any]:
    """What a key account still lacks (待补充): a TMF client's minimal create leaves these open."""
    missing = []
    if c.industry == Industry.UNKNOWN:
        missing.append("industry")
    if not c.credit_code:
        missing.append("creditCode")
    if not c.account_manager:
        missing.append("relatedParty.accountManager")
    return {"isComplete": not missing, "missing": missing}


def to_dict(c: Customer, base: str) -> dict[str, Any]:
    kept = stored(c)
    related: list[dict[str, Any]] = []
    if c.account_manager:
        related.append(
            {
                "id": c.account_manager,
                "name": c.account_manager_name,
                "role": ACCOUNT_MANAGER,
                "@referredType": "Individual",
            }
        )
    related.extend(kept.get("relatedParty", []))
    return {
        "id": str(c.id),
        "href": customer_href(base, c.id),
        "@type": TYPE,
        "@baseType": BASE_TYPE,
        "@schemaLocation": SCHEMA_LOCATION,
        "name": c.name,
        "status": c.life_status,
        "statusReason": c.status_reason,
        "customerCode": c.customer_code,
        "shortName": c.short_name,
        "customerType": c.customer_type,
        "nature": c.nature,
        "mgmtLevel": c.mgmt_level,
        "industry": c.industry,
        "valueType": c.value_type,
        "grade": c.grade,
        "recognitionStatus": c.recog_status,
        "creditCode": c.credit_code,
        "engagedParty": {
            "id": str(c.organization_id),
            "href": f"{base}{ORGANIZATION_PATH}/{c.organization_id}",
            "name": c.name,
            "@referredType": "Organization",
        }
        if c.organization_id
        else None,
        "relatedParty": related,
        "parentCustomer": {
            "id": str(c.parent_customer_id),
            "href": customer_href(base, c.parent_customer_id),
            "@referredType": "Customer",
        }
        if c.parent_customer_id
        else None,
        "enterpriseScale": c.enterprise_scale,
        "address": c.address,
        "description": c.description,
        "creditProfile": [dict(c.credit_profile, **{"@type": "CreditProfile"})] if c.credit_profile else [],
        "contactMedium": kept.get("contactMedium", []),
        "characteristic": kept.get("characteristic", []),
        "account": kept.get("account", []),
        "agreement": kept.get("agreement", []),
        "paymentMethod": kept.get("paymentMethod", []),
        "validFor": kept.get("validFor"),
        "dataCompleteness": data_completeness(c),
        "ownerNode": c.owner_node,
        "version": c.version,
        "createdAt": c.created_at.isoformat() if c.created_at else None,
        "updatedAt": c.updated_at.isoformat() if c.updated_at else None,
    }


def snapshot(c: Customer) -> dict[str, Any]:
    """The audited attributes of a customer, by API name."""
    return {
        "name": c.name,
        "customerCode": c.customer_code,
        "shortName": c.short_name,
        "customerType": c.customer_type,
        "nature": c.nature,
        "mgmtLevel": c.mgmt_level,
        "industry": c.industry,
        "valueType": c.value_type,
        "grade": c.grade,
        "status": c.life_status,
        "recognitionStatus": c.recog_status,
        "statusReason": c.status_reason,
        "creditCode": c.credit_code,
        "parentCustomer": str(c.parent_customer_id) if c.parent_customer_id else None,
        "engagedParty": str(c.organization_id) if c.organization_id else None,
        "accountManager": c.account_manager,
        "enterpriseScale": c.enterprise_scale,
        "address": c.address,
        "description": c.description,
        "creditProfile": c.credit_profile,
        "ownerNode": c.owner_node,
        # the standard TMF attributes kept as given, each audited under its own name
        **{key: value for key, value in sorted(stored(c).items())},
    }
