"""Recognition (大客户认定) over real PostgreSQL, with the real rules service in-process on the same node
database (its own schema): candidates proposed with reasons from the effective rule, confirmed by
another person than the proposer, grade changes kept in the customer's history."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_customer.main import MIGRATIONS as CUSTOMER_MIGRATIONS
from kam_customer.main import create_app as create_customer_app
from kam_platform.testing.plugin import app_client, bearer, bind_session
from kam_rules.client import RulesClient
from kam_rules.main import MIGRATIONS as RULES_MIGRATIONS
from kam_rules.main import create_app as create_rules_app
from kam_rules.ruleset.kinds import Kind
from kam_rules.seed import NATIONAL_DEFAULTS

from .conftest import ALL_CUSTOMER_PERMS, make_settings

RUN = "/api/v1/customer/recognition/run"
CANDIDATES = "/api/v1/customer/recognition/candidate"
RULES = "/api/v1/rules/ruleSet"
ON = date(2026, 10, 15)  # judged on July, August, September


@pytest.fixture(scope="module")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    # this module's node database holds both services' schemas (rollback_conn reads `database_url`)
    return make_database("test_recognition", [CUSTOMER_MIGRATIONS, RULES_MIGRATIONS])


@pytest.fixture(scope="module")
async def apps(database_url: str, jwks: dict[str, Any]) -> AsyncIterator[dict[str, FastAPI]]:
    made = {
        "customer": create_customer_app(make_settings(database_url, jwks, node="gd-gz")),
        "rules-hq": create_rules_app(make_settings(database_url, jwks, node="hq", service="rules")),
        "rules-gd-gz": create_rules_app(make_settings(database_url, jwks, node="gd-gz", service="rules")),
    }
    async with contextlib.AsyncExitStack() as stack:
        for app in made.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        made["customer"].state.rules_client = RulesClient(
            "http://gd-gz.kam.test", transport=httpx.ASGITransport(app=made["rules-gd-gz"])
        )
        yield made


@pytest.fixture
async def http(apps: dict[str, FastAPI], rollback_conn: AsyncConnection) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    out = {}
    for name, app in apps.items():
        bind_session(app, rollback_conn)
        if "rules_cache" in app.state._state:
            app.state.rules_cache.clear()
        out[name] = await app_client(app, "http://gd-gz.kam.test")
    try:
        yield out
    finally:
        for name, c in out.items():
            await c.aclose()
            apps[name].dependency_overrides.clear()


@pytest.fixture
def headers(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def make(user: str = "am01", node: str = "gd-gz") -> dict[str, str]:
        perms = [*ALL_CUSTOMER_PERMS, "rules:read", "rules:write", "rules:approve"]
        return bearer(make_token(user, node, perms=perms, roles=["ka_dept_manager"]))

    return make


async def _national_recognition(http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]]) -> str:
    """The national recognition default, published at hq (author and approver differ)."""
    name, params, bounds = NATIONAL_DEFAULTS[Kind.RECOGNITION]
    c = http["rules-hq"]
    body = {
        "kind": "recognition",
        "name": name,
        "validFor": {"startDate": "2026-01-01"},
        "parameters": params,
        "bounds": bounds,
    }
    r = await c.post(RULES, json=body, headers=headers("author", "hq"))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (await c.post(f"{RULES}/{rid}/approve", headers=headers("approver", "hq"))).status_code == 200
    assert (await c.post(f"{RULES}/{rid}/publish", headers=headers("author", "hq"))).status_code == 200
    return str(rid)


async def _customer(
    http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]], **over: Any
) -> dict[str, Any]:
    body = {
        "name": "广州地铁集团",
        "industry": "TRANSPORT",
        "grade": "C",
        "customerType": "SINGLE",
        "nature": "ENTERPRISE",
        **over,
    }
    r = await http["customer"].post("/tmf-api/customerManagement/v4/customer", json=body, headers=headers())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _spend(
    http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]], cid: str, amounts: list[str]
) -> None:
    items = [
        {"customerId": cid, "month": m, "amount": a}
        for m, a in zip(("2026-07", "2026-08", "2026-09"), amounts, strict=True)
    ]
    r = await http["customer"].post("/api/v1/customer/recognition/spend", json={"items": items}, headers=headers())
    assert r.status_code == 200 and r.json()["loaded"] == len(items), r.text


async def test_run_proposes_candidates_with_reasons_from_the_effective_rule(
    http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]]
) -> None:
    rule_id = await _national_recognition(http, headers)
    big = await _customer(http, headers, name="广州地铁集团")
    small = await _customer(http, headers, name="小商户")
    gov = await _customer(http, headers, name="广州市政府办公厅", nature="PARTY_GOV_MIL", industry="GOVERNMENT")
    await _spend(http, headers, big["id"], ["200000.00", "180000.00", "600000.00"])
    await _spend(http, headers, small["id"], ["90000.00", "10000.00", "90000.00"])  # one month below the bar

    r = await http["customer"].post(RUN, json={"date": ON.isoformat()}, headers=headers("am01"))
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["rule"] == {"id": rule_id, "version": 3, "ownerNode": "hq"}
    by_customer = {c["customerId"]: c for c in run["candidates"]}
    assert set(by_customer) == {big["id"], gov["id"]}
    b = by_customer[big["id"]]
    assert b["proposedGrade"] == "B" and b["currentGrade"] == "C" and b["status"] == "PROPOSED"
    assert "¥180000.00" in b["reason"] and "B 档" in b["reason"] and rule_id in b["reason"]
    assert b["evidence"]["months"] == ["2026-07", "2026-08", "2026-09"]
    g = by_customer[gov["id"]]
    assert g["proposedGrade"] == "B" and "党政军" in g["reason"]

    # a second run does not pile up proposals for customers with an open one
    again = (await http["customer"].post(RUN, json={"date": ON.isoformat()}, headers=headers("am01"))).json()
    assert again["proposed"] == 0 and again["evaluated"] == run["evaluated"]
    r = await http["customer"].get(CANDIDATES, params={"status": "PROPOSED"}, headers=headers())
    assert r.headers["X-Total-Count"] == "2"


async def test_confirmation_by_another_person_changes_the_grade_with_history(
    http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]], rollback_conn: AsyncConnection
) -> None:
    await _national_recognition(http, headers)
    big = await _customer(http, headers)
    await _spend(http, headers, big["id"], ["600000.00", "700000.00", "650000.00"])
    cand = (await http["customer"].post(RUN, json={"date": ON.isoformat()}, headers=headers("am01"))).json()[
        "candidates"
    ][0]
    assert cand["proposedGrade"] == "A"
    url = f"{CANDIDATES}/{cand['id']}/confirm"
    r = await http["customer"].post(url, json={}, headers=headers("am01"))
    assert r.status_code == 403 and r.json()["code"] == "SEPARATION_OF_DUTIES"
    r = await http["customer"].post(url, json={"note": "核实无误"}, headers=headers("mgr01"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CONFIRMED" and r.json()["decidedBy"] == "mgr01"
    assert (await http["customer"].post(url, json={}, headers=headers("mgr02"))).status_code == 409

    customer = (
        await http["customer"].get(f"/tmf-api/customerManagement/v4/customer/{big['id']}", headers=headers())
    ).json()
    assert customer["grade"] == "A" and customer["version"] == big["version"] + 1
    history = (
        await rollback_conn.execute(
            text("SELECT action, actor, changes FROM customer.audit WHERE entity_id = :i ORDER BY at"),
            {"i": big["id"]},
        )
    ).all()
    assert history[-1][0] == "recognize" and history[-1][1] == "mgr01"
    assert history[-1][2]["grade"] == ["C", "A"]


async def test_rejection_needs_a_reason_and_another_person(
    http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]]
) -> None:
    await _national_recognition(http, headers)
    gov = await _customer(http, headers, nature="PARTY_GOV_MIL", industry="GOVERNMENT")
    cand = (await http["customer"].post(RUN, json={"date": ON.isoformat()}, headers=headers())).json()["candidates"][0]
    url = f"{CANDIDATES}/{cand['id']}/reject"
    r = await http["customer"].post(url, json={}, headers=headers("mgr01"))
    assert r.status_code == 422 and r.json()["details"]["field"] == "reason"
    r = await http["customer"].post(url, json={"reason": "已并入上级集团"}, headers=headers("am01"))
    assert r.status_code == 403
    r = await http["customer"].post(url, json={"reason": "已并入上级集团"}, headers=headers("mgr01"))
    assert r.status_code == 200 and r.json()["status"] == "REJECTED"
    customer = (
        await http["customer"].get(f"/tmf-api/customerManagement/v4/customer/{gov['id']}", headers=headers())
    ).json()
    assert customer["grade"] == "C"


async def test_no_rule_in_force_and_bad_spend_are_refused(
    http: dict[str, httpx.AsyncClient], headers: Callable[..., dict[str, str]]
) -> None:
    r = await http["customer"].post(RUN, json={"date": ON.isoformat()}, headers=headers())
    assert r.status_code == 409 and "no published recognition rule" in r.json()["message"]
    bad = {"items": [{"customerId": "01a23502-8ecc-76d0-a4e8-6b3c2962ed17", "month": "2026-07", "amount": "1.00"}]}
    r = await http["customer"].post("/api/v1/customer/recognition/spend", json=bad, headers=headers())
    assert r.status_code == 422 and r.json()["details"]["field"] == "items.0.customerId"
    bad["items"][0]["month"] = "2026-13"
    r = await http["customer"].post("/api/v1/customer/recognition/spend", json=bad, headers=headers())
    assert r.status_code == 422 and "month" in r.json()["details"]["field"]


def test_customer_migrations_match_the_models_with_recognition(database_url: str) -> None:
    from kam_platform.db.migrate import check

    check(database_url, CUSTOMER_MIGRATIONS)


async def test_schedule_runs_as_its_owner_when_due(
    http: dict[str, httpx.AsyncClient],
    headers: Callable[..., dict[str, str]],
    apps: dict[str, FastAPI],
    rollback_conn: AsyncConnection,
    make_token: Callable[..., str],
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.ext.asyncio import async_sessionmaker

    from kam_customer.recognition import scheduler

    await _national_recognition(http, headers)
    gov = await _customer(http, headers, nature="PARTY_GOV_MIL", industry="GOVERNMENT")
    r = await http["customer"].get("/api/v1/customer/recognition/schedule", headers=headers())
    assert r.status_code == 404
    due = datetime.now(UTC) - timedelta(minutes=1)
    body = {"intervalDays": 30, "nextRunAt": due.isoformat()}
    r = await http["customer"].put("/api/v1/customer/recognition/schedule", json=body, headers=headers("planner"))
    assert r.status_code == 200 and r.json()["runAs"] == "planner", r.text

    async def token_for(settings: Any, user: str) -> str:
        perms = [*ALL_CUSTOMER_PERMS, "rules:read"]
        return make_token(user, settings.node, perms=perms, roles=["ka_dept_manager"])

    maker = async_sessionmaker(bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    result = await scheduler.run_due(apps["customer"], sessionmaker=maker, token_for=token_for)
    assert result is not None and result.startswith("evaluated") and "proposed 1" in result, result
    assert await scheduler.run_due(apps["customer"], sessionmaker=maker, token_for=token_for) is None  # not due

    sched = (await http["customer"].get("/api/v1/customer/recognition/schedule", headers=headers())).json()
    assert sched["lastRunId"] and sched["lastResult"] == result
    assert datetime.fromisoformat(sched["nextRunAt"]) > datetime.now(UTC) + timedelta(days=29)
    cands = (await http["customer"].get(CANDIDATES, params={"customerId": gov["id"]}, headers=headers())).json()
    assert [c["proposedBy"] for c in cands] == ["planner"]
    r = await http["customer"].post(f"{CANDIDATES}/{cands[0]['id']}/confirm", json={}, headers=headers("planner"))
    assert r.status_code == 403  # the schedule's owner proposed it
