"""Visits over real PostgreSQL: plan → record (participants, outcome, minutes, follow-ups) or cancel with
409 naming the allowed moves, follow-ups kept after, replicas refusing writes, scope, and visit
completion (VISIT_DONE = done ÷ planned) rolled up from local network to province to group."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

BASE = "/api/v1/sales/visits"
DONE = "/api/v1/sales/visitCompletion"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
CUSTOMER = str(uuid.UUID(int=92))
RECORD = {
    "participants": [{"name": "张经理", "side": "customer", "role": "信息中心主任"}, {"name": "am1", "side": "ours"}],
    "outcome": "positive",
    "minutes": "客户计划扩容专线至 1G，下周提交方案。",
    "followUps": [{"title": "提交扩容方案", "dueDate": "2027-01-08", "assignee": "am1"}],
}


async def _plan(c: httpx.AsyncClient, auth: Auth, node: str = "gd-gz", **over: Any) -> dict[str, Any]:
    body = {"customer": {"id": CUSTOMER}, "subject": "季度走访", "plannedAt": "2026-12-30T10:00:00+08:00", **over}
    r = await c.post(BASE, json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_plan_then_record_then_follow_ups(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    v = await _plan(c, auth)
    assert v["status"] == "planned" and v["followUps"] == [] and v["ownerNode"] == "gd-gz"
    r = await c.post(f"{BASE}/{v['id']}/record", json=RECORD, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "done" and done["outcome"] == "positive" and done["minutes"] == RECORD["minutes"]
    assert done["visitedAt"] is not None and [p["name"] for p in done["participants"]] == ["张经理", "am1"]
    r = await c.patch(f"{BASE}/{v['id']}", json={"subject": "改"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == [], r.text
    r = await c.post(f"{BASE}/{v['id']}/record", json=RECORD, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["code"] == "INVALID_TRANSITION", r.text
    follow = [{**RECORD["followUps"][0], "status": "done"}]  # type: ignore[dict-item]
    r = await c.patch(f"{BASE}/{v['id']}", json={"followUps": follow}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["followUps"][0]["status"] == "done", r.text


async def test_cancel_and_bad_moves(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    v = await _plan(c, auth)
    r = await c.patch(f"{BASE}/{v['id']}", json={"status": "done"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and "record" in r.json()["message"], r.text
    assert r.json()["details"]["allowed"] == ["done", "cancelled"]
    r = await c.patch(f"{BASE}/{v['id']}", json={"status": "cancelled"}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    r = await c.post(f"{BASE}/{v['id']}/record", json=RECORD, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == [], r.text


async def test_bad_input_is_422_naming_the_field(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    for over, field in (
        ({"plannedAt": "2026-12-30T10:00:00"}, "plannedAt"),  # no offset
        ({"customer": {"id": "x"}}, "customer.id"),
        ({"opportunity": {"id": str(uuid.UUID(int=4))}}, "opportunity.id"),
        ({"participants": [{"name": "x", "side": "them"}]}, "participants"),
    ):
        body = {"customer": {"id": CUSTOMER}, "subject": "s", "plannedAt": "2026-12-30T10:00:00+08:00", **over}
        r = await c.post(BASE, json=body, headers=auth("gd-gz"))
        assert r.status_code == 422 and field in r.json()["message"], (field, r.text)
    v = await _plan(c, auth)
    for body, field in (
        ({**RECORD, "outcome": "great"}, "outcome"),
        ({**RECORD, "participants": []}, "participants"),
        ({**RECORD, "visitedAt": "2030-01-01T00:00:00+00:00"}, "visitedAt"),
    ):
        r = await c.post(f"{BASE}/{v['id']}/record", json=body, headers=auth("gd-gz"))
        assert r.status_code == 422 and field in r.json()["message"], (field, r.text)


async def test_replica_refuses_writes_and_scope(clients: Clients, auth: Auth) -> None:
    v = await _plan(clients["gd-gz"], auth)
    r = await clients["gd"].post(f"{BASE}/{v['id']}/record", json=RECORD, headers=auth("gd"))
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz"
    assert (await clients["js"].get(f"{BASE}/{v['id']}", headers=auth("js"))).status_code == 404
    r = await clients["gd-gz"].get(f"{BASE}?plannedAt.gte=2026-12-30&status=planned", headers=auth("gd-gz"))
    assert r.headers["X-Total-Count"] == "1"


async def test_visit_completion_rolls_up_the_tree(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    for i in range(4):
        v = await _plan(c, auth, plannedAt=f"2026-12-0{i + 1}T10:00:00+08:00")
        if i < 3:
            r = await c.post(f"{BASE}/{v['id']}/record", json=RECORD, headers=auth("gd-gz"))
            assert r.status_code == 200, r.text
    cancelled = await _plan(c, auth, plannedAt="2026-12-05T10:00:00+08:00")
    await c.patch(f"{BASE}/{cancelled['id']}", json={"status": "cancelled"}, headers=auth("gd-gz"))
    await _plan(clients["js-nj"], auth, node="js-nj", plannedAt="2026-12-02T10:00:00+08:00")
    r = await clients["hq"].get(f"{DONE}?start=2026-12-01&end=2027-01-01", headers=auth("hq"))
    assert r.status_code == 200, r.text
    lines = {x["node"]: x for x in r.json()["lines"]}
    assert (lines["gd"]["planned"], lines["gd"]["done"], lines["gd"]["rate"]) == (4, 3, "75.00")
    assert (lines["js"]["planned"], lines["js"]["done"], lines["js"]["rate"]) == (1, 0, "0.00")
    assert lines["hq"]["rate"] is None
    r = await clients["gd"].get(f"{DONE}?start=2026-12-01&end=2027-01-01&node=gd-gz", headers=auth("gd"))
    assert [(x["node"], x["done"]) for x in r.json()["lines"]] == [("gd-gz", 3)]
    r = await clients["gd"].get(f"{DONE}?start=2026-12-01&end=2027-01-01&node=js", headers=auth("gd"))
    assert r.status_code == 403, r.text
    r = await clients["gd-gz"].get(f"{DONE}?start=2026-12-01&end=2027-01-01&by=accountManager", headers=auth("gd-gz"))
    assert [(x["accountManager"], x["planned"]) for x in r.json()["lines"]] == [("am1", 4)]
