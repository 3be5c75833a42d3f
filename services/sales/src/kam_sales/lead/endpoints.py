"""Sales leads (线索) at TMF699 `/tmf-api/sales/v4/salesLead`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.models import SalesLead
from kam_sales.money import Money
from kam_sales.opportunity import service as opportunity_service
from kam_sales.opportunity.endpoints import BASE as OPPS
from kam_sales.opportunity.endpoints import read as read_opportunity
from kam_sales.opportunity.schemas import OpportunityRead
from kam_sales.probability import asker

from . import service
from .repository import FILTERABLE
from .schemas import LeadConvert, LeadCreate, LeadRead, LeadUpdate

BASE = "/tmf-api/sales/v4/salesLead"
router = APIRouter(prefix=BASE, tags=["salesLead"])

# leads are the front of the pipeline: the opportunity permissions cover them
Reader = Annotated[Principal, require("sales.opportunity:read")]
Writer = Annotated[Principal, require("sales.opportunity:write")]
FIELDS = [f.alias or n for n, f in LeadRead.model_fields.items()]


def read(request: Request, r: SalesLead) -> LeadRead:
    return LeadRead(
        id=str(r.id),
        href=href(request, f"{BASE}/{r.id}"),
        name=r.name,
        description=r.description,
        status=r.status,
        status_reason=r.status_reason,
        rating=r.rating,
        source=r.source,
        customer={"id": str(r.customer_id), "@referredType": "Customer"} if r.customer_id else None,
        prospect_name=r.prospect_name,
        estimated_revenue=Money(unit=r.currency, value=r.estimated_revenue)
        if r.estimated_revenue is not None
        else None,
        products=r.products,
        account_manager=r.account_manager,
        sales_opportunity=(
            {"id": str(r.opportunity_id), "href": href(request, f"{OPPS}/{r.opportunity_id}")}
            if r.opportunity_id
            else None
        ),
        owner_node=r.owner_node,
        version=r.version,
        created_by=r.created_by,
        creation_date=r.created_at,
        status_change_date=r.updated_at,
    )


@router.get("", response_model=list[LeadRead])
async def list_leads(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[LeadRead] | JSONResponse:
    """Leads in the caller's scope. Filters: id, name, status, rating, source, customer.id, accountManager,
    ownerNode, creationDate, statusChangeDate; sort, fields, offset/limit."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_leads(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post("", status_code=201, response_model=LeadRead)
async def create_lead(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: LeadCreate,
    _: None = JSON_BODY,
) -> LeadRead:
    """Record a lead at this node (owned here, flows up): a customer's interest or a prospect's."""
    r = await service.create(session, settings=settings, principal=who, data=data)
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get("/{lead_id}", response_model=LeadRead)
async def get_lead(
    lead_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> LeadRead | JSONResponse:
    """One lead (404 when unknown or outside the caller's scope)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(session, settings=settings, principal=who, lead_id=id_or_404(lead_id, "salesLead"))
    return one(read(request, r), lq.fields)


@router.patch("/{lead_id}", response_model=LeadRead)
async def update_lead(
    lead_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[LeadUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> LeadRead:
    """Change a lead (merge patch); `status` new ⇄ qualified → rejected (with `statusReason`), 409 naming
    the allowed moves; only the owner node writes."""
    r = await service.update(
        session,
        settings=settings,
        principal=who,
        lead_id=id_or_404(lead_id, "salesLead"),
        patch=patch,
        present=present_keys(patch),
    )
    return read(request, r)


@router.post("/{lead_id}/convert", status_code=201, response_model=OpportunityRead)
async def convert_lead(
    lead_id: str,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: LeadConvert,
    _: None = JSON_BODY,
) -> OpportunityRead:
    """Convert the lead into an opportunity at this node (source LEAD, the lead's products); answers the
    opportunity (201, `Location` names it); the lead is converted and links it (`salesOpportunity`)."""
    caller = opportunity_service.Caller(principal=who, rules=asker(request, settings))
    o = await service.convert(
        session, settings=settings, caller=caller, lead_id=id_or_404(lead_id, "salesLead"), data=data
    )
    body = read_opportunity(request, o)
    response.headers["Location"] = body.href
    return body
