"""TMF630 /hub: listeners register for customer events and receive them (at least once, in scope);
callbacks cannot reach internal addresses (SSRF), only their owner removes them, a user's listeners are
capped, and delivery is concurrent with back-off per listener (issue 6, finding 7)."""

from __future__ import annotations

import json
import select
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_customer.main import MIGRATIONS, create_app
from kam_platform.embedded.ports import free_port
from kam_platform.federation import declare_node_streams
from kam_platform.testing.plugin import app_client, bind_session, wait_for
from kam_platform.topology import Topology

HUB = "/tmf-api/customerManagement/v4/hub"
URL = "/tmf-api/customerManagement/v4/customer"
PUBLIC = "http://93.184.216.34/listener"  # a public address: registration never connects to it
LOCAL_ONLY = {"hub_allowed_networks": ["127.0.0.1/32"]}  # what tests with a local listener configure


class Listener:
    """A real HTTP listener on 127.0.0.1 that records the events POSTed to it."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler, dict[str, Any]], int] | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received.append(body)
                status = handle(self, body) if handle else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server: HTTPServer = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, customer_id: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e["event"]["customer"]["id"] == customer_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
async def client_with(
    database_url: str, jwks: Any, settings_for: Any, rollback_conn: AsyncConnection
) -> AsyncIterator[Callable[..., Any]]:
    """An app with some settings changed, on the test's rolled-back transaction."""
    apps: list[Any] = []

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings_for(database_url, jwks, **overrides))
        apps.append(app)
        async with app.router.lifespan_context(app):
            bind_session(app, rollback_conn)
            async with await app_client(app, "http://gd-gz.kam.test") as c:
                yield c

    yield make
    for app in apps:
        app.dependency_overrides.clear()


async def test_registration_is_validated(client, auth) -> None:
    r = await client.post(HUB, json={"callback": "not a url"}, headers=auth())
    assert r.status_code == 422 and "callback" in r.json()["message"]
    r = await client.post(HUB, json={"callback": "http://x.test/l", "query": "eventType=Nope"}, headers=auth())
    assert r.status_code == 422 and "eventType" in r.json()["message"]
    r = await client.post(HUB, json={"callback": PUBLIC, "query": "eventType=CustomerCreateEvent"}, headers=auth())
    assert r.status_code == 201 and r.headers["location"].endswith(r.json()["id"])
    assert (await client.delete(f"{HUB}/{r.json()['id']}", headers=auth())).status_code == 204
    assert (await client.delete(f"{HUB}/{r.json()['id']}", headers=auth())).status_code == 404


@pytest.mark.parametrize(
    ("callback", "why"),
    [
        ("http://127.0.0.1:8080/listener", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/listener", "private"),
        ("http://192.168.1.10/listener", "private"),
        ("http://172.16.0.5/listener", "private"),
        ("http://0.0.0.0:9/listener", "unspecified"),
        ("http://224.0.0.1/listener", "multicast"),
        ("http://[::1]/listener", "loopback"),
        ("http://[::ffff:127.0.0.1]/listener", "loopback"),
        ("http://[fe80::1]/listener", "link-local"),
        ("http://[fd00::1]/listener", "private"),
        ("http://localhost:9/listener", "loopback"),  # a name: resolved, then checked
        ("http://2130706433/listener", "loopback"),  # 127.0.0.1 spelled as one number
        ("http://100.64.0.1/listener", "non-public"),
    ],
)
async def test_callbacks_into_internal_networks_are_refused_by_default(client, auth, callback, why) -> None:
    r = await client.post(HUB, json={"callback": callback}, headers=auth())
    body = r.json()
    assert r.status_code == 422, body
    assert body["@type"] == "Error" and body["status"] == "422"
    assert body["message"].startswith("callback:") and why in body["message"]


async def test_allowed_networks_and_hosts_are_configurable(client_with, auth, listener: Listener) -> None:
    async with client_with(**LOCAL_ONLY) as c:
        assert (await c.post(HUB, json={"callback": listener.url}, headers=auth())).status_code == 201
        r = await c.post(HUB, json={"callback": "http://169.254.169.254/latest/"}, headers=auth())
        assert r.status_code == 422  # only the allowed network opens
    async with client_with(hub_allowed_hosts=["*.hooks.example.com"]) as c:
        r = await c.post(HUB, json={"callback": PUBLIC}, headers=auth())
        assert r.status_code == 422 and "allowed hosts" in r.json()["message"]


async def test_only_the_registering_user_may_delete_a_listener(client, auth) -> None:
    r = await client.post(HUB, json={"callback": PUBLIC}, headers=auth(user="am01"))
    assert r.status_code == 201
    path = f"{HUB}/{r.json()['id']}"
    other = await client.delete(path, headers=auth(user="am02"))
    assert other.status_code == 404 and other.json()["code"] == "NOT_FOUND"  # does not reveal it exists
    assert (await client.delete(path, headers=auth(user="am01"))).status_code == 204
    # a hub administrator may remove anyone's listener in its scope
    r = await client.post(HUB, json={"callback": PUBLIC}, headers=auth(user="am01"))
    admin = auth(user="ops", perms=["customer:read", "customer.hub:admin"])
    assert (await client.delete(f"{HUB}/{r.json()['id']}", headers=admin)).status_code == 204


async def test_a_user_may_register_a_limited_number_of_listeners(client_with, auth) -> None:
    async with client_with(hub_max_listeners_per_user=3) as c:
        for i in range(3):
            r = await c.post(HUB, json={"callback": f"{PUBLIC}/{i}"}, headers=auth(user="am01"))
            assert r.status_code == 201
        r = await c.post(HUB, json={"callback": f"{PUBLIC}/4"}, headers=auth(user="am01"))
        body = r.json()
        assert r.status_code == 429 and body["@type"] == "Error" and body["code"] == "QUOTA_EXCEEDED"
        assert "at most 3" in body["message"]
        # the quota is per user
        assert (await c.post(HUB, json={"callback": PUBLIC}, headers=auth(user="am02"))).status_code == 201


@asynccontextmanager
async def delivering_app(
    make_database: Any, nats_url: str, jwks: Any, settings_for: Any, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The customer app with its relay and hub dispatcher running against real NATS, no listeners left
    over from an earlier test."""
    db = make_database("test_customer_hub", [MIGRATIONS])
    settings = settings_for(
        db,
        jwks,
        relay_enabled=True,
        hub_enabled=True,
        nats_url=nats_url,
        relay_poll_seconds=0.2,
        public_url="http://gd-gz.kam.test",
        **{**LOCAL_ONLY, **overrides},
    )
    await declare_node_streams(nats_url, Topology.load(settings.topology_file), "gd-gz")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.db.sessionmaker() as session, session.begin():
            await session.execute(text("DELETE FROM customer.hub_subscription"))
        async with await app_client(app) as c:
            yield c


async def test_listener_receives_create_and_state_change_events(
    make_database: Any,
    nats_url: str,
    jwks: Any,
    auth: Any,
    customer_body: Any,
    settings_for: Any,
    listener: Listener,
) -> None:
    async with delivering_app(make_database, nats_url, jwks, settings_for) as c:
        r = await c.post(
            HUB,
            json={"callback": listener.url, "query": "eventType=CustomerCreateEvent,CustomerStateChangeEvent"},
            headers=auth(),
        )
        assert r.status_code == 201
        await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
        created = (await c.post(URL, json=customer_body(name="深圳地铁集团"), headers=auth())).json()
        await c.patch(f"{URL}/{created['id']}", json={"status": "INTENT"}, headers=auth())
        await c.patch(f"{URL}/{created['id']}", json={"grade": "B"}, headers=auth())  # not subscribed
        # a later subscribed event: a listener's queue is delivered in order, so once it has arrived the
        # unsubscribed one would have arrived before it
        await c.patch(f"{URL}/{created['id']}", json={"status": "ACTIVE"}, headers=auth())
        await wait_for(lambda: len(listener.of(created["id"])) >= 3, timeout=30)
    mine = listener.of(created["id"])
    assert [e["eventType"] for e in mine] == [
        "CustomerCreateEvent",
        "CustomerStateChangeEvent",
        "CustomerStateChangeEvent",
    ]
    assert mine[0]["event"]["customer"]["href"] == f"http://gd-gz.kam.test{URL}/{created['id']}"
    assert [e["event"]["customer"]["status"] for e in mine[1:]] == ["INTENT", "ACTIVE"]
    assert len({e["eventId"] for e in mine}) == 3


async def _consumer_ready(nats_url: str) -> bool:
    import nats

    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().consumer_info("UP_gd-gz", "customer-hub")
        return True
    except Exception:
        return False
    finally:
        await nc.close()


def _client_still_connected(handler: BaseHTTPRequestHandler) -> bool:
    """True while the client keeps the request's connection open (a closed one reads as EOF)."""
    sock: socket.socket = handler.connection
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable or sock.recv(1, socket.MSG_PEEK) != b""


async def test_a_slow_listener_does_not_hold_up_a_fast_one(
    make_database: Any, nats_url: str, jwks: Any, auth: Any, customer_body: Any, settings_for: Any
) -> None:
    fast = Listener()
    fast_got_it = threading.Event()
    release = threading.Event()
    slow_was_waited_for: list[bool] = []

    def block(handler: BaseHTTPRequestHandler, _event: dict[str, Any]) -> int:
        # hold the request until the fast listener has its event (or the test gives up), then note
        # whether the dispatcher was still waiting for this answer rather than having given up on it
        fast_got_it.wait(120)
        slow_was_waited_for.append(_client_still_connected(handler))
        release.wait(120)
        return 204

    slow = Listener(block)
    try:
        # a delivery timeout far beyond the test: the fast listener must not wait for the slow one
        async with delivering_app(make_database, nats_url, jwks, settings_for, hub_delivery_timeout_seconds=300) as c:
            query = "eventType=CustomerCreateEvent"
            for target in (slow, fast):  # the slow one first, as a sequential loop would serve it
                r = await c.post(HUB, json={"callback": target.url, "query": query}, headers=auth())
                assert r.status_code == 201
            await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
            created = (await c.post(URL, json=customer_body(name="广州港集团"), headers=auth())).json()
            await wait_for(lambda: slow.of(created["id"]), timeout=60)  # the slow delivery is in flight
            await wait_for(lambda: fast.of(created["id"]), timeout=60)
            fast_got_it.set()
            await wait_for(lambda: slow_was_waited_for, timeout=30)
            assert slow_was_waited_for == [True]  # the fast one was served while the slow one was blocked
            release.set()
            # and the slow one's delivery still completes, once
            await wait_for(lambda: _queue_empty(c), timeout=60)
        assert len(slow.of(created["id"])) == 1 and len(fast.of(created["id"])) == 1
    finally:
        fast_got_it.set()
        release.set()
        fast.close()
        slow.close()


async def test_a_failing_listener_backs_off_alone(
    make_database: Any, nats_url: str, jwks: Any, auth: Any, customer_body: Any, settings_for: Any
) -> None:
    failing = Listener(lambda _h, _e: 503)
    healthy = Listener()
    try:
        async with delivering_app(make_database, nats_url, jwks, settings_for) as c:
            query = "eventType=CustomerCreateEvent"
            ids = {}
            for name, target in (("failing", failing), ("healthy", healthy)):
                r = await c.post(HUB, json={"callback": target.url, "query": query}, headers=auth())
                ids[name] = r.json()["id"]
            await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
            first = (await c.post(URL, json=customer_body(name="珠江啤酒"), headers=auth())).json()
            await wait_for(lambda: failing.of(first["id"]) and healthy.of(first["id"]), timeout=60)
            state = await wait_for(lambda: _listener_state(c, ids["failing"]), timeout=30)
            assert state["failure_count"] >= 1 and state["next_attempt_at"] is not None
            assert state["last_error"] == "HTTP 503" and state["queued"] == 1  # kept for a retry
            # while it backs off, the healthy listener keeps getting new events at once
            second = (await c.post(URL, json=customer_body(name="广州酒家"), headers=auth())).json()
            await wait_for(lambda: healthy.of(second["id"]), timeout=60)
            assert (await _listener_state(c, ids["healthy"]) or {"failure_count": 0})["failure_count"] == 0
    finally:
        failing.close()
        healthy.close()


def _app_of(c: httpx.AsyncClient) -> Any:
    transport = c._transport
    assert isinstance(transport, httpx.ASGITransport)
    return transport.app


async def _queue_empty(c: httpx.AsyncClient) -> bool:
    async with _app_of(c).state.db.sessionmaker() as session:
        return (await session.scalar(text("SELECT count(*) FROM customer.hub_delivery"))) == 0


async def _listener_state(c: httpx.AsyncClient, sub_id: str) -> dict[str, Any] | None:
    """The listener's back-off state once a failure has been recorded (None before)."""
    async with _app_of(c).state.db.sessionmaker() as session:
        row = (
            (
                await session.execute(
                    text(
                        "SELECT failure_count, next_attempt_at, last_error,"
                        " (SELECT count(*) FROM customer.hub_delivery d WHERE d.subscription_id = s.id) AS queued"
                        " FROM customer.hub_subscription s WHERE s.id = :id AND failure_count > 0"
                    ),
                    {"id": sub_id},
                )
            )
            .mappings()
            .one_or_none()
        )
    return dict(row) if row else None


async def test_delivery_checks_the_callback_address_again(
    make_database: Any, nats_url: str, jwks: Any, auth: Any, customer_body: Any, settings_for: Any
) -> None:
    """A listener that was acceptable when it registered (or whose name now resolves elsewhere) is
    not posted to once its address is refused: the check runs before every delivery."""
    target = Listener()
    guard = Listener()
    try:
        # registered while 127.0.0.1 was allowed; the node now runs with the default policy
        async with delivering_app(make_database, nats_url, jwks, settings_for) as c:
            for listener in (target, guard):
                r = await c.post(HUB, json={"callback": listener.url}, headers=auth())
                assert r.status_code == 201
            sub_id = r.json()["id"]
            await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
            first = (await c.post(URL, json=customer_body(name="广州白云机场"), headers=auth())).json()
            await wait_for(lambda: target.of(first["id"]) and guard.of(first["id"]), timeout=60)
        async with _app_keeping_listeners(make_database, nats_url, jwks, settings_for) as c:
            await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
            second = (await c.post(URL, json=customer_body(name="广州南站"), headers=auth())).json()
            state = await wait_for(lambda: _listener_state(c, sub_id), timeout=60)
        assert "loopback" in state["last_error"] and state["queued"] == 1
        assert target.of(second["id"]) == [] and guard.of(second["id"]) == []
    finally:
        target.close()
        guard.close()


@asynccontextmanager
async def _app_keeping_listeners(
    make_database: Any, nats_url: str, jwks: Any, settings_for: Any
) -> AsyncIterator[httpx.AsyncClient]:
    db = make_database("test_customer_hub", [MIGRATIONS])
    settings = settings_for(db, jwks, relay_enabled=True, hub_enabled=True, nats_url=nats_url, relay_poll_seconds=0.2)
    app = create_app(settings)
    async with app.router.lifespan_context(app), await app_client(app) as c:
        yield c
