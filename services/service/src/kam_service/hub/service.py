"""Listener registration (TMF630 /hub) for TMF621 trouble ticket events, on the platform's hub
(`kam_platform.hub`: delivery at least once, per-listener back-off, the SSRF guard).

The node's own ticket events become TMF621 events: TroubleTicketCreateEvent (a new ticket),
TroubleTicketStatusChangeEvent (a status move) and TroubleTicketAttributeValueChangeEvent (anything
else: handler, priority, escalation, SLA facts), delivered to listeners within the registering user's
scope. Snapshots (resync) are not changes and are not delivered.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import envelope_pb2
from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.api import ApiModel
from kam_platform.auth import Principal
from kam_platform.hub import Hub, HubFeed, check_callback_url, check_query
from kam_platform.settings import Settings
from kam_service.models.hub import HubDelivery, HubSubscription
from kam_service.ticket.events import AGGREGATE, SERVICE, TICKET_CHANGED

CREATE = "TroubleTicketCreateEvent"
STATUS = "TroubleTicketStatusChangeEvent"
ATTRIBUTES = "TroubleTicketAttributeValueChangeEvent"
EVENT_TYPES = (CREATE, STATUS, ATTRIBUTES)
TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"


class HubCreate(ApiModel):
    callback: Annotated[str, Field(min_length=8, max_length=2000)]
    query: Annotated[str | None, Field(max_length=500)] = None

    @field_validator("callback")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_callback_url(v)

    @field_validator("query")
    @classmethod
    def _query(cls, v: str | None) -> str | None:
        return check_query(v, set(EVENT_TYPES))


def event_kind(msg: service_pb2.TroubleTicketChanged) -> str:
    if msg.change == "created" or (not msg.change and msg.ticket.version == 1):
        return CREATE
    if msg.change == "status":
        return STATUS
    return ATTRIBUTES


def tmf_event(env: envelope_pb2.Envelope, base_url: str) -> tuple[dict[str, Any], str] | None:
    """A ticket event as its TMF621 event, and the ticket's owner node (who may hear it)."""
    if env.event_type != TICKET_CHANGED or env.snapshot:
        return None
    msg = service_pb2.TroubleTicketChanged.FromString(env.payload)
    t = msg.ticket
    kind = event_kind(msg)
    ticket: dict[str, Any] = {
        "id": t.id,
        "href": f"{base_url}{TICKETS}/{t.id}",
        "@type": "TroubleTicket",
        "name": t.name,
        "status": t.status,
        "ticketType": t.ticket_type,
        "priority": t.priority,
        "channel": t.channel,
        "customerGrade": t.customer_grade,
        "handler": t.handler or None,
        "relatedParty": [{"id": t.customer_id, "role": "customer", "name": t.customer_name}],
        "ownerNode": t.owner_node,
        "version": t.version,
        "escalationLevel": t.escalation_level,
    }
    event = {
        "eventId": env.event_id,
        "eventTime": env.occurred_at.ToDatetime().isoformat() + "Z",
        "eventType": kind,
        "domain": env.origin_node,
        "@type": kind,
        "event": {"troubleTicket": ticket},
    }
    return event, t.owner_node or env.origin_node


HUB = Hub(
    HubFeed(service=SERVICE, entity=AGGREGATE, event_types=set(EVENT_TYPES), translate=tmf_event),
    subscription=HubSubscription,
    delivery=HubDelivery,
)
start, stop = HUB.start, HUB.stop


async def register(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: HubCreate
) -> HubSubscription:
    sub: HubSubscription = await HUB.register(
        session, settings=settings, principal=principal, callback=data.callback, query=data.query
    )
    return sub


async def unregister(session: AsyncSession, *, settings: Settings, principal: Principal, sub_id: uuid.UUID) -> None:
    await HUB.unregister(session, settings=settings, principal=principal, sub_id=sub_id)
