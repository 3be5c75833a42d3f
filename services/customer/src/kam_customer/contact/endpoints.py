"""TMF632 individual endpoints: the contacts of key accounts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_customer.customer.views import customer_href
from kam_customer.models import Contact
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, parse_list_query

from . import service
from .repository import FILTERABLE
from .schemas import ContactCreate, ContactFields, ContactRead, ContactUpdate

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
    # the standard attributes kept as given
    *(ContactFields.model_fields[n].alias or n for n in ContactFields.STORED if n != "contact_medium"),
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


def contact_media(c: Contact, see_pii: bool) -> list[dict[str, Any]]:
    """contactMedium as given, its first phone number and e-mail address as the contact's now (a record
    written without one: made from them); phone and fax numbers masked without customer.pii:read."""
    given = (c.tmf_attributes or {}).get("contactMedium")
    if given is None:
        media: list[dict[str, Any]] = []
        if c.phone:
            media.append(
                {
                    "mediumType": "mobile",
                    "preferred": c.preferred_medium in ("phone", "mobile"),
                    "characteristic": {"phoneNumber": c.phone},
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
    else:
        media = []
        phone_done = email_done = False
        for m in given:
            ch = dict(m.get("characteristic") or {})
            if "phoneNumber" in ch and not phone_done:
                phone_done = True
                ch["phoneNumber"] = c.phone
            if "emailAddress" in ch and not email_done:
                email_done = True
                ch["emailAddress"] = c.email
            ch = {k: v for k, v in ch.items() if v is not None}
            media.append({**m, "characteristic": ch} if "characteristic" in m else m)
    return media if see_pii else service.mask_media(media)


def to_api(c: Contact, base: str, principal: Principal) -> ContactRead:
    see_pii = principal.has(service.PII_PERMISSION)
    id_number = c.id_number if see_pii else service.mask_id(c.id_number)
    kept = {k: v for k, v in (c.tmf_attributes or {}).items() if k != "contactMedium"}
    return ContactRead.model_validate(
        {
            **kept,
            "id": str(c.id),
            "href": f"{base}{PATH}/{c.id}",
            "givenName": c.given_name,
            "familyName": c.family_name,
            "fullName": c.full_name,
            "title": c.title,
            "department": c.department,
            "decisionRole": c.decision_role,
            "preferredContactMedium": c.preferred_medium,
            "contactMedium": contact_media(c, see_pii),
            "individualIdentification": [{"identificationType": "ID_CARD", "identificationId": id_number}]
            if c.id_number
            else [],
            "birthDate": c.birth_date,
            "isPrimary": c.is_primary,
            "customer": {
                "id": str(c.customer_id),
                "href": customer_href(base, c.customer_id),
                "@referredType": "Customer",
            }
            if c.customer_id
            else None,
            "ownerNode": c.owner_node,
            "version": c.version,
            "createdAt": c.created_at,
            "updatedAt": c.updated_at,
        }
    )


@router.get(PATH, summary="List contacts", response_model=list[ContactRead])
async def list_individuals(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[ContactRead] | JSONResponse:
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_contacts(session, settings=settings, principal=principal, lq=lq)
    return page(response, [to_api(c, base_url(request), principal) for c in rows], total, lq)


@router.post(PATH, status_code=201, summary="Create a contact of a key account")
async def create_individual(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: ContactCreate,
    principal: Principal = require("customer:update"),
    _: None = JSON_BODY,
) -> ContactRead:
    c = await service.create(session, settings=settings, principal=principal, data=data, present=present_keys(data))
    body = to_api(c, base_url(request), principal)
    response.headers["Location"] = body.href
    return body


@router.get(PATH + "/{individual_id}", summary="Get a contact", response_model=ContactRead)
async def get_individual(
    contact_id: ContactId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> ContactRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    c = await service.get_visible(session, settings=settings, principal=principal, contact_id=contact_id)
    return one(to_api(c, base_url(request), principal), lq.fields)


@router.patch(PATH + "/{individual_id}", summary="Update a contact (JSON merge patch)")
async def patch_individual(
    contact_id: ContactId,
    request: Request,
    session: Session,
    settings: AppSettings,
    patch: Annotated[ContactUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:update"),
    _: None = MERGE_PATCH_BODY,
) -> ContactRead:
    c = await service.update(
        session, settings=settings, principal=principal, contact_id=contact_id, patch=patch, present=present_keys(patch)
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
