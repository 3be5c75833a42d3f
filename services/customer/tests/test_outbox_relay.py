"""The outbox relay publishes committed events to the node's own JetStream, exactly once."""

import asyncio
from typing import Any

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.main import create_app
from kam_platform.federation import declare_node_streams
from kam_platform.outbox import OutboxRelay
from kam_platform.testing.plugin import app_client, wait_for
from kam_platform.topology import Topology

URL = "/tmf-api/customerManagement/v4/customer"
DEMO = __import__("pathlib").Path(__file__).resolve().parents[3] / "deploy" / "topologies" / "demo.yaml"


@pytest.fixture
async def relay_db(make_database: Any) -> str:
    from kam_customer.main import MIGRATIONS

    url: str = make_database("test_customer_relay", [MIGRATIONS])
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE customer.outbox, customer.audit, customer.account_manager_assignment, "
                "customer.contact, customer.customer, customer.organization"
            )
        )
    await engine.dispose()
    return url


async def test_created_customer_arrives_on_the_node_stream_with_msg_id(
    relay_db: str, nats_url: str, jwks: Any, auth: Any, customer_body: Any, settings_for: Any
) -> None:
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    app = create_app(settings_for(relay_db, jwks, relay_enabled=True, nats_url=nats_url, relay_poll_seconds=0.2))
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    async with app.router.lifespan_context(app), await app_client(app) as client:
        r = await client.post(URL, json=customer_body(name="中国银行广州分行"), headers=auth())
        assert r.status_code == 201
        cid = r.json()["id"]
        sub = await js.pull_subscribe(f"up.gd-gz.customer.customer.{cid}", durable=None, stream="UP_gd-gz")
        msgs = await wait_for(lambda: _fetch(sub), timeout=20)
        env = envelope_pb2.Envelope.FromString(msgs[0].data)
        assert env.event_type == "kam.v1.CustomerCreated" and env.aggregate_id == cid
        assert msgs[0].headers["Nats-Msg-Id"] == env.event_id
        assert customer_pb2.CustomerCreated.FromString(env.payload).customer.name == "中国银行广州分行"
        engine = create_async_engine(relay_db)
        async with engine.connect() as conn:
            unsent = await wait_for(lambda: _unsent(conn), timeout=20)
        await engine.dispose()
        assert unsent == "none"
    await nc.close()


async def _fetch(sub: Any) -> list[Any]:
    try:
        return await sub.fetch(1, timeout=0.5)  # type: ignore[no-any-return]
    except nats.errors.TimeoutError:
        return []


async def _unsent(conn: Any) -> str | None:
    n = (await conn.execute(text("SELECT count(*) FROM customer.outbox WHERE sent_at IS NULL"))).scalar()
    await conn.rollback()
    return "none" if n == 0 else None


async def test_only_one_relay_leads_and_a_republish_is_deduplicated(relay_db: str, nats_url: str) -> None:
    await declare_node_streams(nats_url, Topology.load(DEMO), "gd-gz")
    a = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz", poll_seconds=0.2)
    b = OutboxRelay(database_url=relay_db, nats_url=nats_url, schema="customer", node="gd-gz", poll_seconds=0.2)
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    try:
        await wait_for(lambda: a.is_leader or b.is_leader, timeout=10)
        await asyncio.sleep(0.5)  # give the other one the chance to (wrongly) take the lock too
        assert [a.is_leader, b.is_leader].count(True) == 1
    finally:
        for r in (a, b):
            r.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    # a relay that died after publish but before marking sent republishes with the same msg id
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    before = (await js.stream_info("UP_gd-gz")).state.messages
    ack1 = await js.publish("up.gd-gz.customer.customer.x", b"1", headers={"Nats-Msg-Id": "dup-test-1"})
    ack2 = await js.publish("up.gd-gz.customer.customer.x", b"1", headers={"Nats-Msg-Id": "dup-test-1"})
    assert not ack1.duplicate and ack2.duplicate
    assert (await js.stream_info("UP_gd-gz")).state.messages == before + 1
    await nc.close()
