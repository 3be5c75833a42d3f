"""TMF630 /hub for the catalogue (TMF620 events), on the platform's hub (`kam_platform.hub`: delivery,
back-off, the SSRF guard). A listener registered at a node hears the catalogue items that node
publishes (the group's national items, a province's own): ``ProductOfferingCreateEvent`` for an item's
first published version, ``ProductOfferingAttributeValueChangeEvent`` for later ones (retirement
included), and the same pair for Catalog, Category, ProductSpecification and ProductOfferingPrice. A
draft (inDesign) is not published, so it is not heard. A local network publishes none: listen at the
author."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import envelope_pb2
from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.api import ApiModel
from kam_platform.auth import Principal
from kam_platform.hub import Hub, HubFeed, check_callback_url, check_query
from kam_platform.settings import Settings
from kam_sales.models import HubDelivery, HubSubscription

BASE = "/tmf-api/productCatalogManagement/v4"
# catalogue kind → (TMF620 resource, its path); a province's availability word is KAM's own: not heard
RESOURCES = {
    "catalog": ("Catalog", "catalog"),
    "category": ("Category", "category"),
    "productSpecification": ("ProductSpecification", "productSpecification"),
    "productOffering": ("ProductOffering", "productOffering"),
    "productOfferingPrice": ("ProductOfferingPrice", "productOfferingPrice"),
}
EVENT_TYPES = {f"{r}{e}" for r, _ in RESOURCES.values() for e in ("CreateEvent", "AttributeValueChangeEvent")}


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
        return check_query(v, EVENT_TYPES)


def tmf_event(env: envelope_pb2.Envelope, base_url: str) -> tuple[dict[str, Any], str] | None:
    """A catalogue item's change as its TMF620 event, and its owner node (who may hear it)."""
    if env.event_type != sales_pb2.CatalogItemChanged.DESCRIPTOR.full_name:
        return None
    item = sales_pb2.CatalogItemChanged.FromString(env.payload).item
    found = RESOURCES.get(item.kind)
    if found is None:
        return None
    resource, path = found
    kind = f"{resource}{'CreateEvent' if item.version == 1 else 'AttributeValueChangeEvent'}"
    body = {
        "id": item.id,
        "href": f"{base_url}{BASE}/{path}/{item.id}",
        "@type": resource,
        "name": item.name,
        "lifecycleStatus": item.lifecycle_status,
        "version": str(item.version),
        "ownerNode": item.owner_node,
    }
    event = {
        "eventId": env.event_id,
        "eventTime": env.occurred_at.ToDatetime().isoformat() + "Z",
        "eventType": kind,
        "domain": env.origin_node,
        "@type": kind,
        "event": {resource[0].lower() + resource[1:]: body},
    }
    return event, item.owner_node


HUB = Hub(
    HubFeed(service="sales", entity="catalog_item", event_types=EVENT_TYPES, translate=tmf_event),
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
