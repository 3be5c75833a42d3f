"""The service notification inbox (消息中心) over real PostgreSQL: each SLA escalation step is delivered
exactly once (across an evaluator restart) to whom it names — the ticket's handler, then the holders
of the team-leader role, then the department's; a due care proposal reaches the customer's account
manager once; the inbox is the caller's alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.testing.plugin import bearer
from kam_service.sla.evaluator import Evaluator

from .conftest import MovableClock
from .test_tickets import _ticket, local

INBOX = "/api/v1/service/notifications"
Clients = dict[str, httpx.AsyncClient]
Auth = Callable[..., dict[str, str]]


def _as(make_token: Callable[..., str], user: str, *roles: str, node: str = "gd-gz") -> dict[str, str]:
    return bearer(make_token(user, node, perms=["service.ticket:read"], roles=list(roles)))


async def _inbox(c: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = await c.get(INBOX, params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == str(len(r.json()))
    return r.json()  # type: ignore[no-any-return]


async def test_each_escalation_step_reaches_whom_it_names_exactly_once(
    clients: Clients,
    auth: Auth,
    make_token: Callable[..., str],
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await publish_sla("business")  # the ladder: 20 min handler, 240 team_leader, 480 department
    cid = await insert_customer("gd-gz", grade="A")
    c = clients["gd-gz"]
    tid = (await _ticket(c, auth, "gd-gz", cid, handler="zhang"))["id"]
    zhang, leader = _as(make_token, "zhang", "service_agent"), _as(make_token, "lead-wang", "team_leader")
    bystander = _as(make_token, "agent-li", "service_agent")

    clock.now = local("2026-03-02T09:25")  # step 1 due
    assert await Evaluator(sessions, node="gd-gz", clock=clock).run_once() == {tid: [1]}
    assert await Evaluator(sessions, node="gd-gz", clock=clock).run_once() == {}  # a restarted evaluator
    mine = await _inbox(c, zhang)
    assert [(n["kind"], n["subject"]["id"], n["recipientUser"]) for n in mine] == [("slaEscalation", tid, "zhang")]
    assert mine[0]["subject"]["@referredType"] == "TroubleTicket" and "第 1 级" in mine[0]["text"]
    assert await _inbox(c, leader) == [] and await _inbox(c, bystander) == []

    clock.now = local("2026-03-02T14:31")  # step 2: the team leader role
    assert await Evaluator(sessions, node="gd-gz", clock=clock).run_once() == {tid: [2]}
    assert await Evaluator(sessions, node="gd-gz", clock=clock).run_once() == {}
    got = await _inbox(c, leader)
    assert [(n["recipientRole"], n["recipientUser"]) for n in got] == [("team_leader", None)]
    assert len(await _inbox(c, zhang)) == 1 and await _inbox(c, bystander) == []
    # the leader's role at another node holds nothing here
    r = await c.get(f"{INBOX}/{got[0]['id']}", headers=_as(make_token, "lead-wang", "team_leader", node="gd"))
    assert r.status_code == 404
    assert (await c.get(f"{INBOX}/{got[0]['id']}", headers=bystander)).status_code == 404

    # one holder marks the role's notification read: read for the role (readBy says who)
    r = await c.patch(f"{INBOX}/{got[0]['id']}", json={"read": True}, headers=leader)
    assert r.status_code == 200 and r.json()["readBy"] == "lead-wang"
    other_leader = _as(make_token, "lead-zhao", "team_leader")
    assert await _inbox(c, other_leader, read="false") == []
    assert len(await _inbox(c, other_leader, read="true")) == 1

    # an ancestor's evaluator delivers nothing: it escalates no replica
    clock.now = local("2026-03-04T09:00")
    assert await Evaluator(sessions, node="gd", clock=clock).run_once() == {}
    assert await _inbox(clients["gd"], _as(make_token, "boss", "department", node="gd")) == []


async def test_a_due_care_proposal_reaches_the_account_manager_once(
    clients: Clients, make_token: Callable[..., str], insert_customer: Callable[..., Any]
) -> None:
    c = clients["gd-gz"]
    metro = await insert_customer("gd-gz", name="广州地铁", account_manager="am-li")
    care = bearer(make_token("am-li", "gd-gz", perms=["service.care:read", "service.care:write", "customer:read"],
                             roles=["account_manager"]))  # fmt: skip
    plan = {"kind": "HOLIDAY_GREETING", "name": "三八节问候", "occasion": "03-08", "targets": [{"customerId": metro}]}
    r = await c.post("/api/v1/service/care/plan", json=plan, headers=care)
    assert r.status_code == 201, r.text
    for _ in range(2):  # the daily job twice (a second process, a restart): one proposal, one notification
        r = await c.post("/api/v1/service/care/proposal", json={}, headers=care)
        assert r.status_code == 200, r.text
    got = await _inbox(c, care, kind="careProposal")
    assert len(got) == 1 and got[0]["recipientUser"] == "am-li" and "广州地铁" in got[0]["text"]
    assert got[0]["subject"]["@referredType"] == "CareActivity"
    assert await _inbox(c, _as(make_token, "am-wu", "account_manager"), kind="careProposal") == []
