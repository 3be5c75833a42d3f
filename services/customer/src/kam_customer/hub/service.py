"""Listener registration (TMF630 /hub) for TMF629 customer events, on the platform's hub
(`kam_platform.hub`: delivery, back-off, the SSRF guard).

The node's own customer events become TMF events (CustomerCreateEvent, CustomerAttributeValueChangeEvent,
CustomerStateChangeEvent, CustomerDeleteEvent), delivered to listeners within the registering user's
scope.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.customer.schemas import ApiModel
from kam_platform.auth import Principal
from kam_platform.hub import Hub, HubFeed, check_callback_url, check_query
from kam_platform.settings import Settings

from .models import HubDelivery, HubSubscription

EVENT_TYPES = {
    "kam.v1.CustomerCreated": "CustomerCreateEvent",
    "kam.v1.CustomerUpdated": "CustomerAttributeValueChangeEvent",
    "kam.v1.CustomerStatusChanged": "CustomerStateChangeEvent",
    "kam.v1.CustomerOwnershipTransferred": "CustomerAttributeValueChangeEvent",
    "kam.v1.CustomerDeleted": "CustomerDeleteEvent",
}


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
        return check_query(v, set(EVENT_TYPES.values()))


def tmf_event(env: envelope_pb2.Envelope, base_url: str) -> tuple[dict[str, Any], str] | None:
    """A customer event as its TMF629 event, and the customer's owner node (who may hear it)."""
    kind = EVENT_TYPES.get(env.event_type)
    if kind is None:
        return None
    if env.event_type == "kam.v1.CustomerDeleted":
        d = customer_pb2.CustomerDeleted.FromString(env.payload)
        customer: dict[str, Any] = {
            "id": d.id,
            "href": f"{base_url}/tmf-api/customerManagement/v4/customer/{d.id}",
            "@type": "KeyAccountCustomer",
            "customerCode": d.customer_code,
        }
    else:
        cls: Any = {
            "kam.v1.CustomerCreated": customer_pb2.CustomerCreated,
            "kam.v1.CustomerUpdated": customer_pb2.CustomerUpdated,
            "kam.v1.CustomerStatusChanged": customer_pb2.CustomerStatusChanged,
            "kam.v1.CustomerOwnershipTransferred": customer_pb2.CustomerOwnershipTransferred,
        }[env.event_type]
        c = cls.FromString(env.payload).customer
        customer = {
            "id": c.id,
            "href": f"{base_url}/tmf-api/customerManagement/v4/customer/{c.id}",
            "@type": "KeyAccountCustomer",
            "@baseType": "Customer",
            "name": c.name,
            "status": c.life_status,
            "customerCode": c.customer_code,
            "grade": c.grade,
            "industry": c.industry,
            "ownerNode": c.owner_node,
            "version": c.version,
        }
    event = {
        "eventId": env.event_id,
        "eventTime": env.occurred_at.ToDatetime().isoformat() + "Z",
        "eventType": kind,
        "domain": env.origin_node,
        "@type": kind,
        "event": {"customer": customer},
    }
    return event, customer.get("ownerNode") or env.origin_node


HUB = Hub(
    HubFeed(service="customer", entity="customer", event_types=set(EVENT_TYPES.values()), translate=tmf_event),
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
