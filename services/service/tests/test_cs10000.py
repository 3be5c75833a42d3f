"""The customer-service system (10000) interface in process: service numbers and KA_LOOKUP (also of a
customer replicated from below), inbound TICKET_CREATE once per msg_id and per 10000 ticket number,
TICKET_UPDATE both ways, SURVEY_RESULT closing the loop, refusals as error envelopes, and the
reconciliation listing what was not acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from kam_contracts import envelope_pb2
from kam_platform.replication import Event, Screen
from kam_service.replication import TicketApplier

from .conftest import PERMS, T0

BASE = "/api/v1/service/cs10000"
TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
CS_PERMS = [*PERMS, "service.cs10000:call", "service.cs10000:admin"]

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def cs(auth: Auth) -> Callable[[str], dict[str, str]]:
    return lambda node: auth(node, user="cs10000", perms=CS_PERMS)


def message(msg_id: str, msg_type: str, payload: dict[str, Any], target: str = "gd-gz") -> dict[str, Any]:
    return {
        "msg_id": msg_id,
        "msg_type": msg_type,
        "source": "CS10000",
        "target": target,
        "sent_at": T0.isoformat(),
        "payload": payload,
    }


async def register(client: httpx.AsyncClient, headers: dict[str, str], number: str, customer_id: str) -> httpx.Response:
    return await client.put(f"{BASE}/serviceNumber/{number}", json={"customerId": customer_id}, headers=headers)


async def outbound(client: httpx.AsyncClient, headers: dict[str, str], msg_type: str) -> list[dict[str, Any]]:
    r = await client.get(f"{BASE}/outbound", headers=headers, params={"limit": 1000})
    assert r.status_code == 200, r.text
    return [m for m in r.json() if m["msgType"] == msg_type]


async def test_service_number_answers_ka_lookup_with_grade_manager_and_open_tickets(
    clients: dict[str, httpx.AsyncClient], cs: Callable[[str], dict[str, str]], insert_customer: Any
) -> None:
    c, h = clients["gd-gz"], cs("gd-gz")
    cid = await insert_customer("gd-gz", "广州地铁集团有限公司", grade="A", account_manager="am-li")
    r = await register(c, h, "+86 138-0013-8000", cid)
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "13800138000" and r.json()["ownerNode"] == "gd-gz"
    assert (await register(c, h, "13800138000", cid)).status_code == 200  # the same again: no change

    r = await c.get(f"{BASE}/lookup", params={"callingNumber": "0086 13800138000"}, headers=h)
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["found"] is True and found["customerId"] == cid
    assert (found["grade"], found["accountManager"], found["priorityRouting"]) == ("A", "am-li", True)
    assert found["openTickets"] == []

    body = {
        "name": "专线中断",
        "ticketType": "FAULT",
        "channel": "HOTLINE",
        "relatedParty": [{"id": cid, "role": "customer"}],
    }
    r = await c.post(TICKETS, json=body, headers=h)
    assert r.status_code == 201, r.text
    ticket = r.json()
    r = await c.get(f"{BASE}/lookup", params={"callingNumber": "13800138000"}, headers=h)
    assert [(t["id"], t["status"]) for t in r.json()["openTickets"]] == [(ticket["id"], "acknowledged")]

    r = await c.get(f"{BASE}/lookup", params={"callingNumber": "13999999999"}, headers=h)
    assert r.status_code == 200 and r.json()["found"] is False
    r = await c.get(f"{BASE}/lookup", params={"callingNumber": "call me"}, headers=h)
    assert r.status_code == 422 and r.json()["@type"] == "Error" and "number" in r.json()["message"]

    # the customer's KA_LIST_SYNC was queued once (the repeated registration changed nothing)
    syncs = await outbound(c, h, "KA_LIST_SYNC")
    assert len(syncs) == 1
    assert syncs[0]["payload"]["service_numbers"] == ["13800138000"]
    assert syncs[0]["payload"]["grade"] == "A" and syncs[0]["status"] == "PENDING"


async def test_ka_lookup_of_a_customer_replicated_from_below(
    clients: dict[str, httpx.AsyncClient],
    apps: dict[str, dict[str, FastAPI]],
    cs: Callable[[str], dict[str, str]],
    insert_customer: Any,
    rollback_conn: AsyncConnection,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid = await insert_customer("gd-gz", "中国南方电网广州供电局", grade="B")
    assert (await register(clients["gd-gz"], cs("gd-gz"), "020-8765 4321", cid)).status_code == 201
    body = {
        "name": "停电",
        "ticketType": "FAULT",
        "channel": "CS_10000",
        "relatedParty": [{"id": cid, "role": "customer"}],
    }
    r = await clients["gd-gz"].post(TICKETS, json=body, headers=cs("gd-gz"))
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    # what the relay published from gd-gz (the number and the ticket) ...
    rows = await rollback_conn.execute(
        text(
            "SELECT subject, payload FROM service.outbox WHERE subject LIKE 'up.gd-gz.service.cs_service_number.%' "
            "OR subject LIKE 'up.gd-gz.service.trouble_ticket.%'"
        )
    )
    events = [Event(envelope_pb2.Envelope.FromString(p), s, "UP_gd-gz") for s, p in rows]
    assert len(events) == 2
    # ... reaches gd, whose own database does not hold them yet (in process the nodes share one
    # database: the rows are taken away to stand for gd's)
    await rollback_conn.execute(text("DELETE FROM service.cs_service_number WHERE number = '02087654321'"))
    await rollback_conn.execute(text("DELETE FROM service.trouble_ticket WHERE customer_id = :c"), {"c": cid})
    r = await clients["gd"].get(f"{BASE}/lookup", params={"callingNumber": "02087654321"}, headers=cs("gd"))
    assert r.json()["found"] is False
    # applied at gd as its replication consumer does (the integrity screen, then the versioned upsert)
    settings = apps["service"]["gd"].state.settings
    applier = TicketApplier(settings)
    async with sessions() as session, session.begin():
        screen = Screen(topology=settings.topology, node="gd", schema="service", claims=applier.claims)
        accepted, refused = await screen.split(session, events)
        assert refused == [] and len(accepted) == len(events)
        await applier(session, accepted)

    r = await clients["gd"].get(f"{BASE}/lookup", params={"callingNumber": "02087654321"}, headers=cs("gd"))
    assert r.status_code == 200, r.text
    assert (r.json()["found"], r.json()["customerId"], r.json()["grade"], r.json()["ownerNode"]) == (
        True,
        cid,
        "B",
        "gd-gz",
    )
    assert [t["id"] for t in r.json()["openTickets"]] == [ticket_id]  # the ticket replicated with it
    # the replica is read-only at gd
    r = await register(clients["gd"], cs("gd"), "02087654321", cid)
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER", r.text


async def test_duplicate_ticket_create_creates_one_ticket(
    clients: dict[str, httpx.AsyncClient], cs: Callable[[str], dict[str, str]], insert_customer: Any
) -> None:
    c, h = clients["gd-gz"], cs("gd-gz")
    cid = await insert_customer("gd-gz")
    await register(c, h, "13800138001", cid)
    create = {"cs_ticket_no": "CS-0001", "calling_number": "13800138001", "type": "COMPLAINT", "description": "掉线"}
    first = await c.post(f"{BASE}/message", json=message("m-1", "TICKET_CREATE", create), headers=h)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "ACK" and first.json()["duplicate"] is False
    ticket_no = first.json()["result"]["ticket_no"]

    again = await c.post(f"{BASE}/message", json=message("m-1", "TICKET_CREATE", create), headers=h)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["result"]["ticket_no"] == ticket_no
    other_id = await c.post(f"{BASE}/message", json=message("m-2", "TICKET_CREATE", create), headers=h)
    assert other_id.json()["result"]["ticket_no"] == ticket_no and other_id.json()["result"]["existing"] is True

    r = await c.get(TICKETS, params={"externalId": "CS10000-CS-0001"}, headers=h)
    assert r.status_code == 200 and [t["id"] for t in r.json()] == [ticket_no]
    t = r.json()[0]
    assert (t["channel"], t["ticketType"], t["affectedService"]) == ("CS_10000", "COMPLAINT", "13800138001")


async def test_ticket_update_both_ways_and_survey_closes_the_loop(
    clients: dict[str, httpx.AsyncClient], cs: Callable[[str], dict[str, str]], insert_customer: Any
) -> None:
    c, h = clients["gd-gz"], cs("gd-gz")
    cid = await insert_customer("gd-gz")
    await register(c, h, "13800138002", cid)
    create = {"cs_ticket_no": "CS-0002", "customer_code": None, "calling_number": "13800138002", "type": "FAULT"}
    ticket_no = (await c.post(f"{BASE}/message", json=message("u-1", "TICKET_CREATE", create), headers=h)).json()[
        "result"
    ]["ticket_no"]

    # CS → CRM: the 10000 agent takes it up
    upd = {"cs_ticket_no": "CS-0002", "status": "inProgress", "handler": "cs-wang", "notes": "已派单"}
    r = await c.post(f"{BASE}/message", json=message("u-2", "TICKET_UPDATE", upd), headers=h)
    assert r.status_code == 200 and r.json()["result"]["status"] == "inProgress", r.text
    # CRM → CS: KAM resolves it
    r = await c.patch(f"{TICKETS}/{ticket_no}", json={"status": "resolved"}, headers=h)
    assert r.status_code == 200, r.text
    # an impossible move is a NACK: the error envelope with 409
    r = await c.post(f"{BASE}/message", json=message("u-3", "TICKET_UPDATE", {**upd, "status": "pending"}), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "INVALID_TRANSITION", r.text
    # SURVEY_RESULT: satisfied closes it
    survey = {"ticket_no": ticket_no, "score": 5, "comments": "很快"}
    r = await c.post(f"{BASE}/message", json=message("u-4", "SURVEY_RESULT", survey), headers=h)
    assert r.status_code == 200 and r.json()["result"]["status"] == "closed", r.text

    # a survey of the customer without a ticket is kept on its own
    code = (await c.get(f"{BASE}/lookup", params={"callingNumber": "13800138002"}, headers=h)).json()["customerCode"]
    r = await c.post(
        f"{BASE}/message", json=message("u-5", "SURVEY_RESULT", {"customer_code": code, "score": 2}), headers=h
    )
    assert r.status_code == 200 and r.json()["result"]["satisfied"] is False and r.json()["result"]["survey_id"]

    updates = await outbound(c, h, "TICKET_UPDATE")
    assert [(m["payload"]["status"], m["payload"]["version"]) for m in updates] == [
        ("inProgress", 2),
        ("resolved", 3),
        ("closed", 4),
    ]
    assert {m["orderKey"] for m in updates} == {f"ticket:{ticket_no}"}
    assert updates[-1]["payload"]["cs_ticket_no"] == "CS-0002" and updates[-1]["payload"]["score"] == 5
    assert len({m["idempotencyKey"] for m in updates}) == 3


async def test_refused_messages_are_error_envelopes_and_leave_no_trace(
    clients: dict[str, httpx.AsyncClient], cs: Callable[[str], dict[str, str]], auth: Auth, insert_customer: Any
) -> None:
    c, h = clients["gd-gz"], cs("gd-gz")
    unknown = {"cs_ticket_no": "CS-0003", "calling_number": "13700000000", "type": "FAULT"}
    r = await c.post(f"{BASE}/message", json=message("r-1", "TICKET_CREATE", unknown), headers=h)
    assert r.status_code == 422 and r.json()["@type"] == "Error", r.text
    r = await c.post(f"{BASE}/message", json=message("r-2", "TICKET_CREATE", {"type": "FAULT"}), headers=h)
    assert r.status_code == 422 and "cs_ticket_no" in r.json()["message"]
    r = await c.post(f"{BASE}/message", json=message("r-3", "KA_LIST_SYNC", {}), headers=h)
    assert r.status_code == 422 and "msg_type" in r.json()["message"]
    r = await c.post(f"{BASE}/message", json=message("r-4", "TICKET_CREATE", unknown, target="gd-sz"), headers=h)
    assert r.status_code == 422 and "target" in r.json()["message"]
    r = await c.post(f"{BASE}/message", json={"msg_id": "r-5"}, headers=h)
    assert r.status_code == 422 and r.json()["@type"] == "Error"
    # the refused msg_id is handled afresh once the number is known
    cid = await insert_customer("gd-gz")
    await register(c, h, "13700000000", cid)
    r = await c.post(f"{BASE}/message", json=message("r-1", "TICKET_CREATE", unknown), headers=h)
    assert r.status_code == 200 and r.json()["duplicate"] is False, r.text
    # a user without the interface's permission: 403
    r = await c.get(f"{BASE}/lookup", params={"callingNumber": "13700000000"}, headers=auth("gd-gz", perms=PERMS))
    assert r.status_code == 403 and r.json()["@type"] == "Error"


async def test_reconciliation_lists_what_was_not_acknowledged(
    clients: dict[str, httpx.AsyncClient], cs: Callable[[str], dict[str, str]], insert_customer: Any
) -> None:
    c, h = clients["gd-gz"], cs("gd-gz")
    cid = await insert_customer("gd-gz")
    await register(c, h, "13800138009", cid)
    # no 10000 endpoint configured in process: the KA_LIST_SYNC stays queued, never acknowledged
    r = await c.post(f"{BASE}/reconciliation", json={"day": T0.date().isoformat()}, headers=h)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["queued"] == 1 and report["acked"] == 0
    assert [(m["msgType"], m["problem"]) for m in report["mismatches"]] == [("KA_LIST_SYNC", "NOT_ACKNOWLEDGED")]
    r = await c.get(f"{BASE}/reconciliation/{T0.date().isoformat()}", headers=h)
    assert r.status_code == 200 and r.json()["mismatches"] == report["mismatches"]
    r = await c.get(f"{BASE}/reconciliation/2020-01-01", headers=h)
    assert r.status_code == 404 and r.json()["@type"] == "Error"


async def test_full_list_sync_refreshes_changed_customers_and_retires_vanished_ones(
    clients: dict[str, httpx.AsyncClient],
    cs: Callable[[str], dict[str, str]],
    insert_customer: Any,
    rollback_conn: AsyncConnection,
) -> None:
    c, h = clients["gd-gz"], cs("gd-gz")
    kept = await insert_customer("gd-gz", grade="A")
    gone = await insert_customer("gd-gz", grade="B")
    await register(c, h, "13800138100", kept)
    await register(c, h, "13800138101", kept)
    await register(c, h, "13800138200", gone)
    r = await c.post(f"{BASE}/kaListSync", headers=h)
    assert r.status_code == 200 and r.json() == {"customers": 2, "refreshed": 0, "queued": 0}, r.text

    # the customer service regrades one customer and no longer has the other
    await rollback_conn.execute(text("UPDATE customer.customer SET grade = 'B' WHERE id = :i"), {"i": kept})
    await rollback_conn.execute(text("UPDATE customer.customer SET deleted_at = now() WHERE id = :i"), {"i": gone})
    r = await c.post(f"{BASE}/kaListSync", headers=h)
    assert r.status_code == 200 and r.json() == {"customers": 2, "refreshed": 3, "queued": 2}, r.text

    assert (await c.get(f"{BASE}/lookup", params={"callingNumber": "13800138101"}, headers=h)).json()["grade"] == "B"
    assert (await c.get(f"{BASE}/lookup", params={"callingNumber": "13800138200"}, headers=h)).json()["found"] is False
    last = {m["payload"]["customer_id"]: m["payload"] for m in await outbound(c, h, "KA_LIST_SYNC")}
    assert (last[kept]["grade"], last[kept]["service_numbers"]) == ("B", ["13800138100", "13800138101"])
    assert (last[gone]["change_type"], last[gone]["service_numbers"]) == ("REMOVE", [])
