"""The 10000 interface at `/api/v1/service/cs10000`: KA_LOOKUP (real time), the inbound message
endpoint (TICKET_CREATE / TICKET_UPDATE / SURVEY_RESULT), service numbers, the list sync, the outbound
queue and the daily reconciliation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_service.deps import LookupsDep, Now, Token
from kam_service.models.cs10000 import CsReconciliation, ServiceNumber

from . import service
from .schemas import (
    Ack,
    KaListSyncRead,
    LookupRead,
    Message,
    OutboundRead,
    ReconcileRequest,
    ReconciliationRead,
    ServiceNumberPut,
    ServiceNumberRead,
)
from .sender import Sender

BASE = "/api/v1/service/cs10000"
router = APIRouter(prefix=BASE, tags=["cs10000"])

Caller = Annotated[Principal, require("service.cs10000:call")]
Admin = Annotated[Principal, require("service.cs10000:admin")]


def _number_read(request: Request, n: ServiceNumber) -> ServiceNumberRead:
    return ServiceNumberRead.model_validate(
        {
            "id": n.id,
            "href": str(request.url_for("get_service_number", number=n.number)),
            "number": n.number,
            "ownerNode": n.owner_node,
            "version": n.version,
            "customerId": n.customer_id,
            "customerCode": n.customer_code,
            "customerName": n.customer_name,
            "grade": n.grade,
            "accountManager": n.account_manager,
            "priorityRouting": n.priority_routing,
            "status": n.status,
            "updatedAt": n.updated_at,
        }
    )


def _report_read(r: CsReconciliation) -> ReconciliationRead:
    return ReconciliationRead.model_validate(
        {"day": r.day, "queued": r.queued, "acked": r.acked, "mismatches": r.mismatches, "ranAt": r.ran_at}
    )


@router.get("/lookup", response_model=LookupRead)
async def ka_lookup(
    session: Session,
    settings: AppSettings,
    who: Caller,
    calling_number: Annotated[str, Query(alias="callingNumber", min_length=1, max_length=32)],
) -> LookupRead:
    """KA_LOOKUP (大客户识别), real time: calling number → customer code, grade, account manager, priority
    routing and open tickets. Not a key account is 200 with `found: false`."""
    return await service.lookup(session, settings=settings, principal=who, calling_number=calling_number)


@router.post("/message", response_model=Ack)
async def receive_message(
    msg: Message, session: Session, settings: AppSettings, who: Caller, lookups: LookupsDep, token: Token, now: Now
) -> Ack:
    """An inbound interface message (TICKET_CREATE, TICKET_UPDATE, SURVEY_RESULT) in the interface
    envelope. 200 is the ACK (a repeated msg_id: the first answer, `duplicate: true`); a NACK is the
    error envelope with its status (422 bad content, 404 unknown ticket, 409 not allowed now)."""
    return await service.receive(
        session, settings=settings, principal=who, msg=msg, lookups=lookups, token=token, now=now
    )


@router.put("/serviceNumber/{number}", response_model=ServiceNumberRead)
async def put_service_number(
    number: str,
    body: ServiceNumberPut,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Admin,
    lookups: LookupsDep,
    token: Token,
    now: Now,
) -> ServiceNumberRead:
    """Register a key account's service number (业务号码) at this node, or re-point it; 201 when new.
    The customer's facts are read from the customer service now; its KA_LIST_SYNC is queued."""
    n, created = await service.put_number(
        session, settings=settings, principal=who, raw_number=number, body=body, lookups=lookups, token=token, now=now
    )
    if created:
        response.status_code = 201
    return _number_read(request, n)


@router.get("/serviceNumber/{number}", response_model=ServiceNumberRead, name="get_service_number")
async def get_service_number(
    number: str, request: Request, session: Session, settings: AppSettings, who: Caller
) -> ServiceNumberRead:
    """One active service number in the caller's scope."""
    n = await service.get_number(session, settings=settings, principal=who, raw_number=number)
    return _number_read(request, n)


@router.get("/serviceNumber", response_model=list[ServiceNumberRead])
async def list_service_numbers(
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Caller,
    customer_id: Annotated[uuid.UUID, Query(alias="customerId")],
) -> list[ServiceNumberRead]:
    """A customer's service numbers (active and retired) in the caller's scope."""
    rows = await service.numbers_of(session, settings=settings, principal=who, customer_id=customer_id)
    return [_number_read(request, n) for n in rows]


@router.delete("/serviceNumber/{number}", status_code=204)
async def retire_service_number(number: str, session: Session, settings: AppSettings, who: Admin, now: Now) -> Response:
    """Retire a service number (the customer's KA_LIST_SYNC is queued without it)."""
    await service.retire_number(session, settings=settings, principal=who, raw_number=number, now=now)
    return Response(status_code=204)


@router.post("/kaListSync", response_model=KaListSyncRead)
async def ka_list_sync(
    session: Session, settings: AppSettings, who: Admin, lookups: LookupsDep, token: Token, now: Now
) -> KaListSyncRead:
    """The full KA_LIST_SYNC (daily, or now): every customer with numbers here is read again from the
    customer service and its list entry queued where it changed."""
    customers, refreshed, queued = await service.ka_list_sync(
        session, settings=settings, principal=who, lookups=lookups, token=token, now=now
    )
    return KaListSyncRead(customers=customers, refreshed=refreshed, queued=queued)


@router.get("/outbound", response_model=list[OutboundRead])
async def list_outbound(
    response: Response,
    session: Session,
    who: Admin,
    status: Annotated[str | None, Query(pattern="^(PENDING|ACKED|NACKED)$")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[OutboundRead]:
    """The outbound queue (oldest first), by status."""
    rows, total = await service.outbound_page(session, status=status, offset=offset, limit=limit)
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(rows))
    return [OutboundRead.model_validate(r, from_attributes=True) for r in rows]


@router.post("/reconciliation", response_model=ReconciliationRead)
async def run_reconciliation(
    body: ReconcileRequest, request: Request, session: Session, who: Admin
) -> ReconciliationRead:
    """Reconcile one business day now (the sender runs yesterday's by itself): sent vs acknowledged,
    mismatches listed. A rerun replaces the day's report."""
    sender: Sender = request.app.state.cs_sender
    return _report_read(await sender.reconcile(session, day=body.day))


@router.get("/reconciliation/{day}", response_model=ReconciliationRead)
async def get_reconciliation(day: date, session: Session, who: Admin) -> ReconciliationRead:
    """A day's reconciliation report."""
    return _report_read(await service.report_of(session, day=day))
