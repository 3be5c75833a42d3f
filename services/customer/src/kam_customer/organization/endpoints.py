"""TMF632 organization endpoints: the legal entities behind key accounts."""

from __future__ import annotations

import uuid
from typing import Annotated

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
from .schemas import OrganizationIdentificationRead, OrganizationRead

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


def to_api(o: Organization, base: str) -> OrganizationRead:
    return OrganizationRead(
        id=str(o.id),
        href=f"{base}{PATH}/{o.id}",
        name=o.name,
        trading_name=o.trading_name,
        organization_type=o.organization_type,
        is_legal_entity=True,
        status=o.status,
        organization_identification=[
            OrganizationIdentificationRead(identification_type="USCC", identification_id=o.credit_code)
        ]
        if o.credit_code
        else [],
        owner_node=o.owner_node,
        version=o.version,
        created_at=o.created_at,
        updated_at=o.updated_at,
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
    data: service.OrganizationCreate,
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
    patch: Annotated[service.OrganizationUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:update"),
    _: None = MERGE_PATCH_BODY,
) -> OrganizationRead:
    o = await service.update(
        session, settings=settings, principal=principal, org_id=org_id, patch=patch, present=present_keys(patch)
    )
    return to_api(o, base_url(request))
