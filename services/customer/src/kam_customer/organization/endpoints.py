"""TMF632 organization endpoints: the legal entities behind key accounts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_customer.customer.views import ORGANIZATION_PATH as PATH
from kam_customer.models import Organization
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, parse_list_query

from . import service
from .repository import FILTERABLE
from .schemas import USCC, OrganizationCreate, OrganizationRead, OrganizationUpdate

# the attributes kept as given, by API name
STORED_NAMES = tuple(OrganizationCreate.model_fields[n].alias or n for n in OrganizationCreate.STORED)

FIELDS = (
    "name",
    "tradingName",
    "organizationType",
    "isLegalEntity",
    "isHeadOffice",
    "nameType",
    "status",
    "organizationIdentification",
    *(n for n in STORED_NAMES if n not in ("isLegalEntity", "isHeadOffice", "nameType")),
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
)
router = APIRouter(tags=["party"])


def _org_id(organization_id: str) -> uuid.UUID:
    return id_or_404(organization_id, "organization")


OrgId = Annotated[uuid.UUID, Depends(_org_id)]


def identifications(o: Organization) -> list[dict[str, Any]]:
    """organizationIdentification as given, its USCC entry carrying the credit code as it is now (or
    made from the credit code of a record written without one)."""
    given = (o.tmf_attributes or {}).get("organizationIdentification", [])
    out: list[dict[str, Any]] = []
    uscc_done = False
    for item in given:
        if str(item.get("identificationType", "")).upper() == USCC:
            if uscc_done or not o.credit_code:
                continue
            item = {**item, "identificationId": o.credit_code}
            uscc_done = True
        out.append(item)
    if o.credit_code and not uscc_done:
        out.insert(0, {"identificationType": USCC, "identificationId": o.credit_code})
    return out


def to_api(o: Organization, base: str) -> OrganizationRead:
    kept = o.tmf_attributes or {}
    return OrganizationRead.model_validate(
        {
            **{k: v for k, v in kept.items() if k != "organizationIdentification"},
            "id": str(o.id),
            "href": f"{base}{PATH}/{o.id}",
            "name": o.name,
            "tradingName": o.trading_name or o.name,
            "organizationType": o.organization_type,
            "isLegalEntity": kept.get("isLegalEntity", True),
            "status": o.status,
            "organizationIdentification": identifications(o),
            "ownerNode": o.owner_node,
            "version": o.version,
            "createdAt": o.created_at,
            "updatedAt": o.updated_at,
        }
    )


@router.get(PATH, summary="List organizations", response_model=list[OrganizationRead])
async def list_organizations(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[OrganizationRead] | JSONResponse:
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_organizations(session, settings=settings, principal=principal, lq=lq)
    return page(response, [to_api(o, base_url(request)) for o in rows], total, lq)


@router.post(PATH, status_code=201, summary="Create an organization")
async def create_organization(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: OrganizationCreate,
    principal: Principal = require("customer:create"),
    _: None = JSON_BODY,
) -> OrganizationRead:
    o = await service.create(session, settings=settings, principal=principal, data=data)
    body = to_api(o, base_url(request))
    response.headers["Location"] = body.href
    return body


@router.get(PATH + "/{organization_id}", summary="Get an organization", response_model=OrganizationRead)
async def get_organization(
    org_id: OrgId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> OrganizationRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    o = await service.get_visible(session, settings=settings, principal=principal, org_id=org_id)
    return one(to_api(o, base_url(request)), lq.fields)


@router.patch(PATH + "/{organization_id}", summary="Update an organization (JSON merge patch)")
async def patch_organization(
    org_id: OrgId,
    request: Request,
    session: Session,
    settings: AppSettings,
    patch: Annotated[OrganizationUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:update"),
    _: None = MERGE_PATCH_BODY,
) -> OrganizationRead:
    o = await service.update(
        session, settings=settings, principal=principal, org_id=org_id, patch=patch, present=present_keys(patch)
    )
    return to_api(o, base_url(request))
