"""Customer visits (客户拜访) at `/api/v1/sales/visits`, visit completion (VISIT_DONE) at
`/api/v1/sales/visitCompletion`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.agreement.endpoints import clock
from kam_sales.models import Visit

from . import service
from .repository import FILTERABLE
from .schemas import (
    Completion,
    CompletionLine,
    FollowUp,
    Participant,
    VisitCreate,
    VisitRead,
    VisitRecord,
    VisitUpdate,
)

BASE = "/api/v1/sales/visits"
OPPS = "/api/v1/sales/opportunities"
router = APIRouter(tags=["visit"])

# visits are the front line's work on the same pipeline: the opportunity permissions
Reader = Annotated[Principal, require("sales.opportunity:read")]
Writer = Annotated[Principal, require("sales.opportunity:write")]
FIELDS = [f.alias or n for n, f in VisitRead.model_fields.items()]


def read(request: Request, r: Visit) -> VisitRead:
    return VisitRead(
        id=str(r.id),
        href=href(request, f"{BASE}/{r.id}"),
        customer={"id": str(r.customer_id), "@referredType": "Customer"},
        opportunity=(
            {"id": str(r.opportunity_id), "href": href(request, f"{OPPS}/{r.opportunity_id}")}
            if r.opportunity_id
            else None
        ),
        subject=r.subject,
        purpose=r.purpose,
        location=r.location,
        status=r.status,
        planned_at=r.planned_at,
        visited_at=r.visited_at,
        participants=[Participant.model_validate(p) for p in r.participants],
        outcome=r.outcome,
        minutes=r.minutes,
        follow_ups=[FollowUp.model_validate({k: v for k, v in f.items() if k != "id"}) for f in r.follow_ups],
        account_manager=r.account_manager,
        owner_node=r.owner_node,
        version=r.version,
        created_by=r.created_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


@router.get(BASE, response_model=list[VisitRead])
async def list_visits(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[VisitRead] | JSONResponse:
    """Visits in the caller's scope (the visit calendar: `plannedAt.gte=&plannedAt.lt=`). Filters: id,
    customer.id, opportunity.id, status, outcome, subject, accountManager, ownerNode, plannedAt,
    visitedAt, createdAt, updatedAt; sort, fields, offset/limit."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_visits(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post(BASE, status_code=201, response_model=VisitRead)
async def plan_visit(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: VisitCreate,
    _: None = JSON_BODY,
) -> VisitRead:
    """Plan a visit at this node (planned; owned here, flows up)."""
    r = await service.create(session, settings=settings, principal=who, data=data, now=clock(request).now())
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get(f"{BASE}/{{visit_id}}", response_model=VisitRead)
async def get_visit(
    visit_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> VisitRead | JSONResponse:
    """One visit (404 when unknown or outside the caller's scope)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(session, settings=settings, principal=who, visit_id=id_or_404(visit_id, "visit"))
    return one(read(request, r), lq.fields)


@router.patch(f"{BASE}/{{visit_id}}", response_model=VisitRead)
async def update_visit(
    visit_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[VisitUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> VisitRead:
    """Change a visit (merge patch): the plan while planned, `status: cancelled`, `followUps` at any time
    (409 naming the allowed moves otherwise). Only the owner node writes."""
    r = await service.update(
        session,
        settings=settings,
        principal=who,
        visit_id=id_or_404(visit_id, "visit"),
        patch=patch,
        present=present_keys(patch),
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{visit_id}}/record", response_model=VisitRead)
async def record_visit(
    visit_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: VisitRecord,
    _: None = JSON_BODY,
) -> VisitRead:
    """Record a planned visit (拜访记录): participants, outcome, minutes and follow-up tasks; it is done."""
    r = await service.record(
        session,
        settings=settings,
        principal=who,
        visit_id=id_or_404(visit_id, "visit"),
        data=data,
        now=clock(request).now(),
    )
    return read(request, r)


@router.get("/api/v1/sales/visitCompletion", response_model=Completion)
async def visit_completion(
    session: Session,
    settings: AppSettings,
    who: Reader,
    start: date,
    end: Annotated[date, Query(description="exclusive")],
    node: Annotated[str | None, Query(max_length=32)] = None,
    by: Literal["node", "accountManager"] = "node",
) -> Completion:
    """Visit completion (VISIT_DONE, 拜访完成率) of the visits planned in [start, end) in the caller's scope:
    planned (not cancelled), done, and done ÷ planned — by node (one line for the node's own and one per
    child, its subtree rolled up) or by account manager."""
    target, lines = await service.completion(
        session, settings=settings, principal=who, node=node, start=start, end=end, by=by
    )
    return Completion(
        node=target,
        start=start,
        end=end,
        by=by,
        lines=[
            CompletionLine(
                node=line["key"] if by == "node" else None,
                account_manager=line["key"] if by == "accountManager" else None,
                planned=line["planned"],
                done=line["done"],
                rate=line["rate"],
            )
            for line in lines
        ],
    )
