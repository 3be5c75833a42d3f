"""Competitor presence (竞争信息) endpoints: per customer and across customers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_customer.attached import audit_read
from kam_customer.customer.schemas import AuditRecordRead
from kam_customer.customer.views import customer_href
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import ListQuery, base_url, id_or_404, parse_list_query

from . import service
from .models import CompetitorPresence
from .repository import FILTERABLE
from .schemas import CompetitorPresenceCreate, CompetitorPresenceRead, CompetitorPresenceUpdate

PATH = "/api/v1/customer/competitors"
PER_CUSTOMER = "/api/v1/customer/customers/{customer_id}/competitors"
FIELDS = (
    "customer",
    "competitor",
    "productsHeld",
    "offers",
    "contractEnd",
    "source",
    "observedOn",
    "note",
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
)

router = APIRouter(tags=["competitor"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


def _presence_id(presence_id: str) -> uuid.UUID:
    return id_or_404(presence_id, "competitor presence")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]
PresenceId = Annotated[uuid.UUID, Depends(_presence_id)]


def to_api(p: CompetitorPresence, base: str) -> CompetitorPresenceRead:
    return CompetitorPresenceRead.model_validate(
        {
            "id": str(p.id),
            "href": f"{base}{PATH}/{p.id}",
            "customer": {"id": str(p.customer_id), "href": customer_href(base, p.customer_id)},
            "competitor": p.competitor,
            "productsHeld": list(p.products_held or []),
            "offers": p.offers,
            "contractEnd": p.contract_end,
            "source": p.source,
            "observedOn": p.observed_on,
            "note": p.note,
            "ownerNode": p.owner_node,
            "version": p.version,
            "createdAt": p.created_at,
            "updatedAt": p.updated_at,
        }
    )


async def _list(
    request: Request, response: Response, session: Session, settings: AppSettings, principal: Principal, lq: ListQuery
) -> list[CompetitorPresenceRead] | JSONResponse:
    rows, total = await service.page(session, settings=settings, principal=principal, lq=lq)
    base = base_url(request)
    return page(response, [to_api(p, base) for p in rows], total, lq)


@router.get(PATH, summary="Competitor presence across customers", response_model=list[CompetitorPresenceRead])
async def list_competitors(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[CompetitorPresenceRead] | JSONResponse:
    """TMF630 list within the caller's scope: filter by `competitor`, `productsHeld` (any of),
    `contractEnd.lte` (contracts ending soon), `observedOn`, `customer.id`, `ownerNode`; `q=` searches
    the competitor and the offers."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    return await _list(request, response, session, settings, principal, lq)


@router.get(PER_CUSTOMER, summary="A customer's competitor presence", response_model=list[CompetitorPresenceRead])
async def list_customer_competitors(
    customer_id: CustomerId,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[CompetitorPresenceRead] | JSONResponse:
    """The list above for one customer (404 when the customer is not visible)."""
    await service.check_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    lq.filters.append(("customer.id", "eq", [str(customer_id)]))
    return await _list(request, response, session, settings, principal, lq)


@router.post(PER_CUSTOMER, status_code=201, summary="Record a competitor's presence at a customer")
async def create_competitor(
    customer_id: CustomerId,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: CompetitorPresenceCreate,
    principal: Principal = require("customer:update"),
    _: None = JSON_BODY,
) -> CompetitorPresenceRead:
    """Written at the customer's owner node (409 NOT_OWNER elsewhere)."""
    p = await service.create(session, settings=settings, principal=principal, customer_id=customer_id, data=data)
    item = to_api(p, base_url(request))
    response.headers["Location"] = item.href
    return item


@router.get(PATH + "/{presence_id}", summary="One competitor presence", response_model=CompetitorPresenceRead)
async def get_competitor(
    presence_id: PresenceId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> CompetitorPresenceRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    p = await service.get_visible(session, settings=settings, principal=principal, presence_id=presence_id)
    return one(to_api(p, base_url(request)), lq.fields)


@router.patch(PATH + "/{presence_id}", summary="Edit a competitor presence (JSON merge patch)")
async def patch_competitor(
    presence_id: PresenceId,
    request: Request,
    session: Session,
    settings: AppSettings,
    patch: Annotated[CompetitorPresenceUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:update"),
    _: None = MERGE_PATCH_BODY,
) -> CompetitorPresenceRead:
    p = await service.update(
        session,
        settings=settings,
        principal=principal,
        presence_id=presence_id,
        patch=patch,
        present=present_keys(patch),
    )
    return to_api(p, base_url(request))


@router.delete(PATH + "/{presence_id}", status_code=204, summary="Remove a competitor presence")
async def delete_competitor(
    presence_id: PresenceId,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:update"),
) -> Response:
    await service.delete(session, settings=settings, principal=principal, presence_id=presence_id)
    return Response(status_code=204)


@router.get(PATH + "/{presence_id}/history", summary="Versions of a competitor presence")
async def competitor_history(
    presence_id: PresenceId,
    response: Response,
    session: Session,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("customer.history:read"),
) -> list[AuditRecordRead]:
    rows, total = await service.history(
        session, settings=settings, principal=principal, presence_id=presence_id, offset=offset, limit=limit
    )
    body = [audit_read(a) for a in rows]
    response.headers.update({"X-Total-Count": str(total), "X-Result-Count": str(len(body))})
    return body
