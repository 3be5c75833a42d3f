"""The 10000 interface on a real trio federation (hq → gd → gd-gz), each node with the 10000 simulator
the runtime starts beside it: a service number registered at gd-gz answers KA_LOOKUP there and, once
replicated, at gd and hq; gd-gz's simulator receives the key-account list; the simulator's calls and
tickets (some delivered twice) reach gd-gz, each ticket once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation

BASE = "/api/v1/service/cs10000"
TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
CONVERGE = 120.0


def lookup(nodes: Nodes, node: str, number: str) -> dict[str, Any]:
    r = nodes.get(node, f"{BASE}/lookup", params={"callingNumber": number})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_ka_lookup_of_a_replicated_customer_and_the_simulator_end_to_end(trio: Nodes) -> None:
    nodes = trio
    customer = nodes.create_customer(
        "gd-gz", name="广州白云国际机场股份有限公司 (fed)", industry="TRANSPORT", grade="A"
    )
    r = nodes.put("gd-gz", f"{BASE}/serviceNumber/020-3606 6999", {"customerId": customer["id"]})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    assert lookup(nodes, "gd-gz", number)["customerId"] == customer["id"]

    # replicated up: the province and the group answer for their subtree
    for node in ("gd", "hq"):
        found = wait_until(
            lambda node=node: (b := lookup(nodes, node, number))["found"] and b,
            timeout=CONVERGE,
            what=f"KA_LOOKUP at {node}",
        )
        assert (found["customerCode"], found["grade"], found["ownerNode"]) == (customer["customerCode"], "A", "gd-gz")
    r = nodes.put("hq", f"{BASE}/serviceNumber/{number}", {"customerId": customer["id"]})
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER", r.text

    # gd-gz's simulator (started by the runtime) holds the key-account list entry, acknowledged once
    sim = nodes.fed.process("gd-gz", "sim10000").url
    http = httpx.Client(base_url=sim, timeout=10.0)

    def listed() -> bool:
        return any(e["customer_id"] == customer["id"] for e in http.get("/sim/received").json()["kaList"])

    wait_until(listed, timeout=CONVERGE, what="KA_LIST_SYNC at the gd-gz simulator")
    wait_until(
        lambda: {m["status"] for m in nodes.get("gd-gz", f"{BASE}/outbound").json()} == {"ACKED"},
        timeout=CONVERGE,
        what="the outbound queue acknowledged",
    )

    # the simulator places calls and opens tickets, half of them delivered twice
    knobs = {"token": nodes.token("gd-gz"), "call_rate": 4, "ticket_rate": 2, "duplicate_rate": 0.5}
    assert http.put("/sim/config", json=knobs).status_code == 200
    try:
        wait_until(
            lambda: (
                (c := http.get("/sim/calls").json())["found"] >= 3 and c["tickets"] >= 3 and c["duplicatesSent"] >= 1
            ),
            timeout=CONVERGE,
            what="calls and tickets from the simulator",
        )
    finally:
        assert http.put("/sim/config", json={"call_rate": 0, "ticket_rate": 0}).status_code == 200
    calls = http.get("/sim/calls").json()
    assert calls["errors"] == 0, calls["lastError"]
    r = nodes.get("gd-gz", TICKETS, params={"channel": "CS_10000", "limit": 1000})
    assert r.status_code == 200, r.text
    by_external: dict[str, list[str]] = {}
    for t in r.json():
        by_external.setdefault(t["externalId"], []).append(t["id"])
    for opened in calls["ticketsOpened"]:
        assert by_external[f"CS10000-{opened['csTicketNo']}"] == [opened["ticketNo"]]  # once each
    # and the group sees the caller's open tickets in its lookup once the tickets replicated up
    try:
        wait_until(
            lambda: len(lookup(nodes, "hq", number)["openTickets"]) >= 3, timeout=CONVERGE, what="open tickets at hq"
        )
    except AssertionError:
        at_hq = nodes.get("hq", TICKETS, params={"relatedParty.id": customer["id"]}).json()
        raise AssertionError(f"hq lists {at_hq!r}; dead letters {dead_letters(nodes, 'hq')!r}") from None
    http.close()


def dead_letters(nodes: Nodes, node: str) -> list[Any]:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> list[Any]:
        engine = create_async_engine(nodes.fed.database_url(node))
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT subject, error FROM service.dead_letter"))).all()
        await engine.dispose()
        return [tuple(r) for r in rows]

    return asyncio.run(read())
