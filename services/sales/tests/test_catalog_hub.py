"""TMF630 /hub for the catalogue, with the relay and the hub dispatcher running against real NATS: a
listener at the group hears its national offering created (ProductOfferingCreateEvent) and retired
(ProductOfferingAttributeValueChangeEvent), drafts are not heard, and registration is validated."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any

import httpx
import nats
import pytest
from sqlalchemy import text

from kam_platform.embedded.ports import free_port
from kam_platform.federation import declare_node_streams
from kam_platform.testing.plugin import app_client, wait_for
from kam_platform.topology import Topology
from kam_sales.main import MIGRATIONS, create_app

from .conftest import make_settings

HUB = "/tmf-api/productCatalogManagement/v4/hub"
OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"
PUBLIC = "http://93.184.216.34/listener"  # a public address: registration never connects to it
Auth = Callable[..., dict[str, str]]


class Listener:
    """A real HTTP listener on 127.0.0.1 that records the events POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server: HTTPServer = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, item_id: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e["event"]["productOffering"]["id"] == item_id]


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.server.shutdown()
    server.server.server_close()


async def test_registration_is_validated(clients: dict[str, httpx.AsyncClient], auth: Auth) -> None:
    c = clients["hq"]
    r = await c.post(HUB, json={"callback": "not a url"}, headers=auth("hq"))
    assert r.status_code == 422 and "callback" in r.json()["message"]
    r = await c.post(HUB, json={"callback": PUBLIC, "query": "eventType=CustomerCreateEvent"}, headers=auth("hq"))
    assert r.status_code == 422 and "eventType" in r.json()["message"]
    r = await c.post(HUB, json={"callback": "http://10.1.2.3/l"}, headers=auth("hq"))
    assert r.status_code == 422 and "private" in r.json()["message"]
    r = await c.post(
        HUB, json={"callback": PUBLIC, "query": "eventType=ProductOfferingCreateEvent"}, headers=auth("hq")
    )
    assert r.status_code == 201 and r.headers["location"].endswith(r.json()["id"]), r.text
    assert (await c.delete(f"{HUB}/{r.json()['id']}", headers=auth("hq", user="other"))).status_code == 404
    assert (await c.delete(f"{HUB}/{r.json()['id']}", headers=auth("hq"))).status_code == 204


@asynccontextmanager
async def delivering_app(make_database: Any, nats_url: str, jwks: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The sales app at hq with its relay and hub dispatcher running against real NATS."""
    db = make_database("test_sales_hub", [MIGRATIONS])
    settings = make_settings(db, jwks, "hq", "sales").model_copy(
        update={
            "relay_enabled": True,
            "hub_enabled": True,
            "nats_url": nats_url,
            "relay_poll_seconds": 0.2,
            "public_url": "http://hq.kam.test",
            "hub_allowed_networks": ["127.0.0.1/32"],
        }
    )
    await declare_node_streams(nats_url, Topology.load(settings.topology_file), "hq")
    app = create_app(settings, reminders_every=None)
    async with app.router.lifespan_context(app):
        async with app.state.db.sessionmaker() as session, session.begin():
            await session.execute(text("DELETE FROM sales.hub_subscription"))
        async with await app_client(app, "http://hq.kam.test") as c:
            yield c


async def _consumer_ready(nats_url: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().consumer_info("UP_hq", "sales-hub")
        return True
    except Exception:
        return False
    finally:
        await nc.close()


async def test_a_listener_at_the_group_hears_its_offerings_published_and_retired(
    make_database: Any, nats_url: str, jwks: Any, auth: Auth, listener: Listener
) -> None:
    async with delivering_app(make_database, nats_url, jwks) as c:
        r = await c.post(HUB, json={"callback": listener.url}, headers=auth("hq"))
        assert r.status_code == 201, r.text
        await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
        draft = {"name": "草稿套餐", "validFor": {"startDateTime": "2026-01-01"}}
        d = (await c.post(OFFERINGS, json=draft, headers=auth("hq"))).json()
        body = {"name": "互联网专线 hub", "lifecycleStatus": "active", "validFor": {"startDateTime": "2026-01-01"}}
        o = (await c.post(OFFERINGS, json=body, headers=auth("hq"))).json()
        r = await c.patch(f"{OFFERINGS}/{o['id']}", json={"lifecycleStatus": "retired"}, headers=auth("hq"))
        assert r.status_code == 200, r.text
        await wait_for(lambda: len(listener.of(o["id"])) >= 2, timeout=30)
    mine = listener.of(o["id"])
    assert [e["eventType"] for e in mine] == ["ProductOfferingCreateEvent", "ProductOfferingAttributeValueChangeEvent"]
    assert mine[0]["event"]["productOffering"]["href"] == f"http://hq.kam.test{OFFERINGS}/{o['id']}"
    assert [e["event"]["productOffering"]["lifecycleStatus"] for e in mine] == ["active", "retired"]
    assert listener.of(d["id"]) == []  # a draft stays at the author, unheard
