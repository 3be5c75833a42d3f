"""Dispatch across the tree: POST /api/v1/service/troubleTicket/{id}/dispatch at the reporting node."""

from __future__ import annotations

from fastapi import APIRouter, Request

from kam_platform.api import JSON_BODY
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import id_or_404
from kam_service.deps import LookupsDep, Now, Token
from kam_service.ticket.endpoints import Writer
from kam_service.ticket.schemas import DispatchCreate, DispatchWithdraw, TroubleTicketRead
from kam_service.ticket.views import read

from . import service

router = APIRouter(prefix="/api/v1/service/troubleTicket", tags=["troubleTicket"])


@router.post("/{ticket_id}/dispatch", response_model=TroubleTicketRead)
async def dispatch(
    ticket_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    body: DispatchCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> TroubleTicketRead:
    """派单: hand this node's ticket to a node below (`toNode`, default the customer's owner node). The
    handler accepts it as its own ticket with the same SLA terms; every step it takes is mirrored here
    (`statusChange[].node`), and this ticket takes no writes meanwhile (409)."""
    t = await service.dispatch(
        session,
        settings=settings,
        principal=who,
        ticket_id=id_or_404(ticket_id, "troubleTicket"),
        body=body,
        lookups=lookups,
        token=token,
        now=now,
    )
    return read(request, t)


@router.post("/{ticket_id}/dispatch/withdraw", response_model=TroubleTicketRead)
async def withdraw(
    ticket_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    body: DispatchWithdraw,
    now: Now,
    _: None = JSON_BODY,
) -> TroubleTicketRead:
    """撤回派单: take this node's dispatched ticket back while the handler has not started on it (its
    ticket, as mirrored here, is still acknowledged; 409 naming its status once it has). The withdrawal
    flows down and cancels the handler's ticket; this ticket is handled here again."""
    t = await service.withdraw(
        session, settings=settings, principal=who, ticket_id=id_or_404(ticket_id, "troubleTicket"), body=body, now=now
    )
    return read(request, t)
