"""Contracts (合同) at TMF651 `/tmf-api/agreementManagement/v4/agreement`, their expiry reminders at
`/api/v1/sales/agreementReminder`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_sales.clock import Clock
from kam_sales.models import Agreement, AgreementReminder
from kam_sales.money import Money
from kam_sales.probability import asker

from . import service
from .repository import FILTERABLE, REMINDER_FILTERABLE
from .schemas import AgreementCreate, AgreementRead, AgreementRenew, AgreementUpdate, Period, ReminderRead

BASE = "/tmf-api/agreementManagement/v4/agreement"
REMINDERS = "/api/v1/sales/agreementReminder"
OPPS = "/api/v1/sales/opportunities"
router = APIRouter(tags=["agreement"])

Reader = Annotated[Principal, require("sales.agreement:read")]
Writer = Annotated[Principal, require("sales.agreement:write")]
FIELDS = [f.alias or n for n, f in AgreementRead.model_fields.items()]
REMINDER_FIELDS = [f.alias or n for n, f in ReminderRead.model_fields.items()]


def clock(request: Request) -> Clock:
    c: Clock = request.app.state.clock
    return c


def _ref(request: Request, path: str, rid: object) -> dict[str, str] | None:
    return None if rid is None else {"id": str(rid), "href": href(request, f"{path}/{rid}")}


def read(request: Request, r: Agreement) -> AgreementRead:
    return AgreementRead(
        id=str(r.id),
        href=href(request, f"{BASE}/{r.id}"),
        number=r.number,
        agreement_version=r.agreement_version,
        name=r.name,
        description=r.description,
        customer={"id": str(r.customer_id), "@referredType": "Customer"},
        status=r.status,
        signed_date=r.signed_date,
        agreement_period=Period(start_date_time=r.start_date, end_date_time=r.end_date),
        amount=Money(unit=r.currency, value=r.amount),
        terms=r.terms,
        opportunity=_ref(request, OPPS, r.opportunity_id),
        quote={"id": r.quote_id} if r.quote_id else None,
        sla_reference=r.sla_reference,
        renewal_status=r.renewal_status,
        previous_agreement=_ref(request, BASE, r.previous_id),
        renewed_by=_ref(request, BASE, r.renewed_by_id),
        account_manager=r.account_manager,
        owner_node=r.owner_node,
        version=r.version,
        created_by=r.created_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def read_reminder(request: Request, r: AgreementReminder) -> ReminderRead:
    return ReminderRead(
        id=str(r.id),
        href=href(request, f"{REMINDERS}?id={r.id}"),
        agreement=_ref(request, BASE, r.agreement_id) or {},
        offset_days=r.offset_days,
        due_on=r.due_on,
        end_date=r.end_date,
        account_manager=r.account_manager,
        rule=r.rule,
        reminded_at=r.reminded_at,
    )


@router.get(BASE, response_model=list[AgreementRead])
async def list_agreements(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[AgreementRead] | JSONResponse:
    """Contracts in the caller's scope. Filters: id, number, name, status, customer.id, accountManager,
    ownerNode, renewalStatus, agreementVersion, agreementPeriod.endDateTime (`.lte=` is the expiry list),
    agreementPeriod.startDateTime, amount.value, signedDate, updatedAt; sort, fields, offset/limit."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_agreements(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post(BASE, status_code=201, response_model=AgreementRead)
async def create_agreement(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: AgreementCreate,
    _: None = JSON_BODY,
) -> AgreementRead:
    """Draft a contract at this node (inProgress; owned here, flows up). The number is unique at the node."""
    r = await service.create(session, settings=settings, principal=who, data=data, now=clock(request).now())
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get(f"{BASE}/{{agreement_id}}", response_model=AgreementRead)
async def get_agreement(
    agreement_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> AgreementRead | JSONResponse:
    """One contract (404 when unknown or outside the caller's scope)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(
        session, settings=settings, principal=who, agreement_id=id_or_404(agreement_id, "agreement")
    )
    return one(read(request, r), lq.fields)


@router.patch(f"{BASE}/{{agreement_id}}", response_model=AgreementRead)
async def update_agreement(
    agreement_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[AgreementUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> AgreementRead:
    """Change a contract (merge patch): terms while inProgress; `status` inProgress → signed (with
    `signedDate`) → terminated, or inProgress → cancelled (409 naming the allowed moves);
    `renewalStatus: notRenewed` stops its reminders. Only the owner node writes."""
    r = await service.update(
        session,
        settings=settings,
        principal=who,
        agreement_id=id_or_404(agreement_id, "agreement"),
        patch=patch,
        present=present_keys(patch),
        now=clock(request).now(),
    )
    return read(request, r)


@router.post(f"{BASE}/{{agreement_id}}/renew", status_code=201, response_model=AgreementRead)
async def renew_agreement(
    agreement_id: str,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: AgreementRenew,
    _: None = JSON_BODY,
) -> AgreementRead:
    """Renew a signed contract: a new version (same number, agreementVersion + 1) linked to this one
    (`previousAgreement` / `renewedBy`); this one is marked renewed and reminds no more."""
    r = await service.renew(
        session,
        settings=settings,
        principal=who,
        agreement_id=id_or_404(agreement_id, "agreement"),
        data=data,
        now=clock(request).now(),
    )
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get(REMINDERS, response_model=list[ReminderRead])
async def list_reminders(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[ReminderRead] | JSONResponse:
    """Expiry reminders given at this node (合同到期提醒), in scope. Filters: agreement.id, offsetDays, dueOn,
    endDate, accountManager, remindedAt."""
    lq = parse_list_query(request, REMINDER_FILTERABLE, REMINDER_FIELDS)
    rows, total = await service.list_reminders(session, settings=settings, principal=who, lq=lq)
    return page(response, [read_reminder(request, r) for r in rows], total, lq)


@router.post(f"{REMINDERS}/run", response_model=list[ReminderRead])
async def run_reminders(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Writer
) -> list[ReminderRead]:
    """Run the expiry-reminder job now (the schedule runs it too), with the reminder rule in force at this
    node asked with the caller's token; answers the reminders this run gave (none twice)."""
    rows = await service.remind_due(
        session, settings=settings, now=clock(request).now(), ask=asker(request, settings), actor=who.username
    )
    response.headers["X-Total-Count"] = str(len(rows))
    return [read_reminder(request, r) for r in rows]
