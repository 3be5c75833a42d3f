"""TMF632 organization endpoints: the legal entities behind key accounts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kam_customer.customer.views import ORGANIZATION_PATH as PATH
from kam_customer.models import Organization
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
)
from kam_platform.tmf import validate_model as validate

from . import service
from .repository import FILTERABLE

FIELDS = (
    "name",
    "tradingName",
    "organizationType",
    "isLegalEntity",
    "status",
    "organizationIdentification",
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
)
router = APIRouter(tags=["party"])


def _org_id(organization_id: str) -> uuid.UUID:
    return id_or_404(organization_id, "organization")


OrgId = Annotated[uuid.UUID, Depends(_org_id)]


def to_api(o: Organization, base: str) -> dict[str, Any]:
    return {
        "id": str(o.id),
        "href": f"{base}{PATH}/{o.id}",
        "@type": "Organization",
        "name": o.name,
        "tradingName": o.trading_name,
        "organizationType": o.organization_type,
        "isLegalEntity": True,
        "status": o.status,
        "organizationIdentification": [{"identificationType": "USCC", "identificationId": o.credit_code}]
        if o.credit_code
        else [],
        "ownerNode": o.owner_node,
        "version": o.version,
        "createdAt": o.created_at.isoformat(),
        "updatedAt": o.updated_at.isoformat(),
    }


@router.get(PATH, summary="List organizations")
async def list_organizations(
    request: Request, session: Session, settings: AppSettings, principal: Principal = require("customer:read")
) -> JSONResponse:
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_organizations(session, settings=settings, principal=principal, lq=lq)
    return list_response([to_api(o, base_url(request)) for o in rows], total, lq)


@router.post(PATH, status_code=201, summary="Create an organization")
async def create_organization(
    request: Request, session: Session, settings: AppSettings, principal: Principal = require("customer:create")
) -> JSONResponse:
    data = validate(service.OrganizationCreate, await read_json_object(request, allowed_types={"application/json"}))
    o = await service.create(session, settings=settings, principal=principal, data=data)
    body = to_api(o, base_url(request))
    return JSONResponse(body, status_code=201, headers={"Location": body["href"]})


@router.get(PATH + "/{organization_id}", summary="Get an organization")
async def get_organization(
    org_id: OrgId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> dict[str, Any]:
    lq = parse_list_query(request, {}, FIELDS)
    o = await service.get_visible(session, settings=settings, principal=principal, org_id=org_id)
    return project(to_api(o, base_url(request)), lq.fields)


@router.patch(PATH + "/{organization_id}", summary="Update an organization (JSON merge patch)")
async def patch_organization(
    org_id: OrgId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> dict[str, Any]:
    patch, present = await read_merge_patch(request, service.OrganizationUpdate)
    o = await service.update(
        session, settings=settings, principal=principal, org_id=org_id, patch=patch, present=present
    )
    return to_api(o, base_url(request))
