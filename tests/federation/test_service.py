"""The service service on a real trio federation (hq → gd → gd-gz): a ticket accepted at gd-gz is at gd
and hq with its status steps and SLA terms, and hq (a replica) refuses to write it, naming the owner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from kam_cli.runtime import Federation, wait_gone
from kam_platform.testing.helpers import topology_file

from .conftest import Nodes, run_dir, wait_until

pytestmark = pytest.mark.federation

TRIO = topology_file("trio")
TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
EFFECTIVE = "/api/v1/rules/effective"
CONVERGE = 120.0


@pytest.fixture(scope="module")
def trio() -> Iterator[Nodes]:
    """hq → gd → gd-gz, one process per node; staff seeded everywhere, the national rules at hq."""
    from kam_org.seed import seed as seed_org
    from kam_rules.seed import seed as seed_rules

    with run_dir("service") as where:
        fed = Federation(TRIO, where, process_per="node", use_environment=False, pg_fast=True)
        pids: list[int] = []
        try:
            fed.start()
            pids = fed.pids()
            for node in fed.topology.ordered():
                asyncio.run(seed_org(fed.database_url(node.code), node.code, fed.topology))
                asyncio.run(seed_rules(fed.database_url(node.code), node.code, fed.topology))
            nodes = Nodes(fed)
            yield nodes
            nodes.close()
        finally:
            pids = pids or fed.pids()
            fed.stop()
            assert wait_gone(pids, timeout=30) == []


def sla_in_force(nodes: Nodes, node: str) -> bool:
    r = nodes.get(node, EFFECTIVE, params={"kind": "sla", "node": node})
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def version_at(nodes: Nodes, node: str, path: str) -> int | None:
    r = nodes.get(node, path)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return int(r.json()["version"])


def test_ticket_accepted_at_gd_gz_is_at_gd_and_hq_read_only(trio: Nodes) -> None:
    nodes = trio
    customer = nodes.create_customer("gd-gz", name="广州地铁集团有限公司 (fed)", industry="TRANSPORT", grade="A")
    wait_until(lambda: sla_in_force(nodes, "gd-gz"), timeout=CONVERGE, what="national SLA rule at gd-gz")
    body: dict[str, Any] = {
        "name": "3号线 专线中断",
        "ticketType": "FAULT",
        "channel": "ACCOUNT_MANAGER",
        "priority": "HIGH",
        "relatedParty": [{"id": customer["id"], "role": "customer"}],
        "affectedService": "GZ-MPLS-0003",
    }
    r = nodes.post("gd-gz", TICKETS, body)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["sla"] is not None and ticket["customerGrade"] == "A", ticket
    path = f"{TICKETS}/{ticket['id']}"
    r = nodes.patch("gd-gz", path, {"status": "inProgress", "statusChangeReason": "已派单"})
    assert r.status_code == 200, r.text

    for node in ("gd", "hq"):
        wait_until(lambda n=node: version_at(nodes, n, path) == 2, timeout=CONVERGE, what=f"ticket v2 at {node}")
        replica = nodes.get(node, path).json()
        assert replica["ownerNode"] == "gd-gz" and replica["status"] == "inProgress"
        assert [s["status"] for s in replica["statusChange"]] == ["acknowledged", "inProgress"]
        assert replica["statusChange"][1]["changeReason"] == "已派单"
        assert replica["sla"]["ruleId"] == ticket["sla"]["ruleId"]
        assert at(replica["sla"]["resolveDueAt"]) == at(ticket["sla"]["resolveDueAt"])
        assert replica["sla"]["respondedAt"] is not None

    r = nodes.patch("hq", path, {"priority": "LOW"})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz", r.text
    assert nodes.get("gd-gz", path).json()["priority"] == "HIGH"
