"""Needs profile (需求档案) endpoints: /api/v1/customer/customers/{id}/needs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from kam_customer.attached import audit_read
from kam_customer.customer.schemas import AuditRecordRead
from kam_platform.api import MERGE_PATCH_BODY, MERGE_PATCH_TYPE, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404

from . import service
from .models import NeedsProfile
from .schemas import FIELDS, NeedsProfileRead, NeedsProfileUpdate

PATH = "/api/v1/customer/customers/{customer_id}/needs"

router = APIRouter(tags=["needs"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]


def to_api(customer_id: uuid.UUID, owner_node: str, p: NeedsProfile | None, base: str) -> NeedsProfileRead:
    return NeedsProfileRead.model_validate(
        {
            "id": str(p.id) if p else None,
            "href": f"{base}{PATH.format(customer_id=customer_id)}",
            "customerId": str(customer_id),
            **{api: (getattr(p, col) if p else None) for api, col in FIELDS.items()},
            "ownerNode": p.owner_node if p else owner_node,
            "version": p.version if p else 0,
            "updatedBy": p.updated_by if p else None,
            "updatedAt": p.updated_at if p else None,
        }
    )


@router.get(PATH, summary="A customer's needs profile")
async def get_needs(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> NeedsProfileRead:
    """The needs profile (network and business situation, technology goals, current product usage,
    decision process, latent needs, business scope, the customer's customers); version 0 until written."""
    cid, owner, p = await service.get(session, settings=settings, principal=principal, customer_id=customer_id)
    return to_api(cid, owner, p, base_url(request))


@router.patch(PATH, summary="Edit a customer's needs profile (JSON merge patch)")
async def patch_needs(
    customer_id: CustomerId,
    request: Request,
    session: Session,
    settings: AppSettings,
    patch: Annotated[NeedsProfileUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:update"),
    _: None = MERGE_PATCH_BODY,
) -> NeedsProfileRead:
    """Written at the customer's owner node (409 NOT_OWNER elsewhere); each change is a new version
    with its audit record (see `/needs/history`)."""
    p = await service.update(
        session,
        settings=settings,
        principal=principal,
        customer_id=customer_id,
        patch=patch,
        present=present_keys(patch),
    )
    return to_api(p.customer_id, p.owner_node, p, base_url(request))


@router.get(PATH + "/history", summary="Versions of a customer's needs profile")
async def needs_history(
    customer_id: CustomerId,
    response: Response,
    session: Session,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("customer.history:read"),
) -> list[AuditRecordRead]:
    """Every change of the profile, newest first: who, when, attribute, old → new."""
    rows, total = await service.history(
        session, settings=settings, principal=principal, customer_id=customer_id, offset=offset, limit=limit
    )
    body = [audit_read(a) for a in rows]
    response.headers.update({"X-Total-Count": str(total), "X-Result-Count": str(len(body))})
    return body
