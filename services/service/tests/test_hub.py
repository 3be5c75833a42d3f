"""TMF630 /hub for TMF621: listeners register (validated, SSRF-guarded, owner-only removal) and receive
the node's ticket events — create, status change, attribute value change — at least once, in scope."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any

import httpx
import nats
import pytest
from sqlalchemy import text

from kam_customer.main import MIGRATIONS as CUSTOMER_MIGRATIONS
from kam_customer.main import create_app as create_customer_app
from kam_platform.embedded.ports import free_port
from kam_platform.federation import declare_node_streams
from kam_platform.testing.plugin import app_client, wait_for
from kam_platform.topology import Topology
from kam_rules.main import MIGRATIONS as RULES_MIGRATIONS
from kam_rules.main import create_app as create_rules_app
from kam_service.lookups import Lookups
from kam_service.main import MIGRATIONS, create_app

from .conftest import dispatcher, settings_for

HUB = "/tmf-api/troubleTicket/v4/hub"
BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
PUBLIC = "http://93.184.216.34/listener"  # a public address: registration never connects to it
Auth = Callable[..., dict[str, str]]


class Listener:
    """A real HTTP listener on 127.0.0.1 that records the events POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received.append({**event, "_path": self.path})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server: HTTPServer = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, ticket_id: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e["event"]["troubleTicket"]["id"] == ticket_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


async def test_registration_is_validated_and_removed_only_by_its_owner(clients: Any, auth: Auth) -> None:
    c = clients["gd-gz"]
    r = await c.post(HUB, json={"callback": "not a url"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "callback" in r.json()["message"]
    r = await c.post(HUB, json={"callback": PUBLIC, "query": "eventType=Nope"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "eventType" in r.json()["message"]
    r = await c.post(HUB, json={"callback": "http://127.0.0.1:9/l"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "loopback" in r.json()["message"]
    r = await c.post(
        HUB, json={"callback": PUBLIC, "query": "eventType=TroubleTicketStatusChangeEvent"}, headers=auth("gd-gz")
    )
    assert r.status_code == 201 and r.headers["location"].endswith(r.json()["id"])
    sub = r.json()["id"]
    assert (await c.delete(f"{HUB}/{sub}", headers=auth("gd-gz", user="someone-else"))).status_code == 404
    assert (await c.delete(f"{HUB}/{sub}", headers=auth("gd-gz"))).status_code == 204
    assert (await c.delete(f"{HUB}/{sub}", headers=auth("gd-gz"))).status_code == 404
    assert (await c.delete(f"{HUB}/not-an-id", headers=auth("gd-gz"))).status_code == 404
    r = await c.post(HUB, json={"callback": PUBLIC}, headers=auth("gd-gz", perms=[]))
    assert r.status_code == 403


@asynccontextmanager
async def delivering_app(make_database: Any, nats_url: str, jwks: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The service app of gd-gz with its relay and hub dispatcher on real NATS, asking real customer and
    rules apps on the same (committed) database."""
    db = make_database("test_service_hub", [MIGRATIONS, CUSTOMER_MIGRATIONS, RULES_MIGRATIONS])
    customer = create_customer_app(settings_for(db, jwks, "gd-gz", "customer"))
    rules = create_rules_app(settings_for(db, jwks, "gd-gz", "rules"))
    gateway = dispatcher(customer, rules)

    def lookups_client() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gd-gz.kam.test")

    settings = settings_for(db, jwks, "gd-gz", "service").model_copy(
        update={
            "relay_enabled": True,
            "hub_enabled": True,
            "nats_url": nats_url,
            "relay_poll_seconds": 0.2,
            "public_url": "http://gd-gz.kam.test",
            "hub_allowed_networks": ["127.0.0.1/32"],
        }
    )
    await declare_node_streams(nats_url, Topology.load(settings.topology_file), "gd-gz")
    app = create_app(settings, lookups=Lookups(lookups_client), evaluate_every=None)
    async with (
        customer.router.lifespan_context(customer),
        rules.router.lifespan_context(rules),
        app.router.lifespan_context(app),
    ):
        async with app.state.db.sessionmaker() as session, session.begin():
            await session.execute(text("DELETE FROM service.hub_subscription"))
        async with await app_client(app, "http://gd-gz.kam.test") as c:
            yield c


async def _consumer_ready(nats_url: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().consumer_info("UP_gd-gz", "service-hub")
        return True
    except Exception:
        return False
    finally:
        await nc.close()


async def _customer(db_url_app: httpx.AsyncClient) -> str:
    transport = db_url_app._transport
    assert isinstance(transport, httpx.ASGITransport)
    app: Any = transport.app
    cid = uuid.uuid4()
    async with app.state.db.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type,"
                " mgmt_level, industry, grade, life_status, recog_status, account_manager) VALUES (:id, 'gd-gz',"
                " 1, :code, '广州港集团', 'SINGLE', 'LOCAL', 'TRANSPORT', 'A', 'ACTIVE', 'CONFIRMED', 'am-li')"
            ),
            {"id": cid, "code": f"KAT{cid.hex[-12:].upper()}"},
        )
    return str(cid)


async def test_listener_hears_create_status_and_attribute_changes(
    make_database: Any, nats_url: str, jwks: Any, auth: Auth, listener: Listener
) -> None:
    async with delivering_app(make_database, nats_url, jwks) as c:
        r = await c.post(HUB, json={"callback": listener.url}, headers=auth("gd-gz"))
        assert r.status_code == 201, r.text
        only_status = await c.post(
            HUB,
            json={"callback": listener.url + "?s", "query": "eventType=TroubleTicketStatusChangeEvent"},
            headers=auth("gd-gz"),
        )
        assert only_status.status_code == 201
        await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
        cid = await _customer(c)
        body = {
            "name": "港区专线中断",
            "ticketType": "FAULT",
            "channel": "HOTLINE",
            "relatedParty": [{"id": cid, "role": "customer"}],
        }
        r = await c.post(BASE, json=body, headers=auth("gd-gz"))
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        patch = {**auth("gd-gz"), "Content-Type": "application/merge-patch+json"}
        assert (await c.patch(f"{BASE}/{tid}", json={"handler": "zhang"}, headers=patch)).status_code == 200
        assert (await c.patch(f"{BASE}/{tid}", json={"status": "inProgress"}, headers=patch)).status_code == 200
        await wait_for(lambda: len(listener.of(tid)) >= 4, timeout=60)
    everything = [e for e in listener.of(tid) if e["_path"] == "/listener"]
    status_only = [e for e in listener.of(tid) if e["_path"] == "/listener?s"]
    # a listener's queue is delivered in order
    assert [e["eventType"] for e in everything] == [
        "TroubleTicketCreateEvent",
        "TroubleTicketAttributeValueChangeEvent",
        "TroubleTicketStatusChangeEvent",
    ]
    assert [e["eventType"] for e in status_only] == ["TroubleTicketStatusChangeEvent"]
    assert status_only[0]["eventId"] == everything[2]["eventId"]
    assert everything[1]["event"]["troubleTicket"]["handler"] == "zhang"
    assert everything[2]["event"]["troubleTicket"]["status"] == "inProgress"
    assert everything[0]["event"]["troubleTicket"]["href"] == f"http://gd-gz.kam.test{BASE}/{tid}"
    assert len({e["eventId"] for e in everything}) == 3
