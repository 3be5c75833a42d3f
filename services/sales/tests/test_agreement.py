"""Contracts over real PostgreSQL: TMF651 shape, the status flow with 409 naming the allowed moves,
terms fixed once signed, renewal as a linked new version, replicas refusing writes, and the expiry
reminders at the rule's offsets — exactly once per contract and offset however often the job runs,
with the clock moved instead of waiting, and only at the owner."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from kam_platform.settings import Settings
from kam_sales.agreement import schedule, service
from kam_sales.clock import MovableClock
from kam_sales.probability import Asker

BASE = "/tmf-api/agreementManagement/v4/agreement"
REMINDERS = "/api/v1/sales/agreementReminder"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
CUSTOMER = str(uuid.UUID(int=77))


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": f"GZ-2027-{uuid.uuid4().hex[:6]}",
        "name": "广州地铁 专线服务合同",
        "customer": {"id": CUSTOMER},
        "agreementPeriod": {"startDateTime": "2026-04-01", "endDateTime": "2027-04-01"},
        "amount": {"unit": "CNY", "value": "960000.00"},
        "terms": "按月结算; SLA 99.9%",
        "slaReference": "SLA-A",
    }
    body.update(over)
    return body


async def _signed(c: httpx.AsyncClient, auth: Auth, node: str = "gd-gz", **over: Any) -> dict[str, Any]:
    r = await c.post(BASE, json=_body(**over), headers=auth(node))
    assert r.status_code == 201, r.text
    r = await c.patch(
        f"{BASE}/{r.json()['id']}", json={"status": "signed", "signedDate": "2026-03-20"}, headers=auth(node)
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _run(c: httpx.AsyncClient, auth: Auth, node: str = "gd-gz") -> list[tuple[str, int]]:
    r = await c.post(f"{REMINDERS}/run", headers=auth(node))
    assert r.status_code == 200, r.text
    return sorted((x["agreement"]["id"], x["offsetDays"]) for x in r.json())


async def test_created_in_progress_with_tmf_shape(clients: Clients, auth: Auth) -> None:
    r = await clients["gd-gz"].post(BASE, json=_body(), headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["@type"] == "Agreement" and a["status"] == "inProgress" and a["agreementVersion"] == 1
    assert a["amount"] == {"unit": "CNY", "value": "960000.00"} and a["renewalStatus"] == "none"
    assert r.headers["Location"] == a["href"] == f"http://gd-gz.kam.test{BASE}/{a['id']}"
    r = await clients["gd-gz"].post(BASE, json=_body(number=a["number"]), headers=auth("gd-gz"))
    assert r.status_code == 409 and a["number"] in r.json()["message"]


async def test_bad_input_is_422_naming_the_field(clients: Clients, auth: Auth) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": {"unit": "CNY", "value": "1.001"}}, "amount.value"),
        ({"agreementPeriod": {"startDateTime": "2027-01-01", "endDateTime": "2026-01-01"}}, "agreementPeriod"),
        ({"customer": {"id": "x"}}, "customer.id"),
        ({"opportunity": {"id": str(uuid.UUID(int=5))}}, "opportunity.id"),
        ({"number": "有 空格"}, "number"),
    ]
    for over, field in cases:
        r = await clients["gd-gz"].post(BASE, json=_body(**over), headers=auth("gd-gz"))
        assert r.status_code == 422 and field in r.json()["message"], (field, r.text)


async def test_status_flow_and_terms_fixed_once_signed(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    r = await c.post(BASE, json=_body(), headers=auth("gd-gz"))
    path = f"{BASE}/{r.json()['id']}"
    r = await c.patch(path, json={"status": "terminated"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["signed", "cancelled"], r.text
    r = await c.patch(path, json={"status": "signed"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and r.json()["message"].startswith("signedDate")
    r = await c.patch(path, json={"status": "signed", "signedDate": "2026-03-20"}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["signedDate"] == "2026-03-20" and r.json()["version"] == 2
    r = await c.patch(path, json={"amount": {"unit": "CNY", "value": "1.00"}}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["code"] == "INVALID_TRANSITION"
    r = await c.patch(path, json={"status": "terminated"}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["status"] == "terminated"
    r = await c.patch(path, json={"status": "signed", "signedDate": "2026-03-20"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == []


async def test_renewal_is_a_new_version_linked_to_the_old(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    old = await _signed(c, auth)
    renewal = {"agreementPeriod": {"startDateTime": "2027-04-01", "endDateTime": "2029-04-01"}}
    r = await c.post(f"{BASE}/{old['id']}/renew", json=renewal, headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["number"] == old["number"] and new["agreementVersion"] == 2 and new["status"] == "inProgress"
    assert new["previousAgreement"]["id"] == old["id"] and new["amount"] == old["amount"]
    r = await c.get(f"{BASE}/{old['id']}", headers=auth("gd-gz"))
    assert r.json()["renewalStatus"] == "renewed" and r.json()["renewedBy"]["id"] == new["id"]
    r = await c.post(f"{BASE}/{old['id']}/renew", json=renewal, headers=auth("gd-gz"))
    assert r.status_code == 409
    r = await c.get(BASE, params={"number": old["number"], "sort": "agreementVersion"}, headers=auth("gd-gz"))
    assert [x["agreementVersion"] for x in r.json()] == [1, 2]


async def test_write_at_a_replica_is_refused_naming_the_owner(clients: Clients, auth: Auth) -> None:
    a = await _signed(clients["gd-gz"], auth)
    r = await clients["gd"].patch(f"{BASE}/{a['id']}", json={"status": "terminated"}, headers=auth("gd"))
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz"
    r = await clients["js"].get(f"{BASE}/{a['id']}", headers=auth("js"))
    assert r.status_code == 404


async def test_reminders_once_per_offset_as_the_clock_moves(clients: Clients, auth: Auth, clock: MovableClock) -> None:
    c = clients["gd-gz"]
    a = await _signed(c, auth)  # ends 2027-04-01; the national rule reminds 90, 60 and 30 days before
    clock.set(clock.now().replace(year=2026, month=12, day=31))  # 91 days before: nothing yet
    assert await _run(c, auth) == []
    clock.set(clock.now().replace(year=2027, month=1, day=1))  # 90 days before
    assert await _run(c, auth) == [(a["id"], 90)]
    assert await _run(c, auth) == []  # a second run in the same day gives nothing again
    clock.advance(timedelta(days=45))  # 45 days before: the 60-day reminder, once
    assert await _run(c, auth) == [(a["id"], 60)]
    assert await _run(c, auth) == []
    clock.advance(timedelta(days=40))  # 5 days before
    assert await _run(c, auth) == [(a["id"], 30)]
    clock.advance(timedelta(days=10))  # expired: nothing more
    assert await _run(c, auth) == []
    r = await c.get(REMINDERS, params={"agreement.id": a["id"], "sort": "-offsetDays"}, headers=auth("gd-gz"))
    body = r.json()
    assert [x["offsetDays"] for x in body] == [90, 60, 30] and r.headers["X-Total-Count"] == "3"
    assert body[0]["dueOn"] == "2027-01-01" and body[0]["rule"].endswith("@1") and body[0]["rule"] != "default"


async def test_reminders_exactly_once_across_restarts_and_only_at_the_owner(
    apps: dict[str, tuple[FastAPI, FastAPI]],
    clients: Clients,
    auth: Auth,
    clock: MovableClock,
    rollback_conn: AsyncConnection,
    database_url: str,
) -> None:
    a = await _signed(clients["gd-gz"], auth)
    clock.set(clock.now().replace(year=2027, month=2, day=15))  # 45 days before: 90 and 60 are both due
    # the job as a restarted process runs it: a fresh session each time, the schedule's default offsets
    for node, expected in (("gd-gz", [60, 90]), ("gd", []), ("hq", []), ("gd-gz", [])):
        settings: Settings = apps[node][0].state.settings
        async with AsyncSession(
            bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            written = await service.remind_due(session, settings=settings, now=clock.now(), ask=None, actor="t")
            await session.commit()
        got = sorted(r.offset_days for r in written if str(r.agreement_id) == a["id"])
        assert got == expected, (node, got)
    rows = (
        await rollback_conn.execute(
            text("SELECT owner_node, offset_days FROM sales.agreement_reminder WHERE agreement_id = :id ORDER BY 2"),
            {"id": a["id"]},
        )
    ).all()
    assert [tuple(r) for r in rows] == [("gd-gz", 60), ("gd-gz", 90)]


async def test_renewed_or_not_renewed_contracts_are_not_reminded(
    clients: Clients, auth: Auth, clock: MovableClock
) -> None:
    c = clients["gd-gz"]
    renewed, dropped = await _signed(c, auth), await _signed(c, auth)
    renewal = {"agreementPeriod": {"startDateTime": "2027-04-01", "endDateTime": "2028-04-01"}}
    assert (await c.post(f"{BASE}/{renewed['id']}/renew", json=renewal, headers=auth("gd-gz"))).status_code == 201
    r = await c.patch(f"{BASE}/{dropped['id']}", json={"renewalStatus": "notRenewed"}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    clock.set(clock.now().replace(year=2027, month=3, day=20))
    assert {aid for aid, _ in await _run(c, auth)} & {renewed["id"], dropped["id"]} == set()


async def test_the_schedule_runs_with_an_identity_and_the_rule_in_force(
    apps: dict[str, tuple[FastAPI, ...]],
    clients: Clients,
    auth: Auth,
    clock: MovableClock,
    rollback_conn: AsyncConnection,
    make_token: Callable[..., str],
) -> None:
    a = await _signed(clients["gd-gz"], auth)
    clock.set(clock.now().replace(year=2027, month=3, day=5))  # 27 days before the end: all three due
    settings: Settings = apps["gd-gz"][0].state.settings
    rules = apps["gd-gz"][0].state.rules_client

    async def ask_for() -> Asker | None:  # what `identity` gives once the hook issued the token
        return Asker(rules, make_token("admin", "gd-gz", perms=["rules:read"]))

    maker = async_sessionmaker(bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    assert await schedule.run_once(maker, settings, clock, ask_for) >= 3
    r = await clients["gd-gz"].get(REMINDERS, params={"agreement.id": a["id"]}, headers=auth("gd-gz"))
    assert sorted(x["offsetDays"] for x in r.json()) == [30, 60, 90]
    assert all(x["rule"] != "default" and x["rule"].endswith("@1") for x in r.json())
    assert await schedule.run_once(maker, settings, clock, ask_for) == 0  # once


async def test_the_schedule_without_a_user_falls_back_to_the_defaults(apps: dict[str, tuple[FastAPI, ...]]) -> None:
    settings: Settings = apps["gd-gz"][0].state.settings
    ask = schedule.identity(settings, apps["gd-gz"][0].state.rules_client, "nobody-here")
    assert await ask() is None  # the org hook found, but no such user at gd-gz
