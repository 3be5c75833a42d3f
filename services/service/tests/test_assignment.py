"""Assignment by rule (派单): a new ticket goes to the first active queue serving its type and grade,
whose members take it in turn (round robin) or by fewest open tickets (least loaded); manual
reassignment names a handler or a queue; every assignment is on the ticket and in its audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
QUEUES = "/api/v1/service/queue"
EXTRAS = "/api/v1/service/troubleTicket"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
ADMIN = [
    "service.ticket:read",
    "service.ticket:write",
    "service.queue:write",
    "customer:read",
    "rules:read",
]


async def _queue(c: httpx.AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    r = await c.post(QUEUES, json=body, headers=auth("gd-gz", perms=ADMIN))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _ticket(c: httpx.AsyncClient, auth: Auth, cid: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "专线中断",
        "ticketType": "FAULT",
        "channel": "HOTLINE",
        "relatedParty": [{"id": cid, "role": "customer"}],
        **over,
    }
    r = await c.post(BASE, json=body, headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_round_robin_queue_takes_matching_tickets_in_turn(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    c = clients["gd-gz"]
    q = await _queue(
        c, auth, name="故障-A", team="装维一班", ticketTypes=["FAULT"], grades=["A"], members=["zhang", "li", "wang"]
    )
    assert q["strategy"] == "ROUND_ROBIN" and q["href"].endswith(q["id"])
    a = await insert_customer("gd-gz", grade="A")
    handlers = [(await _ticket(c, auth, a))["handler"] for _ in range(4)]
    assert handlers == ["zhang", "li", "wang", "zhang"]
    t = await _ticket(c, auth, a)
    assert t["assignment"] == {"queueId": q["id"], "queueName": "故障-A", "assignedBy": "rule:ROUND_ROBIN"}
    # another grade or another type matches no queue: the ticket waits unassigned
    b = await insert_customer("gd-gz", grade="B")
    assert (await _ticket(c, auth, b))["handler"] is None
    unassigned = await _ticket(c, auth, a, ticketType="COMPLAINT")
    assert unassigned["handler"] is None and unassigned["assignment"] is None
    # an inactive queue is passed over
    r = await c.patch(
        f"{QUEUES}/{q['id']}",
        json={"isActive": False},
        headers={**auth("gd-gz", perms=ADMIN), "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["isActive"] is False and r.json()["version"] == 2
    assert (await _ticket(c, auth, a))["handler"] is None


async def test_least_loaded_queue_picks_the_member_with_fewest_open_tickets(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    c = clients["gd-gz"]
    await _queue(c, auth, name="投诉", team="投诉组", ticketTypes=["COMPLAINT"], members=["chen", "zhao"],
                 strategy="LEAST_LOADED")  # fmt: skip
    cid = await insert_customer("gd-gz", grade="B")
    first = await _ticket(c, auth, cid, ticketType="COMPLAINT", handler="chen")  # by hand: counts as load
    assert first["assignment"]["assignedBy"] == "agent"
    assert (await _ticket(c, auth, cid, ticketType="COMPLAINT"))["handler"] == "zhao"
    assert (await _ticket(c, auth, cid, ticketType="COMPLAINT"))["handler"] == "chen"  # 1:1, member order
    # closing work lowers a member's load: cancel one of chen's two
    patch = {**auth("gd-gz"), "Content-Type": "application/merge-patch+json"}
    r = await c.patch(f"{BASE}/{first['id']}", json={"status": "cancelled"}, headers=patch)
    assert r.status_code == 200, r.text
    assert (await _ticket(c, auth, cid, ticketType="COMPLAINT"))["handler"] == "chen"  # 1:1 again


async def test_manual_reassignment_is_audited(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    c = clients["gd-gz"]
    q = await _queue(c, auth, name="故障", team="装维二班", ticketTypes=["FAULT"], members=["sun", "zhou"])
    cid = await insert_customer("gd-gz")
    t = await _ticket(c, auth, cid)
    assert t["handler"] == "sun"
    r = await c.post(
        f"{EXTRAS}/{t['id']}/assign", json={"handler": "wu", "reason": "熟悉该线路"}, headers=auth("gd-gz")
    )
    assert r.status_code == 200, r.text
    assert r.json()["handler"] == "wu" and r.json()["assignment"]["assignedBy"] == "agent"
    assert r.json()["version"] == t["version"] + 1
    r = await c.post(f"{EXTRAS}/{t['id']}/assign", json={"queueId": q["id"]}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["handler"] == "zhou"  # the queue's rule: next in turn
    audit = (await c.get(f"{EXTRAS}/{t['id']}/audit", headers=auth("gd-gz"))).json()
    assigns = [a for a in audit if a["action"] == "assign"]
    assert [a["changes"]["handler"] for a in assigns] == [["sun", "wu"], ["wu", "zhou"]]
    assert assigns[0]["note"] == "熟悉该线路"
    # refused: an unknown queue, no queue for the rule, a replica, a closed ticket
    r = await c.post(f"{EXTRAS}/{t['id']}/assign", json={"queueId": "nope"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and r.json()["message"].startswith("queueId")
    other = await _ticket(c, auth, cid, ticketType="CONSULTATION")
    r = await c.post(f"{EXTRAS}/{other['id']}/assign", json={}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "no active queue" in r.json()["message"]
    r = await clients["gd"].post(f"{EXTRAS}/{t['id']}/assign", json={"handler": "x"}, headers=auth("gd"))
    assert r.status_code in (404, 409)


async def test_queue_configuration_is_validated_and_guarded(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    body = {"name": "Q", "team": "T", "ticketTypes": ["FAULT"], "members": ["a"]}
    r = await c.post(QUEUES, json=body, headers=auth("gd-gz"))  # an agent may not configure queues
    assert r.status_code == 403
    assert (await c.post(QUEUES, json=body, headers=auth("gd-gz", perms=ADMIN))).status_code == 201
    r = await c.post(QUEUES, json=body, headers=auth("gd-gz", perms=ADMIN))
    assert r.status_code == 409
    for bad in ({**body, "name": "Q2", "strategy": "RANDOM"}, {**body, "name": "Q3", "members": []},
                {**body, "name": "Q4", "members": ["a", "a"]}, {**body, "name": "Q5", "ticketTypes": ["X"]}):  # fmt: skip
        r = await c.post(QUEUES, json=bad, headers=auth("gd-gz", perms=ADMIN))
        assert r.status_code == 422 and r.json()["@type"] == "Error", r.text
    listed = await c.get(QUEUES, headers=auth("gd-gz"))
    assert listed.status_code == 200 and [q["name"] for q in listed.json()] == ["Q"]
    assert (await clients["gd"].get(QUEUES, headers=auth("gd"))).json() == []  # node configuration
    r = await c.patch(
        f"{QUEUES}/{listed.json()[0]['id']}",
        json={"members": None},
        headers={**auth("gd-gz", perms=ADMIN), "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    assert (await c.get(f"{QUEUES}/not-an-id", headers=auth("gd-gz"))).status_code == 404
