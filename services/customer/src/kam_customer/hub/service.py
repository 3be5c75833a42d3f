"""Listener registration (TMF630 /hub) and event delivery.

Delivery is driven by the node's own event stream: a durable consumer on ``UP_<node>`` turns customer
events into TMF events (CustomerCreateEvent, CustomerAttributeValueChangeEvent, CustomerStateChangeEvent,
CustomerDeleteEvent) and POSTs them to every listener whose query and data scope match — at least
once (listeners deduplicate by ``eventId``), retried with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.customer.schemas import ApiModel
from kam_platform.auth import Principal
from kam_platform.errors import NotFound
from kam_platform.settings import Settings

from .models import HubSubscription

log = logging.getLogger("kam.customer.hub")

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
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("callback must be an absolute http(s) URL")
        return v

    @field_validator("query")
    @classmethod
    def _query(cls, v: str | None) -> str | None:
        if v:
            unknown = set(parse_qs(v)) - {"eventType"}
            if unknown:
                raise ValueError(f"query may filter on eventType only, not {', '.join(sorted(unknown))}")
            bad = set(_event_types(v)) - set(EVENT_TYPES.values())
            if bad:
                raise ValueError(
                    f"unknown eventType {', '.join(sorted(bad))}; known: {', '.join(sorted(set(EVENT_TYPES.values())))}"
                )
        return v


def _event_types(query: str | None) -> list[str]:
    if not query:
        return []
    return [t for value in parse_qs(query).get("eventType", []) for t in value.split(",") if t]


async def register(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: HubCreate
) -> HubSubscription:
    sub = HubSubscription(
        owner_node=settings.node,
        callback=data.callback,
        query=data.query,
        scope_node=principal.scope_node,
        created_by=principal.username,
    )
    session.add(sub)
    await session.flush()
    return sub


async def unregister(session: AsyncSession, *, settings: Settings, principal: Principal, sub_id: uuid.UUID) -> None:
    sub = await session.get(HubSubscription, sub_id)
    if (
        sub is None
        or sub.owner_node != settings.node
        or not settings.topology.is_in_subtree(sub.scope_node, principal.scope_node)
    ):
        raise NotFound(f"hub {sub_id} not found")
    await session.delete(sub)


def tmf_event(env: envelope_pb2.Envelope, base_url: str) -> dict[str, Any] | None:
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
    return {
        "eventId": env.event_id,
        "eventTime": env.occurred_at.ToDatetime().isoformat() + "Z",
        "eventType": kind,
        "domain": env.origin_node,
        "@type": kind,
        "event": {"customer": customer},
    }


def matches(sub: HubSubscription, kind: str, owner_node: str, settings: Settings) -> bool:
    types = _event_types(sub.query)
    return (not types or kind in types) and settings.topology.is_in_subtree(owner_node, sub.scope_node)


class HubDispatcher:
    """Delivers this node's customer events to registered listeners."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        retry_delays: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.retry_delays = tuple(retry_delays)
        self.base_url = settings.public_url or ""
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("hub dispatcher: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 5.0)

    async def _consume(self) -> None:
        node = self.settings.node
        nc = await nats.connect(self.settings.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        try:
            js = nc.jetstream(timeout=10.0)
            await js.add_consumer(
                f"UP_{node}",
                ConsumerConfig(
                    durable_name="customer-hub",
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.NEW,
                    ack_wait=60,
                    max_deliver=len(self.retry_delays) + 1,
                    filter_subject=f"up.{node}.customer.customer.>",
                ),
            )
            sub = await js.pull_subscribe_bind("customer-hub", f"UP_{node}")
            async with httpx.AsyncClient(timeout=5.0) as client:
                while not self._stopping.is_set():
                    try:
                        msgs = await sub.fetch(50, timeout=1.0)
                    except nats.errors.TimeoutError:
                        continue
                    for msg in msgs:
                        await self._deliver(client, msg)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _deliver(self, client: httpx.AsyncClient, msg: Any) -> None:
        env = envelope_pb2.Envelope.FromString(msg.data)
        event = tmf_event(env, self.base_url)
        if event is None:
            await msg.ack()
            return
        owner = event["event"]["customer"].get("ownerNode") or env.origin_node
        async with self.sessionmaker() as session:
            subs = (
                await session.scalars(select(HubSubscription).where(HubSubscription.owner_node == self.settings.node))
            ).all()
        failed = False
        for s in subs:
            if not matches(s, event["eventType"], owner, self.settings):
                continue
            try:
                resp = await client.post(s.callback, json=event)
                failed = failed or resp.status_code >= 300
            except httpx.HTTPError as exc:
                log.info("listener %s unreachable: %s", s.callback, exc)
                failed = True
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        if failed and delivered <= len(self.retry_delays):
            await msg.nak(delay=self.retry_delays[delivered - 1])
        else:
            await msg.ack()


async def start(app: Any) -> None:
    settings: Settings = app.state.settings
    dispatcher = HubDispatcher(settings, app.state.db.sessionmaker)
    app.state.hub_dispatcher = dispatcher
    app.state.hub_task = asyncio.create_task(dispatcher.run(), name="hub") if settings.hub_enabled else None


async def stop(app: Any) -> None:
    app.state.hub_dispatcher.stop()
    task = app.state.hub_task
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
