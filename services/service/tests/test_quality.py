"""The service-quality board: open tickets by grade with their breaches, and over a period the breaches,
MTTR, RESOLVE_IN_SLA and satisfaction — within the caller's scope, in total and per node."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_service.sla.evaluator import Evaluator

from .conftest import T0, MovableClock

BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
EXTRAS = "/api/v1/service/troubleTicket"
QUALITY = "/api/v1/service/quality"
Auth = Callable[..., dict[str, str]]
MERGE = {"Content-Type": "application/merge-patch+json"}


async def _ticket(c: httpx.AsyncClient, auth: Auth, cid: str) -> str:
    body = {
        "name": "专线中断",
        "ticketType": "FAULT",
        "channel": "HOTLINE",
        "relatedParty": [{"id": cid, "role": "customer"}],
    }
    r = await c.post(BASE, json=body, headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _move(c: httpx.AsyncClient, auth: Auth, tid: str, status: str) -> None:
    r = await c.patch(f"{BASE}/{tid}", json={"status": status}, headers={**auth("gd-gz"), **MERGE})
    assert r.status_code == 200, r.text


async def _revisit(c: httpx.AsyncClient, auth: Auth, tid: str, score: int) -> None:
    r = await c.post(f"{EXTRAS}/{tid}/revisit", json={"satisfied": True, "score": score}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text


async def test_quality_board_counts_breaches_mttr_and_satisfaction(
    clients: dict[str, httpx.AsyncClient],
    auth: Auth,
    insert_customer: Callable[..., Any],
    publish_sla: Callable[..., Any],
    clock: MovableClock,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await publish_sla("24x7")  # grade A: respond in 30, resolve in 240 minutes; B: 60 and 480
    c = clients["gd-gz"]
    a, b = await insert_customer("gd-gz", grade="A"), await insert_customer("gd-gz", grade="B")
    quick, waiting, slow = await _ticket(c, auth, a), await _ticket(c, auth, a), await _ticket(c, auth, b)
    clock.advance(minutes=10)
    await _move(c, auth, quick, "inProgress")
    await _move(c, auth, slow, "inProgress")
    clock.advance(minutes=35)  # 45 minutes: `waiting` missed its 30-minute response
    await Evaluator(sessions, node="gd-gz", clock=clock).run_once()
    late = (await c.get(f"{BASE}/{waiting}", headers=auth("gd-gz"))).json()
    assert late["sla"]["responseBreached"] is True and late["status"] == "acknowledged"
    clock.advance(minutes=15)
    await _move(c, auth, quick, "resolved")  # after 60 minutes
    await _revisit(c, auth, quick, 5)
    clock.now = T0 + timedelta(minutes=600)
    await _move(c, auth, slow, "resolved")  # after 600 minutes: past its 480
    await _revisit(c, auth, slow, 3)

    period = {"periodStart": (T0 - timedelta(days=1)).isoformat(), "periodEnd": (T0 + timedelta(days=1)).isoformat()}
    r = await c.get(QUALITY, params=period, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["openByGrade"] == [{"grade": "A", "open": 1, "breached": 1}]
    total = q["total"]
    assert (total["accepted"], total["responseBreached"], total["resolveBreached"]) == (3, 1, 1)
    assert (total["resolved"], total["mttrMinutes"]) == (2, 330.0)
    assert (total["closed"], total["resolveInSla"]) == (2, 0.5)
    assert (total["surveyed"], total["satisfaction"], total["satisfiedShare"]) == (2, 4.0, 0.5)
    assert [n["node"] for n in q["byNode"]] == ["gd-gz"]
    # the province sees its subtree's replicas: the same figures, per node
    up = (await clients["gd"].get(QUALITY, params=period, headers=auth("gd"))).json()
    assert up["total"] == total and up["scopeNode"] == "gd"
    # another period holds none of them; the open ones stay open whatever the period
    empty = {"periodStart": "2025-01-01T00:00:00+08:00", "periodEnd": "2025-02-01T00:00:00+08:00"}
    e = (await c.get(QUALITY, params=empty, headers=auth("gd-gz"))).json()
    assert e["total"]["accepted"] == 0 and e["total"]["mttrMinutes"] is None and e["byNode"] == []
    assert e["openByGrade"] == q["openByGrade"]


async def test_quality_period_is_validated(clients: dict[str, httpx.AsyncClient], auth: Auth) -> None:
    c = clients["gd-gz"]
    r = await c.get(QUALITY, params={"periodStart": "2026-03-02T00:00:00+08:00", "periodEnd": "2026-03-01T00:00:00+08:00"},
                    headers=auth("gd-gz"))  # fmt: skip
    assert r.status_code == 422 and r.json()["message"].startswith("periodEnd")
    r = await c.get(QUALITY, params={"periodStart": "2026-03-01T00:00:00"}, headers=auth("gd-gz"))
    assert r.status_code == 422
    r = await c.get(QUALITY, params={"periodStart": "yesterday"}, headers=auth("gd-gz"))
    assert r.status_code in (400, 422) and r.json()["@type"] == "Error"
    assert (await c.get(QUALITY, headers=auth("gd-gz", perms=[]))).status_code == 403
    assert (await c.get(QUALITY, headers=auth("gd-gz"))).status_code == 200  # default: the last 30 days
