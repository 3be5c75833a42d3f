"""Experts (/api/v1/service/expert) and expert requests (/api/v1/service/expertRequest)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_service.deps import LookupsDep, Now, Token
from kam_service.models.care import Expert, ExpertRequest

from . import service
from .repository import REQUEST_FILTERS
from .schemas import (
    REQUEST_FIELDS,
    AssignExpert,
    ExpertCreate,
    ExpertRead,
    ExpertRequestCreate,
    ExpertRequestRead,
    ExpertUpdate,
    NoteIn,
    OutcomeCreate,
    PartyRead,
)
from .states import RequestStatus

EXPERTS = "/api/v1/service/expert"
REQUESTS = "/api/v1/service/expertRequest"
DOCUMENTS = "/api/v1/service/document"
router = APIRouter(tags=["expert"])

Reader = Annotated[Principal, require("service.expert:read")]
Manager = Annotated[Principal, require("service.expert:write")]
Requester = Annotated[Principal, require("service.expert:request")]


def expert_read(request: Request, e: Expert) -> ExpertRead:
    return ExpertRead(
        id=str(e.id),
        href=href(request, f"{EXPERTS}/{e.id}"),
        username=e.username,
        name=e.name,
        domains=list(e.domains),
        industries=list(e.industries),
        is_active=e.is_active,
        owner_node=e.owner_node,
        version=e.version,
        last_update=e.updated_at,
    )


def request_read(request: Request, r: ExpertRequest) -> ExpertRequestRead:
    return ExpertRequestRead(
        id=str(r.id),
        href=href(request, f"{REQUESTS}/{r.id}"),
        subject=r.subject,
        description=r.description or "",
        domain=r.domain,
        industry=r.industry,
        related_party=[PartyRead(id=str(r.customer_id), role="customer", name=r.customer_name)],
        requested_by=r.requested_by,
        status=RequestStatus(r.status),
        expert=PartyRead(id=str(r.expert_id), role="expert", name=r.expert_name) if r.expert_id else None,
        outcome_summary=r.outcome_summary,
        outcome_document=PartyRead(
            id=str(r.outcome_document_id), role="solution", name=href(request, f"{DOCUMENTS}/{r.outcome_document_id}")
        )
        if r.outcome_document_id
        else None,
        owner_node=r.owner_node,
        version=r.version,
        creation_date=r.created_at,
        last_update=r.updated_at,
    )


@router.get(EXPERTS, response_model=list[ExpertRead])
async def list_experts(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Reader,
    domain: Annotated[str | None, Query(max_length=32)] = None,
    industry: Annotated[str | None, Query(max_length=32)] = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
) -> list[ExpertRead]:
    """The experts this node calls on: its own pool and its ancestors' (专家库), by name."""
    rows = await service.list_experts(session, settings=settings, domain=domain, industry=industry, active=is_active)
    response.headers["X-Total-Count"] = response.headers["X-Result-Count"] = str(len(rows))
    return [expert_read(request, e) for e in rows]


@router.get(EXPERTS + "/{expert_id}", response_model=ExpertRead)
async def get_expert(
    expert_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> ExpertRead:
    return expert_read(
        request, await service.get_expert(session, settings=settings, expert_id=id_or_404(expert_id, "expert"))
    )


@router.post(EXPERTS, status_code=201, response_model=ExpertRead)
async def create_expert(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Manager,
    data: ExpertCreate,
    now: Now,
    _: None = JSON_BODY,
) -> ExpertRead:
    """Register an expert in this node's pool (the group or a province: the pool serves its subtree; a
    local network gets 409)."""
    e = await service.create_expert(session, settings=settings, principal=who, data=data, now=now)
    body = expert_read(request, e)
    response.headers["Location"] = body.href
    return body


@router.patch(EXPERTS + "/{expert_id}", response_model=ExpertRead)
async def update_expert(
    expert_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Manager,
    patch: Annotated[ExpertUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> ExpertRead:
    e = await service.update_expert(
        session, settings=settings, principal=who, expert_id=id_or_404(expert_id, "expert"), patch=patch,
        present=present_keys(patch), now=now,
    )  # fmt: skip
    return expert_read(request, e)


@router.get(REQUESTS, response_model=list[ExpertRequestRead])
async def list_requests(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[ExpertRequestRead] | JSONResponse:
    """Expert requests in scope. Filters: status, domain, industry, ownerNode, requestedBy,
    relatedParty.id; `q=` searches subject and customer."""
    lq = parse_list_query(request, REQUEST_FILTERS, REQUEST_FIELDS)
    rows, total = await service.list_requests(session, settings=settings, principal=who, lq=lq)
    return page(response, [request_read(request, r) for r in rows], total, lq)


@router.get(REQUESTS + "/{request_id}", response_model=ExpertRequestRead)
async def get_request(
    request_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> ExpertRequestRead | JSONResponse:
    lq = parse_list_query(request, {}, REQUEST_FIELDS)
    r = await service.get_request(
        session, settings=settings, principal=who, request_id=id_or_404(request_id, "expertRequest")
    )
    return one(request_read(request, r), lq.fields)


@router.post(REQUESTS, status_code=201, response_model=ExpertRequestRead)
async def create_request(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Requester,
    data: ExpertRequestCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> ExpertRequestRead:
    """An account manager asks for an expert on a customer's case (domain, industry)."""
    r = await service.create_request(
        session, settings=settings, principal=who, data=data, lookups=lookups, token=token, now=now
    )
    body = request_read(request, r)
    response.headers["Location"] = body.href
    return body


@router.post(REQUESTS + "/{request_id}/assign", response_model=ExpertRequestRead)
async def assign(
    request_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Manager,
    body: AssignExpert,
    now: Now,
    _: None = JSON_BODY,
) -> ExpertRequestRead:
    """Assign an expert (`expertId`), or `{}`: the best match of the pools here (domain, industry,
    fewest open requests, nearest pool)."""
    r = await service.assign(
        session, settings=settings, principal=who, request_id=id_or_404(request_id, "expertRequest"), body=body,
        now=now,
    )  # fmt: skip
    return request_read(request, r)


@router.post(REQUESTS + "/{request_id}/outcome", response_model=ExpertRequestRead)
async def outcome(
    request_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Reader,
    body: OutcomeCreate,
    now: Now,
    _: None = JSON_BODY,
) -> ExpertRequestRead:
    """The expert's answer: a summary and the technical solution document (a document of the same
    customer). Given by the assigned expert or a `service.expert:write` holder."""
    r = await service.answer(
        session, settings=settings, principal=who, request_id=id_or_404(request_id, "expertRequest"), body=body,
        now=now,
    )  # fmt: skip
    return request_read(request, r)


@router.post(REQUESTS + "/{request_id}/close", response_model=ExpertRequestRead)
async def close(
    request_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Requester,
    body: NoteIn,
    now: Now,
    _: None = JSON_BODY,
) -> ExpertRequestRead:
    """The requester's side accepts the outcome."""
    r = await service.finish(
        session, settings=settings, principal=who, request_id=id_or_404(request_id, "expertRequest"),
        to=RequestStatus.CLOSED, note=body.note, now=now,
    )  # fmt: skip
    return request_read(request, r)


@router.post(REQUESTS + "/{request_id}/cancel", response_model=ExpertRequestRead)
async def cancel(
    request_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Requester,
    body: NoteIn,
    now: Now,
    _: None = JSON_BODY,
) -> ExpertRequestRead:
    r = await service.finish(
        session, settings=settings, principal=who, request_id=id_or_404(request_id, "expertRequest"),
        to=RequestStatus.CANCELLED, note=body.note, now=now,
    )  # fmt: skip
    return request_read(request, r)
