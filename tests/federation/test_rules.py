"""Rules down the tree on the real demo federation: a national SLA rule published at hq is in force at
gd-gz; gd tightens it within its bounds and gd-gz sees the refinement while js-nj keeps the national
rule; a loosening refinement is refused naming the bound; a node offline during a publication
converges; a replica refuses writes naming the owner."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from kam_cli.runtime import NODE_PROCESS

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation

RULES = "/api/v1/rules/ruleSet"
EFFECTIVE = "/api/v1/rules/effective"
CONVERGE = 120.0
RESUME = 360.0  # a source resumes after up to ~2.5 min of server back-off; a loaded machine needs more
START = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()


def sla(response_a: int) -> dict[str, Any]:
    timers = {
        g: {t: {"responseMinutes": m, "resolveMinutes": m * 8} for t in ("COMPLAINT", "FAULT", "REQUEST")}
        for g, m in {"A": 60, "B": 120, "C": 240}.items()
    }
    timers["A"]["COMPLAINT"]["responseMinutes"] = response_a
    return {"timers": timers}


def post(nodes: Nodes, node: str, path: str, body: Any, user: str) -> Any:
    return nodes.http.post(nodes.url(node, path), json=body, headers=nodes.headers(node, user=user))


def publish(nodes: Nodes, node: str, body: dict[str, Any]) -> dict[str, Any]:
    """Drafted by admin, approved by sysadmin (separation of duties), published by admin."""
    r = post(nodes, node, RULES, body, "admin")
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = post(nodes, node, f"{RULES}/{rid}/approve", None, "admin")
    assert r.status_code == 403 and r.json()["code"] == "SEPARATION_OF_DUTIES", r.text
    r = post(nodes, node, f"{RULES}/{rid}/approve", None, "sysadmin")
    assert r.status_code == 200, r.text
    r = post(nodes, node, f"{RULES}/{rid}/publish", None, "admin")
    assert r.status_code == 200 and r.json()["status"] == "PUBLISHED", r.text
    return r.json()  # type: ignore[no-any-return]


def in_force(nodes: Nodes, node: str, kind: str = "sla") -> str | None:
    r = nodes.get(node, EFFECTIVE, params={"kind": kind, "node": node})
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json()["ruleSet"]["id"]  # type: ignore[no-any-return]


def test_national_rule_refined_within_bounds_down_one_branch(demo: Nodes) -> None:
    nodes = demo
    national = publish(
        nodes,
        "hq",
        {
            "kind": "sla",
            "name": "服务时限 (national)",
            "validFor": {"startDate": START},
            "parameters": sla(60),
            "bounds": [{"path": "timers.*.*.responseMinutes", "allow": "decrease", "min": 5}],
        },
    )
    for node in ("gd", "gd-gz", "js-nj"):
        wait_until(lambda n=node: in_force(nodes, n) == national["id"], timeout=CONVERGE, what=f"national at {node}")

    # gd may only tighten: a loosening is refused naming the bound, nothing is written
    body = {"kind": "sla", "name": "服务时限 (广东)", "validFor": {"startDate": START}, "parameters": sla(90)}
    r = post(nodes, "gd", RULES, body, "admin")
    assert r.status_code == 422, r.text
    assert r.json()["details"]["field"] == "parameters.timers.A.COMPLAINT.responseMinutes"
    assert "timers.*.*.responseMinutes" in r.json()["message"]

    refined = publish(nodes, "gd", {**body, "parameters": sla(30)})
    assert refined["basedOn"] == national["id"]
    wait_until(lambda: in_force(nodes, "gd-gz") == refined["id"], timeout=CONVERGE, what="refinement at gd-gz")
    r = nodes.get("gd-gz", EFFECTIVE, params={"kind": "sla"})
    assert r.json()["ruleSet"]["parameters"]["timers"]["A"]["COMPLAINT"]["responseMinutes"] == 30
    assert r.json()["chain"] == [national["id"], refined["id"]]
    assert in_force(nodes, "js-nj") == national["id"]  # the other branch keeps the national rule
    # the group sees the refinement (it flows up) and answers for gd-gz too
    wait_until(
        lambda: nodes.get("hq", f"{RULES}/{refined['id']}").status_code == 200,
        timeout=CONVERGE,
        what="refinement replicated up to hq",
    )
    r = nodes.get("hq", EFFECTIVE, params={"kind": "sla", "node": "gd-gz"})
    assert r.json()["ruleSet"]["id"] == refined["id"]

    # replicas refuse writes, naming the owner
    for node, rid, owner in (
        ("gd-gz", national["id"], "hq"),
        ("gd", national["id"], "hq"),
        ("gd-gz", refined["id"], "gd"),
    ):
        r = post(nodes, node, f"{RULES}/{rid}/retire", None, "admin")
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == owner
        r = nodes.http.patch(nodes.url(node, f"{RULES}/{rid}"), json={"name": "x"}, headers=nodes.headers(node))
        assert r.status_code == 409 and r.json()["details"]["ownerNode"] == owner


def test_node_offline_during_publication_converges(demo: Nodes) -> None:
    nodes, fed = demo, demo.fed
    fed.stop_service("js-nj", NODE_PROCESS)
    fed.stop_nats("js-nj")
    try:
        rule = publish(
            nodes,
            "hq",
            {
                "kind": "churn_warning",
                "name": "流失预警 (national)",
                "validFor": {"startDate": START},
                "parameters": {"spendDropPercent": 30, "months": 3, "complaints": 3},
                "bounds": [],
            },
        )
        wait_until(lambda: in_force(nodes, "js", "churn_warning") == rule["id"], timeout=CONVERGE, what="js has it")
    finally:
        fed.restart_nats("js-nj")
        fed.restart_service("js-nj", NODE_PROCESS)
    wait_until(lambda: in_force(nodes, "js-nj", "churn_warning") == rule["id"], timeout=RESUME, what="js-nj caught up")
    r = nodes.get("js-nj", f"{RULES}/{rule['id']}/version")
    assert r.status_code == 200 and [v["status"] for v in r.json()] == ["PUBLISHED"]


async def _forget_rules(database_url: str) -> None:
    """The node's replica of the rules dataset is gone (restored from an old backup, or a new node)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("TRUNCATE rules.rule_set, rules.rule_set_version")
    finally:
        await conn.close()


def test_node_without_the_dataset_catches_up_by_snapshot(demo: Nodes) -> None:
    nodes = demo
    r = nodes.get("gd", RULES, params={"status": "PUBLISHED", "limit": 1000})
    assert r.status_code == 200
    held = {x["id"] for x in r.json()}
    assert held, "the earlier tests published rules gd holds"
    asyncio.run(_forget_rules(nodes.fed.database_url("gd-gz")))
    nodes.fed.restart_service("gd-gz", NODE_PROCESS)  # a fresh process: no cached answers either
    assert in_force(nodes, "gd-gz") is None
    r = post(nodes, "gd-gz", "/api/v1/sync/resync", {"reason": "rules replica lost"}, "admin")
    assert r.status_code == 202, r.text

    def caught_up() -> bool:
        r = nodes.get("gd-gz", RULES, params={"status": "PUBLISHED", "limit": 1000})
        return r.status_code == 200 and held <= {x["id"] for x in r.json()}

    wait_until(caught_up, timeout=CONVERGE, what="gd-gz holds every published rule again")
    assert in_force(nodes, "gd-gz") is not None
