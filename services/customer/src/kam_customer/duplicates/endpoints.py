"""Duplicate detection (疑似重复) endpoints: candidates of a customer or of a customer about to be
created, the scan of the whole scope, and the review queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from kam_customer.customer.views import customer_href
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, parse_list_query

from . import service
from .models import DuplicateCandidate
from .schemas import CandidateRead, DuplicateCheck, PairRead, PairUpdate, Reason, ScanCreate, ScanResult

PATH = "/api/v1/customer/duplicates"
OF_CUSTOMER = "/api/v1/customer/customers/{customer_id}/duplicates"

router = APIRouter(tags=["duplicates"])


def _customer_id(customer_id: str) -> uuid.UUID:
    return id_or_404(customer_id, "customer")


def _pair_id(pair_id: str) -> uuid.UUID:
    return id_or_404(pair_id, "duplicate pair")


CustomerId = Annotated[uuid.UUID, Depends(_customer_id)]
PairId = Annotated[uuid.UUID, Depends(_pair_id)]


def _candidates(items: list[service.Candidate], base: str, response: Response) -> list[CandidateRead]:
    body = [
        CandidateRead(
            customer_id=str(c.id),
            href=customer_href(base, c.id),
            name=c.name,
            customer_code=c.customer_code,
            owner_node=c.owner_node,
            score=score,
            reasons=[Reason.model_validate(r) for r in reasons],
        )
        for c, score, reasons in items
    ]
    response.headers.update({"X-Total-Count": str(len(body)), "X-Result-Count": str(len(body))})
    return body


def _pair(p: DuplicateCandidate) -> PairRead:
    return PairRead(
        id=str(p.id),
        customer_a=str(p.customer_a),
        customer_b=str(p.customer_b),
        owner_a=p.owner_a,
        owner_b=p.owner_b,
        score=p.score,
        reasons=[Reason.model_validate(r) for r in p.reasons],
        status=p.status,
        found_at=p.found_at,
        reviewed_by=p.reviewed_by,
    )


@router.post(PATH + "/check", summary="Duplicate candidates of a customer about to be created")
async def check_duplicates(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: DuplicateCheck,
    principal: Principal = require("customer:read"),
    _: None = JSON_BODY,
) -> list[CandidateRead]:
    """A warning before create or import, never a refusal: visible customers sharing the credit code,
    the normalised name, the address or a contact phone, best score first, with the reasons."""
    items = await service.check(session, settings=settings, principal=principal, data=data)
    return _candidates(items, base_url(request), response)


@router.get(OF_CUSTOMER, summary="Duplicate candidates of a customer")
async def customer_duplicates(
    customer_id: CustomerId,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[CandidateRead]:
    items = await service.for_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    return _candidates(items, base_url(request), response)


@router.post(PATH + "/scan", summary="Scan the whole scope for duplicates (queues them for review)")
async def scan_duplicates(
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:merge"),
    data: ScanCreate | None = None,
    _: None = JSON_BODY,
) -> ScanResult:
    """One GROUP BY per signal over every customer the caller sees: at hq that is the whole country,
    so duplicates across provinces are found. Pairs already reviewed keep their verdict."""
    pairs, by_signal = await service.scan(session, settings=settings, principal=principal)
    return ScanResult(scanned_scope=principal.scope_node, pairs=pairs, by_signal=dict(by_signal))


@router.get(PATH, summary="The duplicate review queue", response_model=list[PairRead])
async def duplicate_queue(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    status: Annotated[str | None, Query(pattern="^(OPEN|DISMISSED|MERGED)$")] = None,
    min_score: Annotated[int, Query(alias="score.gte", ge=0, le=100)] = 0,
    principal: Principal = require("customer:read"),
) -> list[PairRead]:
    """Pairs found by scans at this node whose customers both lie in the caller's scope, best first."""
    lq = parse_list_query(request, {}, (), extra_params=("status", "score.gte"))
    rows, total = await service.queue(
        session, settings=settings, principal=principal, status=status, min_score=min_score, lq=lq
    )
    response.headers.update({"X-Total-Count": str(total), "X-Result-Count": str(len(rows))})
    return [_pair(p) for p in rows]


@router.patch(PATH + "/{pair_id}", summary="Review a duplicate pair (dismiss or reopen)")
async def review_pair(
    pair_id: PairId,
    session: Session,
    settings: AppSettings,
    data: Annotated[PairUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    principal: Principal = require("customer:merge"),
    _: None = MERGE_PATCH_BODY,
) -> PairRead:
    return _pair(
        await service.review(session, settings=settings, principal=principal, pair_id=pair_id, status=data.status)
    )
