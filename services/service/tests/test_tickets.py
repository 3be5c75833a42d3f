"""Trouble tickets over real PostgreSQL with the real customer and rules apps: SLA deadlines from the
effective rule on a business calendar with a pause, the closed loop with a reopen, the status machine's
409, escalation exactly once per step across an evaluator restart, replicas read-only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from kam_service.sla.evaluator import Evaluator

from .conftest import MovableClock

BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def local(value: str) -> datetime:
    """A wall-clock time in Guangzhou (UTC+8)."""
    return datetime.fromisoformat(value + "+08:00")


async def _ticket(c: httpx.AsyncClient, auth: Auth, node: str, customer_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "专线中断",
        "description": "总部到分行的专线中断",
        "ticketType": "COMPLAINT",
        "channel": "HOTLINE",
        "priority": "HIGH",
        "relatedParty": [{"id": customer_id, "role": "customer"}],
        "affectedService": "GZ-MSTP-000123",
    }
    body.update(over)
    r = await c.post(BASE, json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _patch(c: httpx.AsyncClient, auth: Auth, node: str, tid: str, **body: Any) -> httpx.Response:
    return await c.patch(
        f"{BASE}/{tid}", json=body, headers={**auth(node), "Content-Type": "application/merge-patch+json"}
    )


async def test_ticket_gets_sla_deadlines_on_the_business_calendar(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any], publish_sla: Callable[..., Any]
) -> None:
    rule = await publish_sla("business")
    cid = await insert_customer("gd-gz", grade="A")
    t = await _ticket(clients["gd-gz"], auth, "gd-gz", cid)
    assert t["status"] == "acknowledged" and t["ownerNode"] == "gd-gz" and t["customerGrade"] == "A"
    assert t["href"].endswith(f"{BASE}/{t['id']}")
    sla = t["sla"]
    assert sla["ruleId"] == rule["id"] and sla["calendar"] == "business"
    # accepted Monday 09:00: response 30 business minutes, resolution 240 (09:00–12:00, 13:30–14:30)
    assert at(sla["responseDueAt"]) == local("2026-03-02T09:30")
    assert at(sla["resolveDueAt"]) == local("2026-03-02T14:30")
    # the ladder: 20 minutes (handler), 240 (team leader), 480 (department: 450 on Monday, 30 on Tuesday)
    assert [at(s["dueAt"]) for s in sla["escalation"]] == [
        local("2026-03-02T09:20"),
        local("2026-03-02T14:30"),
        local("2026-03-03T09:30"),
    ]
    assert [s["to"] for s in sla["escalation"]] == ["handler", "team_leader", "department"]
    party = {p["role"]: p for p in t["relatedParty"]}
    assert party["customer"]["id"] == cid and party["accountManager"]["id"] == "am-li"


async def test_deadlines_skip_weekends_and_holidays_of_the_calendar(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
) -> None:
    await publish_sla("business")
    hours = {str(d): [["09:00", "12:00"], ["13:30", "18:00"]] for d in range(1, 6)}
    r = await clients["gd-gz"].put(
        "/api/v1/service/calendar",
        json={"timezone": "Asia/Shanghai", "hours": hours, "holidays": ["2026-03-09"]},
        headers=auth("gd-gz"),
    )
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    cid = await insert_customer("gd-gz", grade="A")
    clock.now = local("2026-03-06T17:50")  # a Friday; Monday the 9th is a holiday
    t = await _ticket(clients["gd-gz"], auth, "gd-gz", cid)
    assert at(t["sla"]["responseDueAt"]) == local("2026-03-10T09:20")


async def test_round_the_clock_rule_counts_every_minute(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
) -> None:
    await publish_sla("24x7")
    cid = await insert_customer("gd-gz", grade="B")
    clock.now = local("2026-03-07T23:00")  # a Saturday night
    t = await _ticket(clients["gd-gz"], auth, "gd-gz", cid, ticketType="FAULT")
    assert t["sla"]["calendar"] == "24x7"
    assert at(t["sla"]["responseDueAt"]) == local("2026-03-08T00:00")
    assert at(t["sla"]["resolveDueAt"]) == local("2026-03-08T07:00")


async def test_waiting_for_the_customer_pauses_the_sla_clock(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
) -> None:
    await publish_sla("business")
    cid = await insert_customer("gd-gz", grade="A")
    c = clients["gd-gz"]
    t = await _ticket(c, auth, "gd-gz", cid)
    clock.now = local("2026-03-02T09:10")
    r = await _patch(c, auth, "gd-gz", t["id"], status="pending", statusChangeReason="等待客户提供现场联系人")
    assert r.status_code == 200, r.text
    sla = r.json()["sla"]
    assert at(sla["pausedSince"]) == local("2026-03-02T09:10") and at(sla["respondedAt"]) == clock.now
    clock.now = local("2026-03-02T11:10")
    r = await _patch(c, auth, "gd-gz", t["id"], status="inProgress")
    assert r.status_code == 200, r.text
    sla = r.json()["sla"]
    # 230 business minutes were left at the pause (09:10–12:00, 13:30–14:30); from 11:10 they end at 16:30
    assert sla["pausedSince"] is None and sla["pausedMinutes"] == 120
    assert at(sla["resolveDueAt"]) == local("2026-03-02T16:30")
    assert sla["responseBreached"] is False
    steps = {s["step"]: at(s["dueAt"]) for s in sla["escalation"]}
    assert steps[2] == local("2026-03-02T16:30")
    assert [s["status"] for s in r.json()["statusChange"]] == ["acknowledged", "pending", "inProgress"]


async def test_closed_loop_reopens_on_dissatisfaction_and_closes_with_the_survey(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
) -> None:
    await publish_sla("business")
    cid = await insert_customer("gd-gz", grade="A")
    c = clients["gd-gz"]
    t = await _ticket(c, auth, "gd-gz", cid)
    tid = t["id"]
    assert (await _patch(c, auth, "gd-gz", tid, status="inProgress", handler="zhang")).status_code == 200
    clock.advance(minutes=60)
    r = await _patch(c, auth, "gd-gz", tid, status="resolved", statusChangeReason="更换光模块")
    assert r.status_code == 200 and r.json()["resolutionDate"] is not None
    # closing is the customer's: not a PATCH
    r = await _patch(c, auth, "gd-gz", tid, status="closed")
    assert r.status_code == 409 and r.json()["code"] == "INVALID_TRANSITION"
    assert "revisit" in r.json()["message"]

    r = await c.post(
        f"/api/v1/service/troubleTicket/{tid}/revisit",
        json={"satisfied": False, "score": 2, "comment": "仍有丢包"},
        headers=auth("gd-gz"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "inProgress" and body["reopenCount"] == 1 and body["resolutionDate"] is None

    clock.advance(minutes=30)
    assert (await _patch(c, auth, "gd-gz", tid, status="resolved")).status_code == 200
    r = await c.post(
        f"/api/v1/service/troubleTicket/{tid}/revisit",
        json={"satisfied": True, "score": 5, "comment": "满意"},
        headers=auth("gd-gz"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "closed" and body["closedDate"] is not None
    assert body["satisfaction"] == {"score": 5, "comment": "满意"}
    assert [s["status"] for s in body["statusChange"]] == [
        "acknowledged",
        "inProgress",
        "resolved",
        "inProgress",
        "resolved",
        "closed",
    ]
    r = await c.post(
        f"/api/v1/service/troubleTicket/{tid}/revisit", json={"satisfied": True, "score": 5}, headers=auth("gd-gz")
    )
    assert r.status_code == 409
    r = await _patch(c, auth, "gd-gz", tid, priority="LOW")
    assert r.status_code == 409 and r.json()["code"] == "INVALID_TRANSITION"

    r = await c.get(f"/api/v1/service/troubleTicket/{tid}/audit", headers=auth("gd-gz"))
    assert r.status_code == 200
    assert [a["action"] for a in r.json()] == ["create", "status", "status", "reopen", "status", "close"]


async def test_an_illegal_transition_is_409_naming_the_allowed_statuses(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any], publish_sla: Callable[..., Any]
) -> None:
    await publish_sla()
    cid = await insert_customer("gd-gz")
    t = await _ticket(clients["gd-gz"], auth, "gd-gz", cid)
    r = await _patch(clients["gd-gz"], auth, "gd-gz", t["id"], status="closed")
    assert r.status_code == 409
    err = r.json()
    assert err["@type"] == "Error" and err["code"] == "INVALID_TRANSITION"
    assert err["details"]["allowed"] == ["cancelled", "inProgress", "pending", "rejected", "resolved"]
    assert "inProgress" in err["message"]


async def test_bad_input_is_a_tmf_error_never_500(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    c = clients["gd-gz"]
    r = await c.post(BASE, json={"name": "x", "ticketType": "PRAISE", "channel": "HOTLINE"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and r.json()["@type"] == "Error"
    body = {"name": "x", "ticketType": "FAULT", "channel": "WEB", "relatedParty": [{"id": "nope", "role": "contact"}]}
    r = await c.post(BASE, json=body, headers=auth("gd-gz"))
    assert r.status_code == 422 and "customer" in r.json()["message"]
    body["relatedParty"] = [{"id": "4e0f6f55-2c1b-4b7e-9f62-8d3c3a1d0a01", "role": "customer"}]
    r = await c.post(BASE, json=body, headers=auth("gd-gz"))
    assert r.status_code == 422 and r.json()["details"]["field"] == "relatedParty"
    r = await c.get(f"{BASE}/not-a-uuid", headers=auth("gd-gz"))
    assert r.status_code == 404
    r = await c.put("/api/v1/service/calendar", json={"hours": {"8": [["09:00", "18:00"]]}}, headers=auth("gd-gz"))
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"
    r = await c.put("/api/v1/service/calendar", json={"hours": {"1": [["13:00", "09:00"]]}}, headers=auth("gd-gz"))
    assert r.status_code == 422


async def test_without_a_published_rule_the_ticket_has_no_deadlines(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    cid = await insert_customer("gd-gz")
    t = await _ticket(clients["gd-gz"], auth, "gd-gz", cid)
    assert t["sla"] is None and t["status"] == "acknowledged"


async def test_escalation_fires_once_per_step_across_a_restart(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
    sessions: async_sessionmaker[AsyncSession],
    rollback_conn: AsyncConnection,
) -> None:
    await publish_sla("business")
    cid = await insert_customer("gd-gz", grade="A")
    c = clients["gd-gz"]
    tid = (await _ticket(c, auth, "gd-gz", cid))["id"]

    clock.now = local("2026-03-02T09:25")  # step 1 (20 minutes) is due, the response deadline not yet
    evaluator = Evaluator(sessions, node="gd-gz", clock=clock)
    assert await evaluator.run_once() == {tid: [1]}
    assert await evaluator.run_once() == {}

    restarted = Evaluator(sessions, node="gd-gz", clock=clock)  # a new process: nothing in memory
    assert await restarted.run_once() == {}
    # even a ticket whose copy forgot the step (a stale row) does not fire it again: the durable record rules
    await rollback_conn.execute(
        text(
            "UPDATE service.trouble_ticket SET escalation = jsonb_set(escalation, '{0,firedAt}', 'null'), "
            "next_due_at = :now WHERE id = :id"
        ),
        {"now": clock.now, "id": tid},
    )
    assert await restarted.run_once() == {}

    r = await c.get(f"{BASE}/{tid}", headers=auth("gd-gz"))
    sla = r.json()["sla"]
    assert sla["escalationLevel"] == 1 and sla["responseBreached"] is False

    clock.now = local("2026-03-02T14:31")  # past the response and resolution deadlines, step 2 due
    assert await Evaluator(sessions, node="gd-gz", clock=clock).run_once() == {tid: [2]}
    sla = (await c.get(f"{BASE}/{tid}", headers=auth("gd-gz"))).json()["sla"]
    assert sla["escalationLevel"] == 2 and sla["responseBreached"] is True and sla["resolveBreached"] is True
    assert [s["firedAt"] is not None for s in sla["escalation"]] == [True, True, False]

    fired = (
        await rollback_conn.execute(
            text("SELECT step, notified FROM service.escalation_fired WHERE ticket_id = :id ORDER BY step"), {"id": tid}
        )
    ).all()
    assert [tuple(f) for f in fired] == [(1, "handler"), (2, "team_leader")]
    audit = (await c.get(f"/api/v1/service/troubleTicket/{tid}/audit", headers=auth("gd-gz"))).json()
    assert [a["action"] for a in audit].count("escalate") == 2

    # an ancestor's evaluator never escalates a replica it holds
    clock.now = local("2026-03-04T09:00")
    assert await Evaluator(sessions, node="gd", clock=clock).run_once() == {}


async def test_a_pass_in_batches_records_each_ticket_once_with_its_own_version_event_and_audit(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
    sessions: async_sessionmaker[AsyncSession],
    rollback_conn: AsyncConnection,
) -> None:
    """The evaluator claims a batch's steps in one statement and writes the batch's changes together:
    every ticket still gets exactly one new version, one TroubleTicketChanged at that version and one
    escalate audit record naming its step, across batches smaller than the tickets due."""
    await publish_sla("business")
    c = clients["gd-gz"]
    clock.now = local("2026-03-02T09:00")
    tickets = [
        await _ticket(c, auth, "gd-gz", await insert_customer("gd-gz", grade="A"), name=f"专线中断 {i}")
        for i in range(5)
    ]
    versions = {t["id"]: (await c.get(f"{BASE}/{t['id']}", headers=auth("gd-gz"))).json()["version"] for t in tickets}

    clock.now = local("2026-03-02T09:25")  # step 1 (20 minutes) of every ticket is due
    fired = await Evaluator(sessions, node="gd-gz", clock=clock, batch=2).run_once()
    assert fired == {t["id"]: [1] for t in tickets}
    for t in tickets:
        tid = t["id"]
        after = (await c.get(f"{BASE}/{tid}", headers=auth("gd-gz"))).json()
        assert after["version"] == versions[tid] + 1
        assert after["sla"]["escalationLevel"] == 1
        events = (
            await rollback_conn.execute(
                text(
                    "SELECT version FROM service.outbox WHERE aggregate_id = :id "
                    "AND event_type LIKE '%TroubleTicketChanged' AND version > :v"
                ),
                {"id": tid, "v": versions[tid]},
            )
        ).all()
        assert [e.version for e in events] == [versions[tid] + 1]
        audit = (await c.get(f"/api/v1/service/troubleTicket/{tid}/audit", headers=auth("gd-gz"))).json()
        escalations = [a for a in audit if a["action"] == "escalate"]
        assert len(escalations) == 1 and "step 1" in (escalations[0].get("note") or "")
    assert await Evaluator(sessions, node="gd-gz", clock=clock, batch=2).run_once() == {}


async def test_ancestor_sees_the_ticket_and_refuses_writes_naming_the_owner(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any], publish_sla: Callable[..., Any]
) -> None:
    await publish_sla()
    cid = await insert_customer("gd-gz")
    tid = (await _ticket(clients["gd-gz"], auth, "gd-gz", cid))["id"]
    r = await clients["hq"].get(BASE, params={"relatedParty.id": cid}, headers=auth("hq"))
    assert r.status_code == 200 and [t["id"] for t in r.json()] == [tid] and r.headers["X-Total-Count"] == "1"
    r = await _patch(clients["hq"], auth, "hq", tid, priority="LOW")
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz"
    # a sibling's user does not see it at all
    r = await clients["hq"].get(f"{BASE}/{tid}", headers=auth("hq", scope="js"))
    assert r.status_code == 404
    # a portfolio-scoped user sees only their customers' tickets
    r = await clients["gd-gz"].get(BASE, params={"status": "acknowledged,inProgress"}, headers=auth("gd-gz"))
    assert tid in [t["id"] for t in r.json()]
