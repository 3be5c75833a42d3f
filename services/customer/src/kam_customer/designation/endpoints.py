"""National key-account list (全国大客户名录) endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kam_customer.customer.views import customer_href
from kam_customer.models import Designation, DesignationResponse
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, read_json_object, read_merge_patch, validate_model

from . import service

PATH = "/api/v1/customer/designations"
router = APIRouter(tags=["national key accounts"])


def _designation_id(designation_id: str) -> uuid.UUID:
    return id_or_404(designation_id, "designation")


DesignationId = Annotated[uuid.UUID, Depends(_designation_id)]


def response_to_api(r: DesignationResponse) -> dict[str, Any]:
    return {
        "node": r.owner_node,
        "status": r.status,
        "reason": r.reason,
        "accountManager": r.account_manager,
        "accountManagerName": r.account_manager_name,
        "respondedBy": r.responded_by,
        "version": r.version,
        "updatedAt": r.updated_at.isoformat(),
    }


def to_api(d: Designation, base: str, responses: list[DesignationResponse]) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "href": f"{base}{PATH}/{d.id}",
        "@type": "NationalKeyAccountDesignation",
        "customer": {
            "id": str(d.customer_id),
            "href": customer_href(base, d.customer_id),
            "name": d.customer_name,
            "customerCode": d.customer_code,
            "ownerNode": d.customer_owner_node,
        },
        "grade": d.grade,
        "groupAccountManager": d.group_account_manager,
        "groupAccountManagerName": d.group_account_manager_name,
        "serviceLevel": d.service_level,
        "status": d.status,
        "note": d.note,
        "designatedBy": d.designated_by,
        "ownerNode": d.owner_node,
        "version": d.version,
        "updatedAt": d.updated_at.isoformat(),
        "responses": [response_to_api(r) for r in responses],
    }


@router.post(PATH, status_code=201, summary="Designate a national key account (group only)")
async def designate(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer.designation:write"),
) -> JSONResponse:
    data = validate_model(
        service.DesignationCreate, await read_json_object(request, allowed_types={"application/json"})
    )
    d = await service.designate(session, settings=settings, principal=principal, data=data)
    body = to_api(d, base_url(request), [])
    return JSONResponse(body, status_code=201, headers={"Location": body["href"]})


@router.get(PATH, summary="List national key-account designations in scope")
async def list_designations(
    request: Request,
    session: Session,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    status: str | None = Query(None, pattern="^(ACTIVE|WITHDRAWN)$"),
    principal: Principal = require("customer:read"),
) -> JSONResponse:
    rows, total = await service.list_designations(
        session, settings=settings, principal=principal, offset=offset, limit=limit, status=status
    )
    responses = await service.responses_for(session, [d.id for d in rows])
    body = [to_api(d, base_url(request), responses[d.id]) for d in rows]
    return JSONResponse(body, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(body))})


@router.get(PATH + "/{designation_id}", summary="A designation and where it stands at each node")
async def get_designation(
    designation_id: DesignationId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> dict[str, Any]:
    d = await service.get_visible(session, settings=settings, principal=principal, designation_id=designation_id)
    return to_api(d, base_url(request), (await service.responses_for(session, [d.id]))[d.id])


@router.patch(PATH + "/{designation_id}", summary="Change or withdraw a designation (group only)")
async def patch_designation(
    designation_id: DesignationId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer.designation:write"),
) -> dict[str, Any]:
    patch, present = await read_merge_patch(request, service.DesignationUpdate)
    d = await service.update(
        session, settings=settings, principal=principal, designation_id=designation_id, patch=patch, present=present
    )
    return to_api(d, base_url(request), (await service.responses_for(session, [d.id]))[d.id])


@router.put(PATH + "/{designation_id}/response", summary="This node's answer: acknowledge, dispute or assign")
async def respond(
    designation_id: DesignationId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer.designation:respond"),
) -> dict[str, Any]:
    """A province ACKNOWLEDGED or DISPUTED (with a reason); a local network ASSIGNED (with its
    accountManager). One answer per node, replaced by a newer one; it flows up to the group."""
    data = validate_model(service.ResponseCreate, await read_json_object(request, allowed_types={"application/json"}))
    r = await service.respond(session, settings=settings, principal=principal, designation_id=designation_id, data=data)
    return response_to_api(r)
