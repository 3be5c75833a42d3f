"""TMF632 individual endpoints: the contacts of key accounts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_customer.customer.views import customer_href
from kam_customer.models import Contact
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import (
    base_url,
    id_or_404,
    list_response,
    parse_list_query,
    project,
    read_json_object,
    read_merge_patch,
    validate_model,
)

from . import service
from .repository import FILTERABLE
from .schemas import BASE_TYPE, SCHEMA_LOCATION, TYPE, ContactCreate, ContactUpdate

PATH = "/tmf-api/party/v4/individual"
FIELDS = (
    "givenName",
    "familyName",
    "fullName",
    "title",
    "department",
    "decisionRole",
    "preferredContactMedium",
    "contactMedium",
    "individualIdentification",
    "birthDate",
    "isPrimary",
    "customer",
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
    "@baseType",
    "@schemaLocation",
)

router = APIRouter(tags=["party"])


def _contact_id(individual_id: str) -> uuid.UUID:
    return id_or_404(individual_id, "individual")


ContactId = Annotated[uuid.UUID, Depends(_contact_id)]


def to_api(c: Contact, base: str, principal: Principal) -> dict[str, Any]:
    see_pii = principal.has(service.PII_PERMISSION)
    phone = c.phone if see_pii else service.mask_phone(c.phone)
    id_number = c.id_number if see_pii else service.mask_id(c.id_number)
    media = []
    if c.phone:
        media.append(
            {
                "mediumType": "mobile",
                "preferred": c.preferred_medium in ("phone", "mobile"),
                "characteristic": {"phoneNumber": phone},
            }
        )
    if c.email:
        media.append(
            {
                "mediumType": "email",
                "preferred": c.preferred_medium == "email",
                "characteristic": {"emailAddress": c.email},
            }
        )
    return {
        "id": str(c.id),
        "href": f"{base}{PATH}/{c.id}",
        "@type": TYPE,
        "@baseType": BASE_TYPE,
        "@schemaLocation": SCHEMA_LOCATION,
        "givenName": c.given_name,
        "familyName": c.family_name,
        "fullName": c.full_name,
        "title": c.title,
        "department": c.department,
        "decisionRole": c.decision_role,
        "preferredContactMedium": c.preferred_medium,
        "contactMedium": media,
        "individualIdentification": [{"identificationType": "ID_CARD", "identificationId": id_number}]
        if c.id_number
        else [],
        "birthDate": c.birth_date.isoformat() if c.birth_date else None,
        "isPrimary": c.is_primary,
        "customer": {"id": str(c.customer_id), "href": customer_href(base, c.customer_id), "@referredType": "Customer"},
        "ownerNode": c.owner_node,
        "version": c.version,
        "createdAt": c.created_at.isoformat(),
        "updatedAt": c.updated_at.isoformat(),
    }


@router.get(PATH, summary="List contacts")
async def list_individuals(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> JSONResponse:
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_contacts(session, settings=settings, principal=principal, lq=lq)
    return list_response([to_api(c, base_url(request), principal) for c in rows], total, lq)


@router.post(PATH, status_code=201, summary="Create a contact of a key account")
async def create_individual(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> JSONResponse:
    raw = await read_json_object(request, allowed_types={"application/json"})
    data = validate_model(ContactCreate, raw)
    c = await service.create(session, settings=settings, principal=principal, data=data, present=set(raw))
    body = to_api(c, base_url(request), principal)
    return JSONResponse(body, status_code=201, headers={"Location": body["href"]})


@router.get(PATH + "/{individual_id}", summary="Get a contact")
async def get_individual(
    contact_id: ContactId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> dict[str, Any]:
    lq = parse_list_query(request, {}, FIELDS)
    c = await service.get_visible(session, settings=settings, principal=principal, contact_id=contact_id)
    return project(to_api(c, base_url(request), principal), lq.fields)


@router.patch(PATH + "/{individual_id}", summary="Update a contact (JSON merge patch)")
async def patch_individual(
    contact_id: ContactId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> dict[str, Any]:
    patch, present = await read_merge_patch(request, ContactUpdate)
    c = await service.update(
        session, settings=settings, principal=principal, contact_id=contact_id, patch=patch, present=present
    )
    return to_api(c, base_url(request), principal)


@router.delete(PATH + "/{individual_id}", status_code=204, summary="Delete a contact")
async def delete_individual(
    contact_id: ContactId,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> Response:
    await service.delete(session, settings=settings, principal=principal, contact_id=contact_id)
    return Response(status_code=204)


__all__ = ["router", "validate_model"]
