"""Merge (客户合并) endpoints: merge duplicates into a survivor, list and read merges, reverse one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, one, page
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, parse_list_query

from . import service
from .models import CustomerMerge
from .repository import FILTERABLE
from .schemas import MergeCreate, MergeRead, MergeReverse

PATH = "/api/v1/customer/merges"
FIELDS = (
    "survivorId",
    "victimIds",
    "status",
    "choices",
    "moved",
    "mergedBy",
    "reversibleUntil",
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
)

router = APIRouter(tags=["merge"])


def _merge_id(merge_id: str) -> uuid.UUID:
    return id_or_404(merge_id, "merge")


MergeId = Annotated[uuid.UUID, Depends(_merge_id)]


def to_api(m: CustomerMerge, base: str) -> MergeRead:
    return MergeRead(
        id=str(m.id),
        href=f"{base}{PATH}/{m.id}",
        survivor_id=str(m.survivor_id),
        victim_ids=[str(v) for v in m.victim_ids],
        status=m.status,
        choices=m.choices,
        moved=service.moved_counts(m),
        merged_by=m.merged_by,
        reversible_until=m.reversible_until,
        owner_node=m.owner_node,
        version=m.version,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


@router.post(PATH, status_code=201, summary="Merge duplicate customers into a survivor")
async def create_merge(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: MergeCreate,
    principal: Principal = require("customer:merge"),
    _: None = JSON_BODY,
) -> MergeRead:
    """At the node that owns the survivor and every victim (409 naming the owner elsewhere). Contacts,
    competitor presence, the decision map, the needs profile and branches move to the survivor; the
    survivor takes the chosen attribute values; each victim is kept soft-deleted and its GET answers 308
    to the survivor. Reversible within `reversibleUntil` (`POST …/{id}/reverse`)."""
    m = await service.merge(session, settings=settings, principal=principal, data=data)
    item = to_api(m, base_url(request))
    response.headers["Location"] = item.href
    return item


@router.get(PATH, summary="Merges in the caller's scope", response_model=list[MergeRead])
async def list_merges(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[MergeRead] | JSONResponse:
    """TMF630 list: filter by `survivorId`, `status` (MERGED, REVERSED), `ownerNode`, `mergedBy`, `createdAt`."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_merges(session, settings=settings, principal=principal, lq=lq)
    base = base_url(request)
    return page(response, [to_api(m, base) for m in rows], total, lq)


@router.get(PATH + "/{merge_id}", summary="A merge", response_model=MergeRead)
async def get_merge(
    merge_id: MergeId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> MergeRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    m = await service.get(session, settings=settings, principal=principal, merge_id=merge_id)
    return one(to_api(m, base_url(request)), lq.fields)


@router.post(PATH + "/{merge_id}/reverse", summary="Reverse a merge within its window")
async def reverse_merge(
    merge_id: MergeId,
    request: Request,
    session: Session,
    settings: AppSettings,
    data: MergeReverse,
    principal: Principal = require("customer:merge"),
    _: None = JSON_BODY,
) -> MergeRead:
    """At the merge's owner, until `reversibleUntil` (then 409): the victims live again with what moved
    from them; the survivor's attributes go back unless edited since."""
    m = await service.reverse(session, settings=settings, principal=principal, merge_id=merge_id, reason=data.reason)
    return to_api(m, base_url(request))
