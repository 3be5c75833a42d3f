"""TMF621 trouble tickets (/tmf-api/troubleTicket/v4/troubleTicket) and their KAM extras (revisit,
audit trail under /api/v1/service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import id_or_404, parse_list_query
from kam_service.assignment.schemas import AssignCreate
from kam_service.deps import LookupsDep, Now, Token
from kam_service.models import Audit

from . import service
from .repository import FILTERABLE
from .schemas import FIELDS, AuditRecordRead, RevisitCreate, TroubleTicketCreate, TroubleTicketRead, TroubleTicketUpdate
from .views import read

BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
router = APIRouter(prefix=BASE, tags=["troubleTicket"])
extras = APIRouter(prefix="/api/v1/service/troubleTicket", tags=["troubleTicket"])

Reader = Annotated[Principal, require("service.ticket:read")]
Writer = Annotated[Principal, require("service.ticket:write")]


@router.get("", response_model=list[TroubleTicketRead])
async def list_tickets(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[TroubleTicketRead] | JSONResponse:
    """Tickets in the caller's data scope (this node's and, at an ancestor, its subtree's replicas).
    Filters: status, ticketType, channel, priority, customerGrade, ownerNode, handler, externalId,
    affectedService, relatedParty.id, creationDate, lastUpdate, sla.resolveDueAt, sla.resolveBreached,
    sla.responseBreached, sla.escalationLevel; `q=` searches name, customer and affected service."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_tickets(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, t) for t in rows], total, lq)


@router.get("/{ticket_id}", response_model=TroubleTicketRead)
async def get_ticket(
    ticket_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> TroubleTicketRead | JSONResponse:
    """One ticket with its status history (statusChange) and SLA record."""
    lq = parse_list_query(request, {}, FIELDS)
    t = await service.get_ticket(
        session, settings=settings, principal=who, ticket_id=id_or_404(ticket_id, "troubleTicket")
    )
    return one(read(request, t), lq.fields)


@router.post("", status_code=201, response_model=TroubleTicketRead)
async def create_ticket(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: TroubleTicketCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> TroubleTicketRead:
    """Accept a ticket at this node: the SLA deadlines follow the effective SLA rule for the customer's
    grade and the ticket type."""
    t = await service.create_ticket(
        session, settings=settings, principal=who, data=data, lookups=lookups, token=token, now=now
    )
    body = read(request, t)
    response.headers["Location"] = body.href
    return body


@router.patch("/{ticket_id}", response_model=TroubleTicketRead)
async def update_ticket(
    ticket_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[TroubleTicketUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> TroubleTicketRead:
    """Change a ticket (JSON merge patch); `status` moves it (409 naming the allowed statuses)."""
    t = await service.update_ticket(
        session,
        settings=settings,
        principal=who,
        ticket_id=id_or_404(ticket_id, "troubleTicket"),
        patch=patch,
        present=present_keys(patch),
        now=now,
    )
    return read(request, t)


@extras.post("/{ticket_id}/revisit", response_model=TroubleTicketRead)
async def revisit(
    ticket_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    body: RevisitCreate,
    now: Now,
    _: None = JSON_BODY,
) -> TroubleTicketRead:
    """回访 on a resolved ticket: satisfied closes it with the survey; dissatisfied reopens it."""
    t = await service.revisit(
        session, settings=settings, principal=who, ticket_id=id_or_404(ticket_id, "troubleTicket"), body=body, now=now
    )
    return read(request, t)


@extras.post("/{ticket_id}/assign", response_model=TroubleTicketRead)
async def assign(
    ticket_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    body: AssignCreate,
    now: Now,
    _: None = JSON_BODY,
) -> TroubleTicketRead:
    """改派 (audited): `{"handler": …}` names the handler; `{"queueId": …}` lets that queue's rule pick;
    `{}` applies the rule again (422 when no queue serves the ticket)."""
    t = await service.reassign(
        session, settings=settings, principal=who, ticket_id=id_or_404(ticket_id, "troubleTicket"), body=body, now=now
    )
    return read(request, t)


def _audit(a: Audit) -> AuditRecordRead:
    return AuditRecordRead(
        id=str(a.id),
        entity_type=a.entity_type,
        entity_id=str(a.entity_id),
        action=a.action,
        actor=a.actor,
        at=a.at,
        changes=a.changes,
        note=a.note,
        owner_node=a.owner_node,
    )


@extras.get("/{ticket_id}/audit", response_model=list[AuditRecordRead])
async def audit(ticket_id: str, session: Session, settings: AppSettings, who: Reader) -> list[AuditRecordRead]:
    """The ticket's append-only audit trail (who, when, what changed)."""
    rows = await service.audit_of(
        session, settings=settings, principal=who, ticket_id=id_or_404(ticket_id, "troubleTicket")
    )
    return [_audit(a) for a in rows]
