"""Opportunities (销售机会) at /api/v1/sales/opportunities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings, Settings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.models import Opportunity
from kam_sales.probability import asker

from . import service
from .repository import FILTERABLE
from .schemas import OpportunityCreate, OpportunityRead, OpportunityUpdate, StageChange

BASE = "/api/v1/sales/opportunities"
router = APIRouter(prefix=BASE, tags=["opportunity"])

Reader = Annotated[Principal, require("sales.opportunity:read")]
Writer = Annotated[Principal, require("sales.opportunity:write")]
FIELDS = [f.alias or n for n, f in OpportunityRead.model_fields.items()]


def _caller(request: Request, settings: Settings, who: Principal) -> service.Caller:
    return service.Caller(principal=who, rules=asker(request, settings))


def read(request: Request, r: Opportunity) -> OpportunityRead:
    return OpportunityRead.model_validate(
        {
            "id": str(r.id),
            "href": href(request, f"{BASE}/{r.id}"),
            "name": r.name,
            "description": r.description,
            "customer": {"id": str(r.customer_id), "@referredType": "Customer"},
            "source": r.source,
            "stage": r.stage,
            "probability": r.probability,
            "probabilityRule": r.probability_rule,
            "expectedAmount": {"unit": r.currency, "value": r.expected_amount},
            "weightedAmount": service.weighted(r),
            "closeDate": r.close_date,
            "competitor": r.competitor,
            "accountManager": r.account_manager,
            "closeReason": r.close_reason,
            "products": r.products,
            "decisionChain": r.decision_chain,
            "nextFollowUp": {"at": r.next_follow_up_at, "note": r.follow_up_note} if r.next_follow_up_at else None,
            "ownerNode": r.owner_node,
            "version": r.version,
            "createdBy": r.created_by,
            "createdAt": r.created_at,
            "updatedAt": r.updated_at,
            "closedAt": r.closed_at,
        }
    )


@router.get("", response_model=list[OpportunityRead])
async def list_opportunities(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[OpportunityRead] | JSONResponse:
    """Opportunities in the caller's scope (its node's subtree, or its portfolio). Filters: id,
    customer.id, name, stage, source, probability, accountManager, ownerNode, expectedAmount.value,
    closeDate, nextFollowUp.at (e.g. `nextFollowUp.at.lte=` for due follow-ups), competitor, version,
    createdAt, updatedAt; sort, fields, offset/limit."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_opportunities(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post("", status_code=201, response_model=OpportunityRead)
async def create_opportunity(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: OpportunityCreate,
    _: None = JSON_BODY,
) -> OpportunityRead:
    """Open an opportunity at this node (it is owned here and flows up the tree). The probability is the
    effective opportunity_probability rule's for the stage; products must be sellable at this node."""
    r = await service.create(session, settings=settings, caller=_caller(request, settings, who), data=data)
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get("/{opportunity_id}", response_model=OpportunityRead)
async def get_opportunity(
    opportunity_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> OpportunityRead | JSONResponse:
    """One opportunity (404 when unknown or outside the caller's scope)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(
        session, settings=settings, principal=who, opportunity_id=id_or_404(opportunity_id, "opportunity")
    )
    return one(read(request, r), lq.fields)


@router.patch("/{opportunity_id}", response_model=OpportunityRead)
async def update_opportunity(
    opportunity_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[OpportunityUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> OpportunityRead:
    """Change an opportunity (JSON merge patch). `stage` moves it (409 naming the allowed moves; WON and
    LOST need `closeReason`); only the owner node writes (409 NOT_OWNER at a replica)."""
    r = await service.update(
        session,
        settings=settings,
        caller=_caller(request, settings, who),
        opportunity_id=id_or_404(opportunity_id, "opportunity"),
        patch=patch,
        present=present_keys(patch),
    )
    return read(request, r)


@router.get("/{opportunity_id}/stageHistory", response_model=list[StageChange])
async def stage_history(
    opportunity_id: str, request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[StageChange] | JSONResponse:
    """Every stage the opportunity went through, oldest first, with the probability then, who and why."""
    lq = parse_list_query(request, {}, ("from", "to", "probability", "at", "by", "reason"))
    r = await service.get_visible(
        session, settings=settings, principal=who, opportunity_id=id_or_404(opportunity_id, "opportunity")
    )
    items = [StageChange.model_validate(h) for h in r.stage_history]
    return page(response, items[lq.offset : lq.offset + lq.limit], len(items), lq)
