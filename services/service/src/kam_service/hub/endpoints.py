"""TMF630 notification listener registration for TMF621 trouble ticket events."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from kam_platform.api import JSON_BODY, ReadModel
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404

from . import service

PATH = "/tmf-api/troubleTicket/v4/hub"
router = APIRouter(tags=["troubleTicket"])

Reader = Annotated[Principal, require("service.ticket:read")]


class EventSubscriptionRead(ReadModel):
    id: str
    href: str
    callback: str
    query: str | None
    type_: Annotated[Literal["EventSubscription"], Field(alias="@type")] = "EventSubscription"


def _hub_id(hub_id: str) -> uuid.UUID:
    return id_or_404(hub_id, "hub")


HubId = Annotated[uuid.UUID, Depends(_hub_id)]


@router.post(
    PATH,
    status_code=201,
    summary="Register a listener for trouble ticket events",
    responses={
        403: {"description": "a portfolio-scoped token (a listener outlives the portfolio)"},
        422: {"description": "invalid body, or a callback that resolves to a non-public address"},
        429: {"description": "the user's listener quota is used up"},
    },
)
async def register_listener(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Reader,
    data: service.HubCreate,
    _: None = JSON_BODY,
) -> EventSubscriptionRead:
    """`{"callback": "https://…/listener", "query": "eventType=TroubleTicketStatusChangeEvent"}`. The
    node's own ticket events (TroubleTicketCreateEvent, TroubleTicketStatusChangeEvent,
    TroubleTicketAttributeValueChangeEvent) are POSTed to the callback at least once (deduplicate by
    `eventId`), only for tickets within the registering user's data scope."""
    sub = await service.register(session, settings=settings, principal=who, data=data)
    body = EventSubscriptionRead(
        id=str(sub.id), href=href(request, f"{PATH}/{sub.id}"), callback=sub.callback, query=sub.query
    )
    response.headers["Location"] = body.href
    return body


@router.delete(
    PATH + "/{hub_id}",
    status_code=204,
    summary="Unregister a listener",
    responses={404: {"description": "no such listener, or not registered by the caller"}},
)
async def unregister_listener(sub_id: HubId, session: Session, settings: AppSettings, who: Reader) -> Response:
    """Only the user who registered the listener (or a `service.hub:admin`) may remove it."""
    await service.unregister(session, settings=settings, principal=who, sub_id=sub_id)
    return Response(status_code=204)
