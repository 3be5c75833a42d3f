"""The demo seed: a handful of tickets per local network for its key accounts, in every state of the
closed loop, some breached and escalated; idempotent; nothing at a node with a subtree."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import asyncpg

from kam_platform.embedded.postgres import plain_dsn
from kam_platform.testing.helpers import topology_file
from kam_platform.topology import Topology
from kam_service.main import MIGRATIONS
from kam_service.seed import PLANS, seed

TOPOLOGY = Topology.load(topology_file("demo"))


def accounts(n: int) -> list[dict[str, object]]:
    return [
        {
            "id": uuid.uuid4(),
            "code": f"KA-T-{i:03d}",
            "name": f"测试客户{i}",
            "grade": "ABC"[i % 3],
            "account_manager": "am-li",
        }
        for i in range(n)
    ]


async def test_seed_writes_tickets_in_every_state_once(make_database: Callable[[str, list[str]], str]) -> None:
    url = make_database("test_service_seed", [MIGRATIONS])
    key_accounts = accounts(10)
    assert await seed(url, "gd", TOPOLOGY, key_accounts=key_accounts) == 0
    assert await seed(url, "gd-gz", TOPOLOGY, key_accounts=[]) == 0
    assert await seed(url, "gd-gz", TOPOLOGY, key_accounts=key_accounts) == len(PLANS)
    assert await seed(url, "gd-gz", TOPOLOGY, key_accounts=key_accounts) == 0
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT status, ticket_type, resolve_breached, response_breached, escalation_level, sla_rule_id, "
            "reopen_count, satisfaction_score FROM service.trouble_ticket WHERE owner_node = 'gd-gz'"
        )
        outbox = await conn.fetchval("SELECT count(*) FROM service.outbox")
        plans = await conn.fetch("SELECT name, jsonb_array_length(targets) AS n FROM service.care_plan")
        schemes = await conn.fetchval("SELECT count(*) FROM service.contact_scheme WHERE owner_node = 'gd-gz'")
    finally:
        await conn.close()
    assert len(rows) == len(PLANS)
    assert {r["status"] for r in rows} >= {"acknowledged", "inProgress", "pending", "resolved", "closed"}
    assert {r["ticket_type"] for r in rows} == {"FAULT", "COMPLAINT", "CONSULTATION", "CHANGE_REQUEST"}
    assert all(r["sla_rule_id"] == uuid.uuid5(uuid.NAMESPACE_URL, "kam:rules:hq:sla:default") for r in rows)
    assert any(r["resolve_breached"] for r in rows) and any(r["response_breached"] for r in rows)
    assert any(r["escalation_level"] > 0 for r in rows)
    assert any(r["reopen_count"] == 1 for r in rows)
    assert any(r["satisfaction_score"] == 5 for r in rows)
    assert outbox > len(PLANS)  # the tickets travel up like any write
    # care and contact schemes once, however often the seed runs
    assert [(p["name"], p["n"]) for p in plans] == [("春节问候 (Spring Festival greeting)", 10)]
    assert schemes == 3
