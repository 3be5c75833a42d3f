"""TMF630 notification listener registration for TMF629 customer events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from kam_platform.api import JSON_BODY
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404

from . import service
from .schemas import EventSubscriptionRead

PATH = "/tmf-api/customerManagement/v4/hub"
router = APIRouter(tags=["customer"])


def _hub_id(hub_id: str) -> uuid.UUID:
    return id_or_404(hub_id, "hub")


HubId = Annotated[uuid.UUID, Depends(_hub_id)]


@router.post(
    PATH,
    status_code=201,
    summary="Register a listener for customer events",
    responses={
        422: {"description": "invalid body, or a callback that resolves to a non-public address"},
        429: {"description": "the user's listener quota is used up"},
    },
)
async def register_listener(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: service.HubCreate,
    principal: Principal = require("customer:read"),
    _: None = JSON_BODY,
) -> EventSubscriptionRead:
    """`{"callback": "https://…/listener", "query": "eventType=CustomerCreateEvent"}`. Events are
    POSTed to the callback (at least once; deduplicate by `eventId`), only for customers within the
    registering user's data scope. The callback must resolve to public addresses (loopback, private,
    link-local… are refused with 422 unless the node allows them); a user holds at most
    `KAM_HUB_MAX_LISTENERS_PER_USER` listeners (429 beyond)."""
    sub = await service.register(session, settings=settings, principal=principal, data=data)
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
async def unregister_listener(
    sub_id: HubId, session: Session, settings: AppSettings, principal: Principal = require("customer:read")
) -> Response:
    """Only the user who registered the listener (or a `customer.hub:admin`) may remove it; for anyone
    else it answers 404."""
    await service.unregister(session, settings=settings, principal=principal, sub_id=sub_id)
    return Response(status_code=204)
