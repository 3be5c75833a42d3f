"""Listener registration (TMF630 /hub) and event delivery.

Delivery is driven by the node's own event stream: a durable consumer on ``UP_<node>`` turns customer
events into TMF events (CustomerCreateEvent, CustomerAttributeValueChangeEvent, CustomerStateChangeEvent,
CustomerDeleteEvent) and queues one delivery per matching listener (query and data scope) in the
database, then acks. A task per listener POSTs its queue in order — listeners are served concurrently,
so a slow or dead one holds up nobody else — at least once (listeners deduplicate by ``eventId``),
backing off per listener after failures. Callbacks are checked against the SSRF policy
(callbacks.py) at registration and before every delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import Field, field_validator
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.customer.schemas import ApiModel
from kam_platform.auth import Principal
from kam_platform.errors import KamError, NotFound, ValidationFailed
from kam_platform.settings import Settings

from .callbacks import CallbackNotAllowed, CallbackPolicy
from .models import HubDelivery, HubSubscription

log = logging.getLogger("kam.customer.hub")

# may remove any listener in its scope, not only its own (operators)
ADMIN_PERMISSION = "customer.hub:admin"

EVENT_TYPES = {
    "kam.v1.CustomerCreated": "CustomerCreateEvent",
    "kam.v1.CustomerUpdated": "CustomerAttributeValueChangeEvent",
    "kam.v1.CustomerStatusChanged": "CustomerStateChangeEvent",
    "kam.v1.CustomerOwnershipTransferred": "CustomerAttributeValueChangeEvent",
    "kam.v1.CustomerDeleted": "CustomerDeleteEvent",
}


class ListenerQuotaExceeded(KamError):
    status, code, reason = 429, "QUOTA_EXCEEDED", "Too many listeners"


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
    try:
        await CallbackPolicy.from_settings(settings).resolve(data.callback)
    except CallbackNotAllowed as exc:
        raise ValidationFailed(f"callback: {exc}", field="callback") from None
    # one registration at a time per user, so two parallel ones cannot both pass the quota check
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"kam.hub:{principal.home_node}:{principal.username}")))
    )
    held = await session.scalar(
        select(func.count())
        .select_from(HubSubscription)
        .where(HubSubscription.owner_node == settings.node, HubSubscription.created_by == principal.username)
    )
    quota = settings.hub_max_listeners_per_user
    if (held or 0) >= quota:
        raise ListenerQuotaExceeded(
            f"user {principal.username!r} already has {held} listeners registered (at most {quota});"
            " unregister one first"
        )
    sub = HubSubscription(
        owner_node=settings.node,
        callback=data.callback,
        query=data.query,
        scope_node=principal.scope_node,
        created_by=principal.username,
        created_by_node=principal.home_node,
    )
    session.add(sub)
    await session.flush()
    return sub


def _is_owner(sub: HubSubscription, principal: Principal) -> bool:
    return sub.created_by == principal.username and sub.created_by_node in (None, principal.home_node)


async def unregister(session: AsyncSession, *, settings: Settings, principal: Principal, sub_id: uuid.UUID) -> None:
    """Only the user who registered a listener (or a hub administrator in scope) removes it; to anyone
    else it does not exist (404, revealing nothing)."""
    sub = await session.get(HubSubscription, sub_id, with_for_update=True)
    if (
        sub is None
        or sub.owner_node != settings.node
        or not settings.topology.is_in_subtree(sub.scope_node, principal.scope_node)
        or not (_is_owner(sub, principal) or principal.has(ADMIN_PERMISSION))
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
    """Queues this node's customer events for the registered listeners and delivers them."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        retry_delays: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
        max_concurrent: int = 32,
        poll_seconds: float = 0.5,
        lease_seconds: float = 120.0,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.retry_delays = tuple(retry_delays)
        self.max_attempts = len(self.retry_delays) + 1  # per event and listener, then it is dropped
        self.base_url = settings.public_url or ""
        self.policy = CallbackPolicy.from_settings(settings)
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=max(lease_seconds, settings.hub_delivery_timeout_seconds * 4))
        self._slots = asyncio.Semaphore(max_concurrent)
        self._stopping = asyncio.Event()
        self._queued = asyncio.Event()
        self._active: dict[uuid.UUID, asyncio.Task[None]] = {}

    def stop(self) -> None:
        self._stopping.set()
        self._queued.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(
            timeout=self.settings.hub_delivery_timeout_seconds, follow_redirects=False
        ) as client:
            deliverer = asyncio.create_task(self._deliver_forever(client), name="hub-deliver")
            try:
                while not self._stopping.is_set():
                    try:
                        await self._consume()
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        log.warning("hub dispatcher: %s: %s", type(exc).__name__, exc)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._stopping.wait(), 5.0)
            finally:
                deliverer.cancel()
                tasks = [deliverer, *self._active.values()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, sub_id: uuid.UUID, _task: asyncio.Task[None]) -> None:
        self._active.pop(sub_id, None)

    # -- stream → per-listener queues ------------------------------------------------------------

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
            while not self._stopping.is_set():
                try:
                    msgs = await sub.fetch(50, timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                for msg in msgs:
                    await self._enqueue(msg)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _enqueue(self, msg: Any) -> None:
        env = envelope_pb2.Envelope.FromString(msg.data)
        event = tmf_event(env, self.base_url)
        if event is None:
            await msg.ack()
            return
        owner = event["event"]["customer"].get("ownerNode") or env.origin_node
        try:
            async with self.sessionmaker() as session, session.begin():
                subs = (
                    await session.scalars(
                        select(HubSubscription).where(HubSubscription.owner_node == self.settings.node)
                    )
                ).all()
                rows = [
                    {"subscription_id": s.id, "event_id": env.event_id, "event": event}
                    for s in subs
                    if matches(s, event["eventType"], owner, self.settings)
                ]
                if rows:
                    await session.execute(insert(HubDelivery).values(rows).on_conflict_do_nothing())
        except Exception as exc:
            delivered = msg.metadata.num_delivered if msg.metadata else 1
            log.warning("hub: cannot queue event %s: %s: %s", env.event_id, type(exc).__name__, exc)
            await msg.nak(delay=self.retry_delays[min(delivered, len(self.retry_delays)) - 1])
            return
        await msg.ack()
        if rows:
            self._queued.set()

    # -- per-listener delivery -------------------------------------------------------------------

    async def _deliver_forever(self, client: httpx.AsyncClient) -> None:
        while not self._stopping.is_set():
            try:
                for sub_id, callback in await self._lease_due():
                    task = asyncio.create_task(self._drain(client, sub_id, callback), name=f"hub-{sub_id}")
                    self._active[sub_id] = task
                    task.add_done_callback(functools.partial(self._forget, sub_id))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("hub deliverer: %s: %s", type(exc).__name__, exc)
            self._queued.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), self.poll_seconds)

    async def _lease_due(self) -> list[tuple[uuid.UUID, str]]:
        """Listeners with queued events, not backing off and not leased by anyone: lease them."""
        pending = select(HubDelivery.id).where(HubDelivery.subscription_id == HubSubscription.id).exists()
        stmt = (
            update(HubSubscription)
            .where(
                HubSubscription.owner_node == self.settings.node,
                or_(HubSubscription.next_attempt_at.is_(None), HubSubscription.next_attempt_at <= func.now()),
                or_(HubSubscription.lease_until.is_(None), HubSubscription.lease_until < func.now()),
                HubSubscription.id.not_in(list(self._active)) if self._active else text("true"),
                pending,
            )
            .values(lease_until=func.now() + self.lease)
            .returning(HubSubscription.id, HubSubscription.callback)
        )
        async with self.sessionmaker() as session, session.begin():
            return [(row[0], row[1]) for row in await session.execute(stmt)]

    async def _drain(self, client: httpx.AsyncClient, sub_id: uuid.UUID, callback: str) -> None:
        """POST the listener's queue in order until it is empty or a delivery fails (then back off)."""
        async with self._slots:
            try:
                while not self._stopping.is_set():
                    async with self.sessionmaker() as session:
                        batch = (
                            await session.execute(
                                select(HubDelivery.id, HubDelivery.event, HubDelivery.attempts)
                                .where(HubDelivery.subscription_id == sub_id)
                                .order_by(HubDelivery.id)
                                .limit(20)
                            )
                        ).all()
                    if not batch:
                        return
                    for delivery_id, event, attempts in batch:
                        error = await self._post(client, callback, event)
                        if error is not None:
                            await self._failed(sub_id, delivery_id, attempts + 1, callback, error)
                            return
                        await self._delivered(sub_id, delivery_id)
            finally:
                with contextlib.suppress(Exception):
                    async with self.sessionmaker() as session, session.begin():
                        await session.execute(
                            update(HubSubscription).where(HubSubscription.id == sub_id).values(lease_until=None)
                        )

    async def _post(self, client: httpx.AsyncClient, callback: str, event: dict[str, Any]) -> str | None:
        """None when delivered, else why not."""
        try:
            target = await self.policy.resolve(callback)  # again: the name may point elsewhere by now
        except CallbackNotAllowed as exc:
            return str(exc)
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        try:
            resp = await client.post(
                target.url, json=event, headers={"Host": target.host_header}, extensions=extensions
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if resp.status_code >= 300:
            return f"HTTP {resp.status_code}"
        return None

    async def _delivered(self, sub_id: uuid.UUID, delivery_id: int) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(delete(HubDelivery).where(HubDelivery.id == delivery_id))
            await session.execute(
                update(HubSubscription)
                .where(HubSubscription.id == sub_id, HubSubscription.failure_count > 0)
                .values(failure_count=0, next_attempt_at=None, last_error=None)
            )

    async def _failed(self, sub_id: uuid.UUID, delivery_id: int, attempts: int, callback: str, error: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            sub = await session.get(HubSubscription, sub_id, with_for_update=True)
            if sub is None:  # unregistered meanwhile (its queue went with it)
                return
            sub.failure_count += 1
            delay = self.retry_delays[min(sub.failure_count, len(self.retry_delays)) - 1]
            sub.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
            sub.last_error = error[:500]
            if attempts >= self.max_attempts:
                log.warning(
                    "hub: giving up on event %s for listener %s after %d attempts", delivery_id, callback, attempts
                )
                await session.execute(delete(HubDelivery).where(HubDelivery.id == delivery_id))
            else:
                await session.execute(
                    update(HubDelivery).where(HubDelivery.id == delivery_id).values(attempts=attempts)
                )
        log.info("listener %s failed (%s); next attempt in %.0fs", callback, error, delay)


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
