"""The service service on a real trio federation (hq → gd → gd-gz): a ticket accepted at gd-gz is at gd
and hq with its status steps and SLA terms, and hq (a replica) refuses to write it, naming the owner."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from typing import Any

import pytest

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation

TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
EFFECTIVE = "/api/v1/rules/effective"
DOCUMENTS = "/api/v1/service/document"
CONVERGE = 120.0


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


def ticket_at(nodes: Nodes, node: str, path: str) -> dict[str, Any] | None:
    r = nodes.get(node, path)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_fault_reported_at_hq_is_handled_at_gd_gz_and_hq_sees_every_step(trio: Nodes) -> None:
    nodes = trio
    customer = nodes.create_customer("gd-gz", name="广州港集团有限公司 (fed)", industry="TRANSPORT", grade="A")
    cpath = f"/tmf-api/customerManagement/v4/customer/{customer['id']}"
    wait_until(lambda: nodes.get("hq", cpath).status_code == 200, timeout=CONVERGE, what="customer at hq")
    wait_until(lambda: sla_in_force(nodes, "hq"), timeout=CONVERGE, what="national SLA rule at hq")
    body: dict[str, Any] = {
        "name": "全国专线 广州节点中断",
        "ticketType": "FAULT",
        "channel": "HOTLINE",
        "priority": "CRITICAL",
        "relatedParty": [{"id": customer["id"], "role": "customer"}],
        "affectedService": "CN-MPLS-GZ-01",
    }
    r = nodes.post("hq", TICKETS, body)
    assert r.status_code == 201, r.text
    reported = r.json()
    rpath = f"{TICKETS}/{reported['id']}"
    r = nodes.post("hq", f"/api/v1/service/troubleTicket/{reported['id']}/dispatch", {"reason": "属地处理"})
    assert r.status_code == 200, r.text
    dispatch = r.json()["dispatch"]
    assert dispatch["dispatchedTo"] == "gd-gz", dispatch
    hpath = f"{TICKETS}/{dispatch['handlerTicketId']}"
    # the reporter no longer writes it: the handler does
    r = nodes.patch("hq", rpath, {"status": "inProgress"})
    assert r.status_code == 409, r.text

    handler = wait_until(lambda: ticket_at(nodes, "gd-gz", hpath), timeout=CONVERGE, what="handler ticket at gd-gz")
    assert handler["ownerNode"] == "gd-gz" and handler["dispatch"]["reportedAtNode"] == "hq"
    assert at(handler["sla"]["resolveDueAt"]) == at(reported["sla"]["resolveDueAt"])  # one deadline
    for status in ("inProgress", "resolved"):
        r = nodes.patch("gd-gz", hpath, {"status": status, "statusChangeReason": f"gd-gz {status}"})
        assert r.status_code == 200, r.text

    def mirrored() -> dict[str, Any] | None:
        t = ticket_at(nodes, "hq", rpath)
        return t if t is not None and t["status"] == "resolved" else None

    final = wait_until(mirrored, timeout=CONVERGE, what="handler's steps mirrored at hq")
    steps = [(s["status"], s.get("node")) for s in final["statusChange"]]
    assert steps[0] == ("acknowledged", None)  # accepted at hq
    assert steps[-3:] == [("acknowledged", "gd-gz"), ("inProgress", "gd-gz"), ("resolved", "gd-gz")], steps
    assert final["sla"]["respondedAt"] is not None and final["resolutionDate"] is not None
    # the handler's own ticket travels up like any other (hq's ticket never flows down)
    for node in ("gd", "hq"):
        wait_until(
            lambda n=node: (ticket_at(nodes, n, hpath) or {}).get("status") == "resolved",
            timeout=CONVERGE,
            what=f"handler ticket resolved at {node}",
        )
    assert ticket_at(nodes, "gd", rpath) is None


KB = "/api/v1/service/knowledge"


def test_knowledge_published_at_hq_found_at_gd_gz_and_a_contribution_reviewed_at_gd(trio: Nodes) -> None:
    nodes = trio

    def post(node: str, path: str, user: str, body: Any = None) -> Any:
        r = nodes.http.post(nodes.url(node, path), json=body, headers=nodes.headers(node, user=user))
        assert r.status_code in (200, 201), r.text
        return r.json()

    item = post(
        "hq",
        f"{KB}/item",
        "admin",
        {"kind": "FAQ", "title": "政企专线故障申报指引", "body": "专线中断请拨 10000 转政企。"},
    )
    post("hq", f"{KB}/item/{item['id']}/review", "sysadmin")
    post("hq", f"{KB}/item/{item['id']}/publish", "admin")

    def found(node: str, q: str) -> list[str]:
        r = nodes.get(node, f"{KB}/item", params={"q": q})
        assert r.status_code == 200, r.text
        return [h["id"] for h in r.json()]

    wait_until(lambda: item["id"] in found("gd-gz", "专线 故障"), timeout=CONVERGE, what="hq knowledge at gd-gz")

    c = post(
        "gd-gz",
        f"{KB}/contribution",
        "admin",
        {"kind": "SOLUTION_CASE", "title": "广州港 5G 专网", "body": "码头 5G 专网覆盖。"},
    )
    wait_until(
        lambda: nodes.get("gd", f"{KB}/contribution/{c['id']}").status_code == 200, timeout=CONVERGE, what="at gd"
    )
    taken = post("gd", f"{KB}/contribution/{c['id']}/takeUp", "admin")
    assert taken["author"] == "admin@gd-gz"
    post("gd", f"{KB}/item/{taken['id']}/review", "admin")  # admin@gd is another person than admin@gd-gz
    post("gd", f"{KB}/item/{taken['id']}/publish", "admin")

    def outcome() -> Any:
        return nodes.get("gd-gz", f"{KB}/contribution/{c['id']}").json()["outcome"]

    wait_until(lambda: (outcome() or {}).get("status") == "published", timeout=CONVERGE, what="outcome at gd-gz")
    wait_until(lambda: taken["id"] in found("gd-gz", "5G 专网"), timeout=CONVERGE, what="gd item at gd-gz")


def test_document_uploaded_at_gd_gz_is_opened_at_hq_with_its_hash(trio: Nodes) -> None:
    """F4: the metadata and the content's pieces travel up; hq serves the same bytes (sha256 checked),
    and says so (503) while the pieces are still on their way."""
    nodes = trio
    customer = nodes.create_customer("gd-gz", name="广州白云机场 (fed)", industry="TRANSPORT", grade="A")
    r = nodes.post(
        "gd-gz",
        DOCUMENTS,
        {
            "title": "航站楼专线合同",
            "category": "CONTRACT_SCAN",
            "relatedParty": [{"id": customer["id"], "role": "customer"}],
        },
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    content = os.urandom(1024 * 1024 + 12345)  # 9 pieces of at most 128 KiB
    digest = hashlib.sha256(content).hexdigest()
    r = nodes.http.post(
        nodes.url("gd-gz", f"{DOCUMENTS}/{doc['id']}/content"),
        content=content,
        params={"fileName": "合同.pdf"},
        headers={**nodes.headers("gd-gz"), "Content-Type": "application/pdf"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["versions"][0]["sha256"] == digest

    def opened_at_hq() -> bytes | None:
        got = nodes.get("hq", f"{DOCUMENTS}/{doc['id']}/content")
        if got.status_code in (404, 503):  # the metadata, or some pieces, not there yet: said so
            assert got.json()["@type"] == "Error"
            return None
        assert got.status_code == 200, got.text
        assert got.headers["x-content-sha256"] == digest
        return got.content

    body = wait_until(opened_at_hq, timeout=CONVERGE, what="document content at hq")
    assert hashlib.sha256(body).hexdigest() == digest and len(body) == len(content)
    meta = nodes.get("hq", f"{DOCUMENTS}/{doc['id']}").json()
    assert meta["ownerNode"] == "gd-gz" and meta["currentVersion"] == 1
    # hq holds a replica: read-only, naming the owner
    r = nodes.patch("hq", f"{DOCUMENTS}/{doc['id']}", {"title": "x"})
    assert r.status_code == 409 and "gd-gz" in r.json()["message"]
