"""TMF630 /hub: listeners register for customer events and receive them (at least once, in scope)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from kam_customer.main import create_app
from kam_platform.embedded.ports import free_port
from kam_platform.federation import declare_node_streams
from kam_platform.testing.plugin import app_client, wait_for
from kam_platform.topology import Topology

HUB = "/tmf-api/customerManagement/v4/hub"
URL = "/tmf-api/customerManagement/v4/customer"


@pytest.fixture
def listener() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/listener", received
    server.shutdown()


async def test_registration_is_validated(client, auth) -> None:
    r = await client.post(HUB, json={"callback": "not a url"}, headers=auth())
    assert r.status_code == 422 and "callback" in r.json()["message"]
    r = await client.post(HUB, json={"callback": "http://x.test/l", "query": "eventType=Nope"}, headers=auth())
    assert r.status_code == 422 and "eventType" in r.json()["message"]
    r = await client.post(
        HUB, json={"callback": "http://x.test/l", "query": "eventType=CustomerCreateEvent"}, headers=auth()
    )
    assert r.status_code == 201 and r.headers["location"].endswith(r.json()["id"])
    assert (await client.delete(f"{HUB}/{r.json()['id']}", headers=auth())).status_code == 204
    assert (await client.delete(f"{HUB}/{r.json()['id']}", headers=auth())).status_code == 404


async def test_listener_receives_create_and_state_change_events(
    make_database: Any,
    nats_url: str,
    jwks: Any,
    auth: Any,
    customer_body: Any,
    settings_for: Any,
    listener: tuple[str, list[dict[str, Any]]],
) -> None:
    from kam_customer.main import MIGRATIONS

    callback, received = listener
    db = make_database("test_customer_hub", [MIGRATIONS])
    settings = settings_for(
        db,
        jwks,
        relay_enabled=True,
        hub_enabled=True,
        nats_url=nats_url,
        relay_poll_seconds=0.2,
        public_url="http://gd-gz.kam.test",
    )
    await declare_node_streams(nats_url, Topology.load(settings.topology_file), "gd-gz")
    app = create_app(settings)
    async with app.router.lifespan_context(app), await app_client(app) as c:
        r = await c.post(
            HUB,
            json={"callback": callback, "query": "eventType=CustomerCreateEvent,CustomerStateChangeEvent"},
            headers=auth(),
        )
        assert r.status_code == 201
        await wait_for(lambda: _consumer_ready(nats_url), timeout=20)
        created = (await c.post(URL, json=customer_body(name="深圳地铁集团"), headers=auth())).json()
        await c.patch(f"{URL}/{created['id']}", json={"status": "INTENT"}, headers=auth())
        await c.patch(f"{URL}/{created['id']}", json={"grade": "B"}, headers=auth())  # not subscribed
        await wait_for(
            lambda: len([e for e in received if e["event"]["customer"]["id"] == created["id"]]) >= 2, timeout=30
        )
    mine = [e for e in received if e["event"]["customer"]["id"] == created["id"]]
    assert [e["eventType"] for e in mine] == ["CustomerCreateEvent", "CustomerStateChangeEvent"]
    assert mine[0]["event"]["customer"]["href"] == f"http://gd-gz.kam.test{URL}/{created['id']}"
    assert mine[1]["event"]["customer"]["status"] == "INTENT"
    assert len({e["eventId"] for e in mine}) == 2


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
