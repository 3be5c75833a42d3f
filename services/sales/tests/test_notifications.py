"""The sales notification inbox (消息中心) over real PostgreSQL: the expiry-reminder job run twice, as
restarted processes, delivers one notification per contract and offset to the contract's account
manager; a due follow-up reaches the opportunity's account manager once; the inbox is the caller's
alone (404 for another's), lists with the TMF conventions and `read=false`, and marks read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from kam_platform.settings import Settings
from kam_sales.agreement import schedule
from kam_sales.clock import MovableClock

from .test_agreement import _signed

INBOX = "/api/v1/sales/notifications"
OPPS = "/api/v1/sales/opportunities"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]


async def _run_as_restarted(apps: dict[str, tuple[FastAPI, ...]], rollback_conn: AsyncConnection,
                            clock: MovableClock, node: str = "gd-gz") -> int:  # fmt: skip
    """One run of the schedule as a freshly started process runs it: a new sessionmaker, the defaults."""
    settings: Settings = apps[node][0].state.settings
    maker = async_sessionmaker(bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    return await schedule.run_once(maker, settings, clock)


async def _inbox(c: httpx.AsyncClient, auth: Auth, user: str = "am1", **params: Any) -> httpx.Response:
    r = await c.get(INBOX, params=params, headers=auth("gd-gz", user=user))
    assert r.status_code == 200, r.text
    return r


async def test_reminder_job_run_twice_after_restart_delivers_one_per_contract_and_offset(
    apps: dict[str, tuple[FastAPI, ...]],
    clients: Clients,
    auth: Auth,
    clock: MovableClock,
    rollback_conn: AsyncConnection,
) -> None:
    c = clients["gd-gz"]
    a = await _signed(c, auth)  # ends 2027-04-01, account manager am1
    clock.set(clock.now().replace(year=2027, month=2, day=15))  # 45 days before: 90 and 60 are both due
    assert await _run_as_restarted(apps, rollback_conn, clock) >= 2
    assert await _run_as_restarted(apps, rollback_conn, clock) == 0  # the restarted job: nothing again
    clock.advance(timedelta(hours=1))
    await _run_as_restarted(apps, rollback_conn, clock)
    r = await _inbox(c, auth, **{"subject.@referredType": "Agreement"})
    mine = [n for n in r.json() if n["subject"]["id"] == a["id"]]
    assert len(mine) == 2 and r.headers["X-Total-Count"] == str(len(r.json()))
    assert {n["kind"] for n in mine} == {"agreementExpiry"} and all(not n["read"] for n in mine)
    assert sorted("60 天" in n["text"] or "90 天" in n["text"] for n in mine) == [True, True]
    assert all(n["recipientUser"] == "am1" and n["subject"]["@referredType"] == "Agreement" for n in mine)
    # the replicas' runs deliver nothing (they own no contract)
    for node in ("gd", "hq"):
        await _run_as_restarted(apps, rollback_conn, clock, node)
    assert len((await _inbox(c, auth)).json()) == len(r.json())


async def test_another_users_notification_is_404_and_not_listed(
    apps: dict[str, tuple[FastAPI, ...]],
    clients: Clients,
    auth: Auth,
    clock: MovableClock,
    rollback_conn: AsyncConnection,
) -> None:
    c = clients["gd-gz"]
    await _signed(c, auth)
    clock.set(clock.now().replace(year=2027, month=2, day=15))
    await _run_as_restarted(apps, rollback_conn, clock)
    theirs = (await _inbox(c, auth)).json()[0]
    r = await _inbox(c, auth, user="am2")
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
    other = auth("gd-gz", user="am2")
    assert (await c.get(f"{INBOX}/{theirs['id']}", headers=other)).status_code == 404
    r = await c.patch(f"{INBOX}/{theirs['id']}", json={"read": True}, headers=other)
    assert r.status_code == 404 and r.json()["@type"] == "Error"
    assert (await c.post(f"{INBOX}/markAllRead", headers=other)).json() == {"marked": 0}
    # a token of another node holds nothing here, even with the same user name
    r = await c.get(f"{INBOX}/{theirs['id']}", headers=auth("gd", user="am1"))
    assert r.status_code == 404
    assert (await c.get(f"{INBOX}/{theirs['id']}", headers=auth("gd-gz"))).json()["read"] is False


async def test_mark_read_one_then_all_with_the_unread_filter_and_counts(
    apps: dict[str, tuple[FastAPI, ...]],
    clients: Clients,
    auth: Auth,
    clock: MovableClock,
    rollback_conn: AsyncConnection,
) -> None:
    c = clients["gd-gz"]
    await _signed(c, auth)
    await _signed(c, auth)
    clock.set(clock.now().replace(year=2027, month=3, day=5))  # all three offsets of both: six
    await _run_as_restarted(apps, rollback_conn, clock)
    total = int((await _inbox(c, auth)).headers["X-Total-Count"])
    assert total >= 6
    page = await _inbox(c, auth, limit=2, offset=1, read="false")
    assert len(page.json()) == 2 and page.headers["X-Total-Count"] == str(total)
    assert page.headers["X-Result-Count"] == "2"
    first = page.json()[0]
    r = await c.patch(f"{INBOX}/{first['id']}", json={"read": True}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["read"] is True and r.json()["readBy"] == "am1"
    assert r.json()["readAt"].startswith("2027-03-05")  # the app's clock
    assert (await _inbox(c, auth, read="false")).headers["X-Total-Count"] == str(total - 1)
    assert [n["id"] for n in (await _inbox(c, auth, read="true")).json()] == [first["id"]]
    r = await c.post(f"{INBOX}/markAllRead", headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json() == {"marked": total - 1}
    assert (await _inbox(c, auth, read="false")).headers["X-Total-Count"] == "0"
    r = await c.patch(f"{INBOX}/{first['id']}", json={"read": False}, headers=auth("gd-gz"))
    assert r.json()["read"] is False and (await _inbox(c, auth, read="false")).headers["X-Total-Count"] == "1"


async def test_bad_input_is_a_tmf_error_naming_what_failed(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    r = await c.patch(f"{INBOX}/{uuid.uuid4()}", json={"read": "perhaps"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "read" in r.json()["message"]
    r = await c.get(INBOX, params={"read": "perhaps"}, headers=auth("gd-gz"))
    assert r.status_code == 400 and "read" in r.json()["message"]
    r = await c.get(INBOX, params={"sort": "text"}, headers=auth("gd-gz"))
    assert r.status_code == 400
    assert (await c.get(f"{INBOX}/not-a-uuid", headers=auth("gd-gz"))).status_code == 404
    assert (await c.get(INBOX)).status_code == 401


async def test_a_due_follow_up_reaches_the_account_manager_once(
    apps: dict[str, tuple[FastAPI, ...]],
    clients: Clients,
    auth: Auth,
    clock: MovableClock,
    rollback_conn: AsyncConnection,
) -> None:
    c = clients["gd-gz"]
    at = (clock.now() + timedelta(days=2)).isoformat()
    body = {
        "name": "广州地铁 专线扩容",
        "customer": {"id": str(uuid.UUID(int=42))},
        "source": "VISIT",
        "expectedAmount": {"unit": "CNY", "value": "960000.00"},
        "nextFollowUp": {"at": at, "note": "带方案拜访信息中心"},
    }
    r = await c.post(OPPS, json=body, headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    opp = r.json()

    async def follow_ups() -> list[dict[str, Any]]:
        r = await _inbox(c, auth, kind="opportunityFollowUp")
        return [n for n in r.json() if n["subject"]["id"] == opp["id"]]

    await _run_as_restarted(apps, rollback_conn, clock)
    assert await follow_ups() == []  # not due yet
    clock.advance(timedelta(days=2))
    await _run_as_restarted(apps, rollback_conn, clock)
    await _run_as_restarted(apps, rollback_conn, clock)
    got = await follow_ups()
    assert (
        len(got) == 1 and "带方案拜访信息中心" in got[0]["text"] and got[0]["subject"]["@referredType"] == "Opportunity"
    )
    assert (await _inbox(c, auth, user="am2", kind="opportunityFollowUp")).json() == []
    # a new follow-up date reminds again, once
    later = (clock.now() + timedelta(days=1)).isoformat()
    r = await c.patch(f"{OPPS}/{opp['id']}", json={"nextFollowUp": {"at": later}}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    clock.advance(timedelta(days=1))
    await _run_as_restarted(apps, rollback_conn, clock)
    await _run_as_restarted(apps, rollback_conn, clock)
    assert len(await follow_ups()) == 2
