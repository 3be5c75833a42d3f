"""The records of issue 12's later parts survive the wire: each one's outbox event passes the apply
consumer's integrity claims and, applied at a replica that lacks it, writes back the same row (documents
with every version, their content pieces, care plans and activities, experts, expert requests, contact
schemes)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.replication import Event
from kam_platform.testing.plugin import bearer
from kam_service.replication import TicketApplier

from .conftest import settings_for

PERMS = [
    "service.document:read", "service.document:write", "service.care:read", "service.care:write",
    "service.expert:read", "service.expert:write", "service.expert:request", "customer:read",
]  # fmt: skip
TABLES = ("document", "document_chunk", "care_plan", "care_activity", "expert", "expert_request", "contact_scheme")


async def _events(conn: AsyncConnection) -> list[Event]:
    rows = (
        await conn.execute(
            text(
                "SELECT subject, payload FROM service.outbox WHERE split_part(subject, '.', 4) = ANY(:t)"
                " ORDER BY created_at, id"
            ),
            {"t": list(TABLES)},
        )
    ).all()
    return [Event(envelope=envelope_pb2.Envelope.FromString(p), subject=s, stream="UP_gd-gz") for s, p in rows]


async def _rows(conn: AsyncConnection) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for t in TABLES:
        result = await conn.execute(text(f"SELECT * FROM service.{t} ORDER BY id"))
        out[t] = [dict(r) for r in result.mappings().all()]
    return out


async def test_records_round_trip_through_the_apply(
    clients: dict[str, httpx.AsyncClient],
    make_token: Callable[..., str],
    insert_customer: Callable[..., Any],
    rollback_conn: AsyncConnection,
    database_url: str,
    jwks: Any,
) -> None:
    def who(node: str = "gd-gz") -> dict[str, str]:
        return bearer(make_token("am-li", node, perms=PERMS, roles=["account_manager"]))

    c = clients["gd-gz"]
    cid = await insert_customer("gd-gz")
    party = [{"id": cid, "role": "customer"}]
    await rollback_conn.execute(text("DELETE FROM service.outbox"))
    doc = (
        await c.post("/api/v1/service/document", json={"title": "方案", "relatedParty": party}, headers=who())
    ).json()
    content = os.urandom(300 * 1024)
    r = await c.post(
        f"/api/v1/service/document/{doc['id']}/content",
        content=content,
        headers={**who(), "Content-Type": "application/pdf"},
    )
    assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/service/care/plan",
        json={"kind": "VIP_EVENT", "name": "答谢会", "occasion": "03-03", "targets": [{"customerId": cid}],
              "budgetPerTarget": {"unit": "CNY", "value": "99.90"}},
        headers=who(),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert (await c.post("/api/v1/service/care/proposal", headers=who())).json()["proposed"] == 1
    r = await clients["gd"].post(
        "/api/v1/service/expert", json={"username": "wang@gd", "name": "王工", "domains": ["CLOUD"]}, headers=who("gd")
    )
    assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/service/expertRequest",
        json={"subject": "上云", "domain": "CLOUD", "relatedParty": party},
        headers=who(),
    )
    assert r.status_code == 201, r.text
    assert (
        await c.post(f"/api/v1/service/expertRequest/{r.json()['id']}/assign", json={}, headers=who())
    ).status_code == 200
    r = await c.post(
        "/api/v1/service/contactScheme",
        json={"relatedParty": party, "hotlines": ["10000"],
              "entries": [{"level": "CITY", "customerBranch": "总部", "telecomNode": "gd-gz", "telecomOffice": "政企部"}]},
        headers=who(),
    )  # fmt: skip
    assert r.status_code == 201, r.text

    r = await c.post(
        "/tmf-api/troubleTicket/v4/troubleTicket",
        json={"name": "故障", "ticketType": "FAULT", "channel": "HOTLINE", "relatedParty": party},
        headers=bearer(make_token("agent", "gd-gz", perms=["service.ticket:write", "customer:read", "rules:read"])),
    )
    assert r.status_code == 201, r.text
    ticket_events = [
        Event(envelope=envelope_pb2.Envelope.FromString(p), subject=s, stream="UP_gd-gz")
        for s, p in (
            await rollback_conn.execute(
                text(
                    "SELECT subject, payload FROM service.outbox WHERE subject LIKE 'up.gd-gz.service.trouble_ticket.%'"
                )
            )
        ).all()
    ]
    events = await _events(rollback_conn)
    kinds = {e.subject.split(".")[3] for e in events}
    assert kinds == set(TABLES), kinds
    before = await _rows(rollback_conn)
    applier = TicketApplier(settings_for(database_url, jwks, "hq", "service"))
    assert ticket_events
    for e in [*events, *ticket_events]:  # the ticket's event has two fields since /hub: its claim still names it
        claims = applier.claims(e)
        assert claims, e.subject
        assert all(cl.owner == e.origin for cl in claims)
    # a replica that holds none of them yet
    for t in TABLES:
        await rollback_conn.execute(text(f"DELETE FROM service.{t}"))
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as session:
        await applier(session, [e for e in events if not e.subject.startswith("down.")])
        await session.commit()
    after = await _rows(rollback_conn)
    for t in TABLES:
        got = after[t]
        want = before[t]
        if t == "care_activity":  # the owner's de-duplication key stays at the owner
            want = [{**w, "proposal_key": None} for w in want]
        assert got == want, t
    # and the replica serves the same bytes
    got = await clients["hq"].get(f"/api/v1/service/document/{doc['id']}", headers=who("hq"))
    assert got.status_code == 200 and got.json()["versions"][0]["sha256"] == hashlib.sha256(content).hexdigest()
