"""National key-account list (全国大客户名录) endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from kam_customer.customer.views import customer_href
from kam_customer.models import Designation, DesignationResponse
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404

from . import service
from .schemas import DesignatedCustomer, DesignationRead, DesignationResponseRead

PATH = "/api/v1/customer/designations"
router = APIRouter(tags=["national key accounts"])


def _designation_id(designation_id: str) -> uuid.UUID:
    return id_or_404(designation_id, "designation")


DesignationId = Annotated[uuid.UUID, Depends(_designation_id)]


def response_to_api(r: DesignationResponse) -> DesignationResponseRead:
    return DesignationResponseRead.model_validate(
        {
            "node": r.owner_node,
            "status": r.status,
            "reason": r.reason,
            "accountManager": r.account_manager,
            "accountManagerName": r.account_manager_name,
            "respondedBy": r.responded_by,
            "version": r.version,
            "updatedAt": r.updated_at,
        }
    )


def to_api(d: Designation, base: str, responses: list[DesignationResponse]) -> DesignationRead:
    return DesignationRead.model_validate(
        {
            "id": str(d.id),
            "href": f"{base}{PATH}/{d.id}",
            "customer": DesignatedCustomer(
                id=str(d.customer_id),
                href=customer_href(base, d.customer_id),
                name=d.customer_name,
                customer_code=d.customer_code,
                owner_node=d.customer_owner_node,
            ),
            "grade": d.grade,
            "groupAccountManager": d.group_account_manager,
            "groupAccountManagerName": d.group_account_manager_name,
            "serviceLevel": d.service_level,
            "status": d.status,
            "note": d.note,
            "designatedBy": d.designated_by,
            "ownerNode": d.owner_node,
            "version": d.version,
            "updatedAt": d.updated_at,
            "responses": [response_to_api(r) for r in responses],
        }
    )


@router.post(PATH, status_code=201, summary="Designate a national key account (group only)")
async def designate(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: service.DesignationCreate,
    principal: Principal = require("customer.designation:write"),
    _: None = JSON_BODY,
) -> DesignationRead:
    d = await service.designate(session, settings=settings, principal=principal, data=data)
    body = to_api(d, base_url(request), [])
    response.headers["Location"] = body.href
    return body


@router.get(PATH, summary="List national key-account designations in scope")
async def list_designations(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    status: str | None = Query(None, pattern="^(ACTIVE|WITHDRAWN)$"),
    principal: Principal = require("customer:read"),
) -> list[DesignationRead]:
    rows, total = await service.list_designations(
        session, settings=settings, principal=principal, offset=offset, limit=limit, status=status
    )
    responses = await service.responses_for(session, [d.id for d in rows])
    body = [to_api(d, base_url(request), responses[d.id]) for d in rows]
    response.headers.update({"X-Total-Count": str(total), "X-Result-Count": str(len(body))})
    return body


@router.get(PATH + "/{designation_id}", summary="A designation and where it stands at each node")
async def get_designation(
    designation_id: DesignationId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> DesignationRead:
    d = await service.get_visible(session, settings=settings, principal=principal, designation_id=designation_id)
    return to_api(d, base_url(request), (await service.responses_for(session, [d.id]))[d.id])


@router.patch(PATH + "/{designation_id}", summary="Change or withdraw a designation (group only)")
async def patch_designation(
    designation_id: DesignationId,
    request: Request,
    session: Session,
    settings: AppSettings,
    patch: Annotated[service.DesignationUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer.designation:write"),
    _: None = MERGE_PATCH_BODY,
) -> DesignationRead:
    d = await service.update(
        session,
        settings=settings,
        principal=principal,
        designation_id=designation_id,
        patch=patch,
        present=present_keys(patch),
    )
    return to_api(d, base_url(request), (await service.responses_for(session, [d.id]))[d.id])


@router.put(PATH + "/{designation_id}/response", summary="This node's answer: acknowledge, dispute or assign")
async def respond(
    designation_id: DesignationId,
    session: Session,
    settings: AppSettings,
    data: service.ResponseCreate,
    principal: Principal = require("customer.designation:respond"),
    _: None = JSON_BODY,
) -> DesignationResponseRead:
    """A province ACKNOWLEDGED or DISPUTED (with a reason); a local network ASSIGNED (with its
    accountManager). One answer per node, replaced by a newer one; it flows up to the group."""
    r = await service.respond(session, settings=settings, principal=principal, designation_id=designation_id, data=data)
    return response_to_api(r)
