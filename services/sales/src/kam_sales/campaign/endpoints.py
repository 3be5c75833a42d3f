"""Campaigns (营销活动, F7) at `/api/v1/sales/campaigns`: authoring, approval, launch, the target work
list, contact attempts and responses, and the evaluation rolled up the tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.agreement.endpoints import clock
from kam_sales.agreement.schemas import Period
from kam_sales.customers import directory
from kam_sales.models import Campaign
from kam_sales.money import Money
from kam_sales.opportunity import service as opportunity_service
from kam_sales.probability import asker

from . import service
from .repository import FILTERABLE
from .schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    ContactAttempt,
    Evaluation,
    EvaluationLine,
    TargetRead,
    TargetResponse,
)

BASE = "/api/v1/sales/campaigns"
OPPS = "/api/v1/sales/opportunities"
router = APIRouter(tags=["campaign"])

Reader = Annotated[Principal, require("sales.campaign:read")]
Writer = Annotated[Principal, require("sales.campaign:write")]
Approver = Annotated[Principal, require("sales.campaign:approve")]
# working a target is front-line pipeline work (a conversion creates an opportunity)
Worker = Annotated[Principal, require("sales.opportunity:write")]
FIELDS = [f.alias or n for n, f in CampaignRead.model_fields.items()]


def read(request: Request, r: Campaign) -> CampaignRead:
    return CampaignRead(
        id=str(r.id),
        href=href(request, f"{BASE}/{r.id}"),
        name=r.name,
        objective=r.objective,
        segment=r.segment,
        offers=r.offers,
        channel=r.channel,
        budget=Money(unit=r.currency, value=r.budget),
        period=Period(start_date_time=r.valid_from, end_date_time=r.valid_to),
        status=r.status,
        approved_by=r.approved_by,
        approved_at=r.approved_at,
        launched_at=r.launched_at,
        closed_at=r.closed_at,
        owner_node=r.owner_node,
        version=r.version,
        created_by=r.created_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def read_target(request: Request, t: service.Target) -> TargetRead:
    w = t.response
    return TargetRead(
        campaign={"id": str(t.campaign.id), "href": href(request, f"{BASE}/{t.campaign.id}")},
        customer={"id": t.customer_id, "name": t.name, "@referredType": "Customer"},
        node=t.node,
        account_manager=t.account_manager,
        attempts=[{k: str(v) for k, v in a.items()} for a in (w.attempts if w else [])],
        response=w.response if w else "none",
        responded_at=w.responded_at if w else None,
        opportunity=(
            {"id": str(w.opportunity_id), "href": href(request, f"{OPPS}/{w.opportunity_id}")}
            if w and w.opportunity_id
            else None
        ),
    )


@router.get(BASE, response_model=list[CampaignRead])
async def list_campaigns(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[CampaignRead] | JSONResponse:
    """Campaigns authored in the caller's subtree or launched by an ancestor (a draft only at its author).
    Filters: id, name, status, channel, ownerNode, budget.value, period.startDateTime,
    period.endDateTime, target.customer.id (campaigns with that customer in a target list held here),
    createdBy, createdAt, updatedAt; sort, fields, offset/limit."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_campaigns(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post(BASE, status_code=201, response_model=CampaignRead)
async def create_campaign(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: CampaignCreate,
    _: None = JSON_BODY,
) -> CampaignRead:
    """Draft a campaign at this node (offers: active offerings in force here)."""
    r = await service.create(session, settings=settings, principal=who, data=data, now=clock(request).now())
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get(f"{BASE}/{{campaign_id}}", response_model=CampaignRead)
async def get_campaign(
    campaign_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> CampaignRead | JSONResponse:
    """One campaign (404 when unknown or not visible here)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(
        session, settings=settings, principal=who, campaign_id=id_or_404(campaign_id, "campaign")
    )
    return one(read(request, r), lq.fields)


@router.patch(f"{BASE}/{{campaign_id}}", response_model=CampaignRead)
async def update_campaign(
    campaign_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[CampaignUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> CampaignRead:
    """Change a draft (merge patch). Only the author node writes (409 NOT_OWNER elsewhere)."""
    r = await service.update(
        session,
        settings=settings,
        principal=who,
        campaign_id=id_or_404(campaign_id, "campaign"),
        patch=patch,
        present=present_keys(patch),
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{campaign_id}}/approve", response_model=CampaignRead)
async def approve_campaign(
    campaign_id: str, request: Request, session: Session, settings: AppSettings, who: Approver
) -> CampaignRead:
    """draft → approved, by someone other than the author (403 SEPARATION_OF_DUTIES)."""
    r = await service.approve(
        session,
        settings=settings,
        principal=who,
        campaign_id=id_or_404(campaign_id, "campaign"),
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{campaign_id}}/launch", response_model=CampaignRead)
async def launch_campaign(
    campaign_id: str, request: Request, session: Session, settings: AppSettings, who: Writer
) -> CampaignRead:
    """approved → running: the segment's customers in the launcher's scope (asked of the customer
    service with the launcher's token) become one target list per part of this node's subtree (per
    province at the group), which flow down to be worked where each customer is."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ").removeprefix("bearer ").strip()
    r, _ = await service.launch(
        session,
        settings=settings,
        principal=who,
        campaign_id=id_or_404(campaign_id, "campaign"),
        directory=directory(request, settings),
        token=token,
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{campaign_id}}/close", response_model=CampaignRead)
async def close_campaign(
    campaign_id: str, request: Request, session: Session, settings: AppSettings, who: Writer
) -> CampaignRead:
    """running → closed: no more work on its targets."""
    r = await service.close(
        session,
        settings=settings,
        principal=who,
        campaign_id=id_or_404(campaign_id, "campaign"),
        now=clock(request).now(),
    )
    return read(request, r)


@router.get(f"{BASE}/{{campaign_id}}/targets", response_model=list[TargetRead])
async def list_targets(
    campaign_id: str,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Reader,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    customer_id: Annotated[str | None, Query(alias="customer.id", max_length=400)] = None,
) -> list[TargetRead]:
    """The campaign's targets in the caller's scope (the target work list), with their attempts and
    response so far; sorted by node, then name. `customer.id=` (comma = OR): those customers only (the
    customer's 360 view asks for its own response)."""
    rows = await service.targets(
        session, settings=settings, principal=who, campaign_id=id_or_404(campaign_id, "campaign")
    )
    if customer_id is not None:
        wanted = {x.strip().lower() for x in customer_id.split(",") if x.strip()}
        rows = [t for t in rows if t.customer_id.lower() in wanted]
    chosen = rows[offset : offset + limit]
    response.headers.update({"X-Total-Count": str(len(rows)), "X-Result-Count": str(len(chosen))})
    return [read_target(request, t) for t in chosen]


@router.post(f"{BASE}/{{campaign_id}}/targets/{{customer_id}}/attempt", response_model=TargetRead)
async def contact_attempt(
    campaign_id: str,
    customer_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Worker,
    data: ContactAttempt,
    _: None = JSON_BODY,
) -> TargetRead:
    """Record a contact attempt (触达) on a target held at this node (409 NOT_OWNER naming the node that
    works it otherwise)."""
    t = await service.attempt(
        session,
        settings=settings,
        principal=who,
        campaign_id=id_or_404(campaign_id, "campaign"),
        customer_id=str(id_or_404(customer_id, "customer")),
        data=data,
        now=clock(request).now(),
    )
    return read_target(request, t)


@router.post(f"{BASE}/{{campaign_id}}/targets/{{customer_id}}/response", response_model=TargetRead)
async def target_response(
    campaign_id: str,
    customer_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Worker,
    data: TargetResponse,
    _: None = JSON_BODY,
) -> TargetRead:
    """The target's response: interested, notInterested, or converted with the opportunity it becomes
    (source CAMPAIGN, created in the same transaction); 409 naming the allowed moves."""
    t = await service.respond(
        session,
        settings=settings,
        caller=opportunity_service.Caller(principal=who, rules=asker(request, settings)),
        campaign_id=id_or_404(campaign_id, "campaign"),
        customer_id=str(id_or_404(customer_id, "customer")),
        data=data,
        now=clock(request).now(),
    )
    return read_target(request, t)


def _eval_line(line: dict[str, object], unit: str) -> EvaluationLine:
    cpr = line["cost_per_response"]
    return EvaluationLine(
        node=str(line["node"]),
        targets=int(str(line["targets"])),
        contacted=int(str(line["contacted"])),
        responders=int(str(line["responders"])),
        conversions=int(str(line["conversions"])),
        response_rate=line["response_rate"],
        pipeline=Money(unit=unit, value=line["pipeline"]),
        won=Money(unit=unit, value=line["won"]),
        cost=Money(unit=unit, value=line["cost"]),
        cost_per_response=Money(unit=unit, value=cpr) if cpr is not None else None,
    )


@router.get(f"{BASE}/{{campaign_id}}/evaluation", response_model=Evaluation)
async def campaign_evaluation(
    campaign_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Reader,
    node: Annotated[str | None, Query(max_length=32)] = None,
) -> Evaluation:
    """The campaign's figures at a node (default: the caller's scope node): one line for its own
    customers and one per child (its subtree rolled up), and the total — targets, contacted, responders,
    conversions, response rate (CAMPAIGN_RESP), the converted opportunities' pipeline and won amounts,
    the budget's share and cost per response."""
    c, target, total, lines = await service.evaluation(
        session, settings=settings, principal=who, campaign_id=id_or_404(campaign_id, "campaign"), node=node
    )
    return Evaluation(
        campaign={"id": str(c.id), "href": href(request, f"{BASE}/{c.id}"), "name": c.name},
        node=target,
        total=_eval_line(total, c.currency),
        lines=[_eval_line(x, c.currency) for x in lines],
    )
