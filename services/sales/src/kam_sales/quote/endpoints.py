"""Quotes (报价) at TMF648 `/tmf-api/quoteManagement/v4/quote`: drafting, submission, discount approval,
revisions, and the quote as XLSX or PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings, Settings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.agreement.endpoints import clock
from kam_sales.models import Quote
from kam_sales.money import Money
from kam_sales.people import org_client
from kam_sales.probability import asker

from . import document, service
from .repository import FILTERABLE
from .schemas import Approval, Decision, QuoteCreate, QuoteItemRead, QuoteRead, QuoteUpdate

BASE = "/tmf-api/quoteManagement/v4/quote"
OPPS = "/api/v1/sales/opportunities"
router = APIRouter(tags=["quote"])

Reader = Annotated[Principal, require("sales.quote:read")]
Writer = Annotated[Principal, require("sales.quote:write")]
Approver = Annotated[Principal, require("sales.quote:approve")]
FIELDS = [f.alias or n for n, f in QuoteRead.model_fields.items()]


def _caller(request: Request, settings: Settings, who: Principal) -> service.Caller:
    return service.Caller(principal=who, rules=asker(request, settings), org=org_client(request, settings))


def _ref(request: Request, path: str, rid: object) -> dict[str, str] | None:
    return None if rid is None else {"id": str(rid), "href": href(request, f"{path}/{rid}")}


def read(request: Request, r: Quote) -> QuoteRead:
    return QuoteRead(
        id=str(r.id),
        href=href(request, f"{BASE}/{r.id}"),
        number=r.number,
        quote_version=r.quote_version,
        name=r.name,
        description=r.description,
        customer={"id": str(r.customer_id), "@referredType": "Customer"},
        opportunity=_ref(request, OPPS, r.opportunity_id),
        state=r.status,
        quote_item=[
            QuoteItemRead(
                id=str(it["id"]),
                product_offering={
                    **it["productOffering"],
                    "href": href(
                        request, f"/tmf-api/productCatalogManagement/v4/productOffering/{it['productOffering']['id']}"
                    ),
                },
                quantity=int(it["quantity"]),
                unit_price=Money.model_validate(it["unitPrice"]),
                discount_percent=Decimal(it["discountPercent"]),
                amount=Money.model_validate(it["amount"]),
                note=it.get("note"),
            )
            for it in r.items
        ],
        subtotal=Money(unit=r.currency, value=r.subtotal),
        total=Money(unit=r.currency, value=r.total),
        max_discount_percent=r.max_discount_percent,
        approval=Approval(
            required=r.approval_required,
            rule=r.approval_rule,
            approved_by=r.approved_by,
            note=r.approval_note,
            decided_at=r.decided_at,
        ),
        valid_until=r.valid_until,
        previous_quote=_ref(request, BASE, r.previous_id),
        superseded_by=_ref(request, BASE, r.superseded_by_id),
        account_manager=r.account_manager,
        owner_node=r.owner_node,
        version=r.version,
        created_by=r.created_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


@router.get(BASE, response_model=list[QuoteRead])
async def list_quotes(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[QuoteRead] | JSONResponse:
    """Quotes in the caller's scope. Filters: id, number, name, state, customer.id, opportunity.id,
    accountManager, ownerNode, quoteVersion, total.value, maxDiscountPercent, validUntil, createdAt,
    updatedAt (`state=pending` is the approval work list); sort, fields, offset/limit."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_quotes(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post(BASE, status_code=201, response_model=QuoteRead)
async def create_quote(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: QuoteCreate,
    _: None = JSON_BODY,
) -> QuoteRead:
    """Draft a quote at this node (inProgress; owned here, flows up). Each line's offering must be active
    and sellable here today (422 naming the line otherwise); discounts within the rule's maximum."""
    r = await service.create(
        session, settings=settings, caller=_caller(request, settings, who), data=data, now=clock(request).now()
    )
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get(f"{BASE}/{{quote_id}}", response_model=QuoteRead)
async def get_quote(
    quote_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> QuoteRead | JSONResponse:
    """One quote (404 when unknown or outside the caller's scope)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(session, settings=settings, principal=who, quote_id=id_or_404(quote_id, "quote"))
    return one(read(request, r), lq.fields)


@router.patch(f"{BASE}/{{quote_id}}", response_model=QuoteRead)
async def update_quote(
    quote_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[QuoteUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> QuoteRead:
    """Change a quote (merge patch): its content while inProgress; `state` → accepted (from approved) or
    cancelled (409 naming the allowed moves). Only the owner node writes."""
    r = await service.update(
        session,
        settings=settings,
        caller=_caller(request, settings, who),
        quote_id=id_or_404(quote_id, "quote"),
        patch=patch,
        present=present_keys(patch),
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{quote_id}}/submit", response_model=QuoteRead)
async def submit_quote(
    quote_id: str, request: Request, session: Session, settings: AppSettings, who: Writer
) -> QuoteRead:
    """Submit a quote in progress: approved at once when its largest discount is within the
    `quote_discount_approval` rule's threshold, else pending the account manager's manager."""
    r = await service.submit(
        session,
        settings=settings,
        caller=_caller(request, settings, who),
        quote_id=id_or_404(quote_id, "quote"),
        now=clock(request).now(),
    )
    return read(request, r)


async def _decide(
    quote_id: str,
    request: Request,
    session: Session,
    settings: Settings,
    who: Principal,
    approve: bool,
    note: str | None,
) -> QuoteRead:
    r = await service.decide(
        session,
        settings=settings,
        caller=_caller(request, settings, who),
        quote_id=id_or_404(quote_id, "quote"),
        approve=approve,
        note=note,
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{quote_id}}/approve", response_model=QuoteRead)
async def approve_quote(
    quote_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Approver,
    data: Annotated[Decision | None, Body()] = None,
) -> QuoteRead:
    """Approve a pending quote's discount. Only a manager of the quote's account manager (a leader of a
    team they are in, per org) who neither drafted nor manages the quote (403 SEPARATION_OF_DUTIES;
    403 NOT_APPROVER naming the approvers otherwise)."""
    return await _decide(quote_id, request, session, settings, who, True, data.note if data else None)


@router.post(f"{BASE}/{{quote_id}}/reject", response_model=QuoteRead)
async def reject_quote(
    quote_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Approver,
    data: Annotated[Decision | None, Body()] = None,
) -> QuoteRead:
    """Reject a pending quote's discount (the same approver as `approve`); revise it to try again."""
    return await _decide(quote_id, request, session, settings, who, False, data.note if data else None)


@router.post(f"{BASE}/{{quote_id}}/revise", status_code=201, response_model=QuoteRead)
async def revise_quote(
    quote_id: str, request: Request, response: Response, session: Session, settings: AppSettings, who: Writer
) -> QuoteRead:
    """A new version of the quote (same number, quoteVersion + 1, inProgress, the same lines) linked to
    this one (`previousQuote` / `supersededBy`); this one is superseded."""
    r = await service.revise(
        session,
        settings=settings,
        caller=_caller(request, settings, who),
        quote_id=id_or_404(quote_id, "quote"),
        now=clock(request).now(),
    )
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get(
    f"{BASE}/{{quote_id}}/document",
    response_class=Response,
    responses={
        200: {
            "description": "The quote as a document (报价单)",
            "content": {
                document.PDF_TYPE: {"schema": {"type": "string", "format": "binary"}},
                document.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def quote_document(
    quote_id: str,
    session: Session,
    settings: AppSettings,
    who: Reader,
    format: Annotated[Literal["pdf", "xlsx"], Query(description="pdf (default) or xlsx")] = "pdf",
) -> Response:
    """The quote for the customer as PDF (CJK text in the reader's STSong-Light) or XLSX."""
    r = await service.get_visible(session, settings=settings, principal=who, quote_id=id_or_404(quote_id, "quote"))
    body, media = (document.xlsx(r), document.XLSX_TYPE) if format == "xlsx" else (document.pdf(r), document.PDF_TYPE)
    name = document.file_name(r, format)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
