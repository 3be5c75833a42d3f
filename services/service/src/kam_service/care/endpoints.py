"""Care plans (/api/v1/service/care/plan), care activities (/api/v1/service/care/activity) and the daily
proposal run on demand (/api/v1/service/care/proposal)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import id_or_404, parse_list_query
from kam_service.deps import LookupsDep, Now, Token

from . import service
from .job import local_day
from .repository import ACTIVITY_FILTERS, PLAN_FILTERS
from .schemas import (
    ACTIVITY_FIELDS,
    PLAN_FIELDS,
    CareActivityCreate,
    CareActivityRead,
    CareActivityUpdate,
    CarePlanCreate,
    CarePlanRead,
    CarePlanUpdate,
    ProposalRead,
)
from .views import ACTIVITIES, PLANS, activity_read, plan_read

router = APIRouter(tags=["care"])

Reader = Annotated[Principal, require("service.care:read")]
Writer = Annotated[Principal, require("service.care:write")]


@router.get(PLANS, response_model=list[CarePlanRead])
async def list_plans(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[CarePlanRead] | JSONResponse:
    """Care plans in scope (a plan spans customers: node-level callers only). Filters: kind, isActive,
    ownerNode, name."""
    lq = parse_list_query(request, PLAN_FILTERS, PLAN_FIELDS)
    rows, total = await service.list_plans(session, settings=settings, principal=who, lq=lq)
    return page(response, [plan_read(request, p) for p in rows], total, lq)


@router.get(PLANS + "/{plan_id}", response_model=CarePlanRead)
async def get_plan(
    plan_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> CarePlanRead | JSONResponse:
    lq = parse_list_query(request, {}, PLAN_FIELDS)
    p = await service.get_plan(session, settings=settings, principal=who, plan_id=id_or_404(plan_id, "carePlan"))
    return one(plan_read(request, p), lq.fields)


@router.post(PLANS, status_code=201, response_model=CarePlanRead)
async def create_plan(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: CarePlanCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> CarePlanRead:
    """A plan for one customer or a segment's customers (targets, at most 200; a birthday greeting names
    each contact and their birthday `monthDay`), its occasion (`MM-DD` yearly or `YYYY-MM-DD` once), lead
    days and budget per target."""
    p = await service.create_plan(
        session, settings=settings, principal=who, data=data, lookups=lookups, token=token, now=now
    )
    body = plan_read(request, p)
    response.headers["Location"] = body.href
    return body


@router.patch(PLANS + "/{plan_id}", response_model=CarePlanRead)
async def update_plan(
    plan_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[CarePlanUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> CarePlanRead:
    p = await service.update_plan(
        session,
        settings=settings,
        principal=who,
        plan_id=id_or_404(plan_id, "carePlan"),
        patch=patch,
        present=present_keys(patch),
        lookups=lookups,
        token=token,
        now=now,
    )
    return plan_read(request, p)


@router.get(ACTIVITIES, response_model=list[CareActivityRead])
async def list_activities(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[CareActivityRead] | JSONResponse:
    """Care activities in scope. Filters: kind, status, dueOn (.gte/.lte), planId, relatedParty.id,
    ownerNode; `q=` searches title and customer."""
    lq = parse_list_query(request, ACTIVITY_FILTERS, ACTIVITY_FIELDS)
    rows, total = await service.list_activities(session, settings=settings, principal=who, lq=lq)
    return page(response, [activity_read(request, a) for a in rows], total, lq)


@router.get(ACTIVITIES + "/{activity_id}", response_model=CareActivityRead)
async def get_activity(
    activity_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> CareActivityRead | JSONResponse:
    lq = parse_list_query(request, {}, ACTIVITY_FIELDS)
    a = await service.get_activity(
        session, settings=settings, principal=who, activity_id=id_or_404(activity_id, "careActivity")
    )
    return one(activity_read(request, a), lq.fields)


@router.post(ACTIVITIES, status_code=201, response_model=CareActivityRead)
async def create_activity(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: CareActivityCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> CareActivityRead:
    """A care activity planned by hand (PLANNED) for a customer and optionally a contact."""
    a = await service.create_activity(
        session, settings=settings, principal=who, data=data, lookups=lookups, token=token, now=now
    )
    body = activity_read(request, a)
    response.headers["Location"] = body.href
    return body


@router.patch(ACTIVITIES + "/{activity_id}", response_model=CareActivityRead)
async def update_activity(
    activity_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[CareActivityUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> CareActivityRead:
    """PROPOSED → PLANNED → DONE (with cost, feedback, satisfaction 1..5), or CANCELLED; 409 names the
    allowed moves."""
    a = await service.update_activity(
        session,
        settings=settings,
        principal=who,
        activity_id=id_or_404(activity_id, "careActivity"),
        patch=patch,
        present=present_keys(patch),
        now=now,
    )
    return activity_read(request, a)


@router.post("/api/v1/service/care/proposal", response_model=ProposalRead)
async def propose(
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    now: Now,
    on: Annotated[date | None, Query(description="the day to propose for (default: today)")] = None,
) -> ProposalRead:
    """Run the daily job's pass now: PROPOSED activities for the occasions due within each active plan's
    lead days (each once; a repeat proposes nothing new)."""
    day = on or local_day(now)
    made = await service.propose_due(session, node=settings.node, today=day, now=now)
    return ProposalRead(on=day, proposed=len(made), activities=[activity_read(request, a) for a in made])
