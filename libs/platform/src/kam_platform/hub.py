"""TMF630 /hub in the platform: listener registration and at-least-once delivery of a service's TMF
events, with the SSRF guard on every callback.

A service plugs in with two tables and a feed::

    class HubSubscription(HubSubscriptionMixin, Base): __tablename__ = "hub_subscription"
    class HubDelivery(HubDeliveryMixin, Base): __tablename__ = "hub_delivery"

    HUB = Hub(HubFeed(service="customer", entity="customer", event_types=..., translate=tmf_event),
              subscription=HubSubscription, delivery=HubDelivery)
    create_service_app(..., on_startup=[HUB.start], on_shutdown=[HUB.stop])

`HubFeed.translate(envelope, base_url)` turns one of the node's own events (``up.<node>.<service>.
<entity>.>`` on ``UP_<node>``) into a TMF event and the owner node that decides who may see it, or
None to skip it. `Hub.register` / `Hub.unregister` are the service calls behind the endpoints.

Delivery: a durable consumer on the node's own stream queues one delivery per matching listener
(``eventType`` query and data scope) in the database, then acks. A task per listener POSTs its queue in
order — listeners are served concurrently, so a slow or dead one holds up nobody else — at least once
(listeners deduplicate by ``eventId``), backing off per listener after failures.

Callbacks (the SSRF guard): a callback's host is resolved and every address it resolves to must be
public — not loopback, link-local (169.254.0.0/16 holds the cloud metadata service, fe80::/10), private
(10/8, 172.16/12, 192.168/16, fc00::/7), unspecified, multicast or otherwise reserved — unless it lies in
a network the operator allowed (`hub_allowed_networks`). A non-empty `hub_allowed_hosts` admits only
those hosts. The check runs at registration and again before every delivery, and the delivery connects
to the very address that was checked, so a name that re-resolves elsewhere (DNS rebinding) cannot slip
through.

Listeners see events within the registering user's scope node. A portfolio-scoped user (scope level
``team``/``own``) cannot register one: a listener outlives the token, and a portfolio changes with every
reassignment, so the delivery could not keep the portfolio true (refused with 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import socket
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from kam_contracts import envelope_pb2
from kam_platform.auth import Principal
from kam_platform.embedded.nats import nats_servers
from kam_platform.errors import Forbidden, KamError, NotFound, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings

log = logging.getLogger("kam.hub")

# may remove any listener in its scope, not only its own (operators): "<service>.hub:admin"
ADMIN_ACTION = "hub:admin"


# --- tables -------------------------------------------------------------------------------------


class HubSubscriptionMixin:
    """Columns of a service's ``hub_subscription`` table (a registered listener)."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    owner_node: Mapped[str] = mapped_column(String(32))
    callback: Mapped[str] = mapped_column(String(2000))
    query: Mapped[str | None] = mapped_column(String(500))
    scope_node: Mapped[str] = mapped_column(String(32))  # events are delivered within the subscriber's scope
    created_by: Mapped[str] = mapped_column(String(128), index=True)
    # the registering user's home node: user names are unique per node only (None on older rows)
    created_by_node: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # per-listener back-off: consecutive failed deliveries, and when to try again
    failure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    # a delivering process leases the listener so two processes do not post to it at once
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HubDeliveryMixin:
    """Columns of a service's ``hub_delivery`` table: a TMF event waiting to be POSTed to one
    listener; deleted once delivered (or given up)."""

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            UniqueConstraint("subscription_id", "event_id"),  # a redelivered stream message queues once
            Index("ix_hub_delivery_subscription_id_id", "subscription_id", "id"),
        )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)

    @declared_attr
    @classmethod
    def subscription_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(UUID(as_uuid=True), ForeignKey("hub_subscription.id", ondelete="CASCADE"))

    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# --- the SSRF guard -----------------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CallbackNotAllowed(Exception):
    """The callback's host is not allowed or resolves to an address callbacks may not reach."""


@dataclass(frozen=True)
class Target:
    """A checked callback: the URL to connect to (the checked address) and the original host."""

    url: str
    host_header: str
    sni_hostname: str | None


def _why_refused(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved, non-public address"
    return None


@dataclass(frozen=True)
class CallbackPolicy:
    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackPolicy:
        return cls(
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in settings.hub_allowed_networks),
            allowed_hosts=tuple(h.lower().rstrip(".") for h in settings.hub_allowed_hosts),
        )

    def _host_allowed(self, host: str) -> bool:
        if not self.allowed_hosts:
            return True
        return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in self.allowed_hosts)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why callbacks may not reach `ip` (None when they may)."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return None
        return _why_refused(ip)

    async def resolve(self, url: str) -> Target:
        """Check `url` and pin it to a checked address; CallbackNotAllowed says why it is refused."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("http", "https") or not host:
            raise CallbackNotAllowed("callback must be an absolute http(s) URL")
        if not self._host_allowed(host):
            raise CallbackNotAllowed(f"callback host {host} is not in the allowed hosts of this node")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await _lookup(host, port)
        for ip in addresses:
            why = self.refusal(ip)
            if why is not None:
                raise CallbackNotAllowed(
                    f"callback host {host} resolves to {ip}, {why}; callbacks must reach public addresses"
                    " (an operator may allow networks with KAM_HUB_ALLOWED_NETWORKS)"
                )
        ip = addresses[0]
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        host_header = parts.netloc.rsplit("@", 1)[-1]
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        return Target(pinned, host_header, host if parts.scheme == "https" else None)


async def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackNotAllowed(f"callback host {host} does not resolve ({exc})") from None
    out: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise CallbackNotAllowed(f"callback host {host} does not resolve")
    return out


# --- what a service plugs in --------------------------------------------------------------------

# (the node's own event, this node's public base URL) -> (TMF event, owner node of the record) or None
Translate = Callable[[envelope_pb2.Envelope, str], tuple[dict[str, Any], str] | None]


@dataclass(frozen=True)
class HubFeed:
    """Which of the node's own events a service's listeners hear, and how they read."""

    service: str  # the subject's service part, and the durable consumer's name (<service>-hub)
    entity: str  # the subject's aggregate type (``up.<node>.<service>.<entity>.>``)
    event_types: Collection[str]  # the TMF event type names a listener may ask for (``eventType=``)
    translate: Translate


class ListenerQuotaExceeded(KamError):
    status, code, reason = 429, "QUOTA_EXCEEDED", "Too many listeners"


def event_types_of(query: str | None) -> list[str]:
    """The ``eventType`` values of a listener query (comma = OR)."""
    if not query:
        return []
    return [t for value in parse_qs(query).get("eventType", []) for t in value.split(",") if t]


def check_query(query: str | None, known: Collection[str]) -> str | None:
    """A listener query as a body validator checks it (ValueError says why it is refused)."""
    if query:
        unknown = set(parse_qs(query)) - {"eventType"}
        if unknown:
            raise ValueError(f"query may filter on eventType only, not {', '.join(sorted(unknown))}")
        bad = set(event_types_of(query)) - set(known)
        if bad:
            raise ValueError(f"unknown eventType {', '.join(sorted(bad))}; known: {', '.join(sorted(set(known)))}")
    return query


def check_callback_url(url: str) -> str:
    """A callback as a body validator checks it (its addresses are checked by the service)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("callback must be an absolute http(s) URL")
    return url


class Hub:
    """A service's /hub: registration calls and the delivery task (lifespan hooks `start`/`stop`)."""

    def __init__(self, feed: HubFeed, *, subscription: type[Any], delivery: type[Any]) -> None:
        self.feed = feed
        self.subscription = subscription
        self.delivery = delivery
        self.admin_permission = f"{feed.service}.{ADMIN_ACTION}"

    async def register(
        self, session: AsyncSession, *, settings: Settings, principal: Principal, callback: str, query: str | None
    ) -> Any:
        if principal.by_portfolio:
            raise Forbidden(
                "listeners are registered with a node-level scope; a portfolio-scoped token "
                f"(scope level {principal.scope_level.value}) cannot register one"
            )
        try:
            await CallbackPolicy.from_settings(settings).resolve(callback)
        except CallbackNotAllowed as exc:
            raise ValidationFailed(f"callback: {exc}", field="callback") from None
        sub_model = self.subscription
        # one registration at a time per user, so two parallel ones cannot both pass the quota check
        await session.execute(
            select(
                func.pg_advisory_xact_lock(
                    func.hashtext(f"kam.hub:{self.feed.service}:{principal.home_node}:{principal.username}")
                )
            )
        )
        held = await session.scalar(
            select(func.count())
            .select_from(sub_model)
            .where(sub_model.owner_node == settings.node, sub_model.created_by == principal.username)
        )
        quota = settings.hub_max_listeners_per_user
        if (held or 0) >= quota:
            raise ListenerQuotaExceeded(
                f"user {principal.username!r} already has {held} listeners registered (at most {quota});"
                " unregister one first"
            )
        sub = sub_model(
            owner_node=settings.node,
            callback=callback,
            query=query,
            scope_node=principal.scope_node,
            created_by=principal.username,
            created_by_node=principal.home_node,
        )
        session.add(sub)
        await session.flush()
        return sub

    async def unregister(
        self, session: AsyncSession, *, settings: Settings, principal: Principal, sub_id: uuid.UUID
    ) -> None:
        """Only the user who registered a listener (or a hub administrator in scope) removes it; to
        anyone else it does not exist (404, revealing nothing)."""
        sub = await session.get(self.subscription, sub_id, with_for_update=True)
        is_owner = sub is not None and (
            sub.created_by == principal.username and sub.created_by_node in (None, principal.home_node)
        )
        if (
            sub is None
            or sub.owner_node != settings.node
            or not settings.topology.is_in_subtree(sub.scope_node, principal.scope_node)
            or not (is_owner or principal.has(self.admin_permission))
        ):
            raise NotFound(f"hub {sub_id} not found")
        await session.delete(sub)

    def matches(self, sub: Any, kind: str, owner_node: str, settings: Settings) -> bool:
        types = event_types_of(sub.query)
        return (not types or kind in types) and settings.topology.is_in_subtree(owner_node, sub.scope_node)

    async def start(self, app: Any) -> None:
        settings: Settings = app.state.settings
        dispatcher = HubDispatcher(settings, app.state.db.sessionmaker, hub=self)
        app.state.hub_dispatcher = dispatcher
        app.state.hub_task = asyncio.create_task(dispatcher.run(), name="hub") if settings.hub_enabled else None

    async def stop(self, app: Any) -> None:
        app.state.hub_dispatcher.stop()
        task = app.state.hub_task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class HubDispatcher:
    """Queues this node's events of one feed for the registered listeners and delivers them."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        hub: Hub,
        retry_delays: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
        max_concurrent: int = 32,
        poll_seconds: float = 0.5,
        lease_seconds: float = 120.0,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.hub = hub
        self.durable = f"{hub.feed.service}-hub"
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
            deliverer = asyncio.create_task(self._deliver_forever(client), name=f"{self.durable}-deliver")
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
        nc = await nats.connect(
            nats_servers(self.settings.nats_url), max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        try:
            js = nc.jetstream(timeout=10.0)
            await js.add_consumer(
                f"UP_{node}",
                ConsumerConfig(
                    durable_name=self.durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.NEW,
                    ack_wait=60,
                    max_deliver=len(self.retry_delays) + 1,
                    filter_subject=f"up.{node}.{self.hub.feed.service}.{self.hub.feed.entity}.>",
                ),
            )
            sub = await js.pull_subscribe_bind(self.durable, f"UP_{node}")
            while not self._stopping.is_set():
                try:
                    msgs = await sub.fetch(200, timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                await self._enqueue_batch(msgs)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _enqueue_batch(self, msgs: list[Any]) -> None:
        """Queue a fetched batch in one transaction: the node's listeners are read once, and with none
        registered nothing is translated (a local network writing 100,000 changes kept a core busy here
        event by event: issue 13). A batch that fails is queued message by message, so one bad event
        is retried (and dropped after its attempts) alone."""
        Sub, Delivery = self.hub.subscription, self.hub.delivery  # noqa: N806
        try:
            async with self.sessionmaker() as session, session.begin():
                subs = (await session.scalars(select(Sub).where(Sub.owner_node == self.settings.node))).all()
                rows = [row for msg in msgs for row in self._rows(subs, msg)] if subs else []
                if rows:
                    await session.execute(insert(Delivery).values(rows).on_conflict_do_nothing())
        except Exception as exc:
            if len(msgs) == 1:
                await self._retry(msgs[0], exc)
                return
            log.warning("hub: cannot queue a batch of %d events (%s); queueing one by one", len(msgs), exc)
            for msg in msgs:
                await self._enqueue_batch([msg])
            return
        for msg in msgs:
            await msg.ack()
        if rows:
            self._queued.set()

    def _rows(self, subs: Sequence[Any], msg: Any) -> list[dict[str, Any]]:
        """The deliveries of one event: one per listener whose filter it matches."""
        env = envelope_pb2.Envelope.FromString(msg.data)
        translated = self.hub.feed.translate(env, self.base_url)
        if translated is None:
            return []
        event, owner = translated
        return [
            {"subscription_id": s.id, "event_id": env.event_id, "event": event}
            for s in subs
            if self.hub.matches(s, event["eventType"], owner, self.settings)
        ]

    async def _retry(self, msg: Any, exc: Exception) -> None:
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        log.warning("hub: cannot queue event on %s: %s: %s", msg.subject, type(exc).__name__, exc)
        await msg.nak(delay=self.retry_delays[min(delivered, len(self.retry_delays)) - 1])

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
        HubSubscription, HubDelivery = self.hub.subscription, self.hub.delivery  # noqa: N806
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
        HubSubscription, HubDelivery = self.hub.subscription, self.hub.delivery  # noqa: N806
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
        HubSubscription, HubDelivery = self.hub.subscription, self.hub.delivery  # noqa: N806
        async with self.sessionmaker() as session, session.begin():
            await session.execute(delete(HubDelivery).where(HubDelivery.id == delivery_id))
            await session.execute(
                update(HubSubscription)
                .where(HubSubscription.id == sub_id, HubSubscription.failure_count > 0)
                .values(failure_count=0, next_attempt_at=None, last_error=None)
            )

    async def _failed(self, sub_id: uuid.UUID, delivery_id: int, attempts: int, callback: str, error: str) -> None:
        HubSubscription, HubDelivery = self.hub.subscription, self.hub.delivery  # noqa: N806
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
