"""Care (plans per customer or segment, the daily proposal once per occasion, activities with cost and
feedback), expert service (pools of the group and provinces, best-match assignment, the outcome as a
solution document), contact schemes (hotlines, layer-to-layer map, PII masked)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from kam_platform.testing.plugin import bearer
from kam_service.care.job import CareJob

from .conftest import MovableClock

CARE = "/api/v1/service/care"
EXPERTS = "/api/v1/service/expert"
REQUESTS = "/api/v1/service/expertRequest"
SCHEMES = "/api/v1/service/contactScheme"
DOCUMENTS = "/api/v1/service/document"
PERMS = [
    "service.care:read", "service.care:write", "service.expert:read", "service.expert:write",
    "service.expert:request", "service.document:read", "service.document:write", "customer:read",
]  # fmt: skip
Clients = dict[str, httpx.AsyncClient]
Who = Callable[..., dict[str, str]]
MERGE = {"Content-Type": "application/merge-patch+json"}


def _who(make_token: Callable[..., str]) -> Who:
    def make(node: str = "gd-gz", user: str = "am-li", perms: list[str] | None = None) -> dict[str, str]:
        return bearer(make_token(user, node, perms=PERMS if perms is None else perms, roles=["account_manager"]))

    return make


async def _post(c: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = await c.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


async def test_daily_proposal_makes_each_due_care_once(
    clients: Clients, make_token: Callable[..., str], insert_customer: Callable[..., Any], clock: MovableClock
) -> None:
    who = _who(make_token)
    c = clients["gd-gz"]
    bank = await insert_customer("gd-gz", name="中国银行广州分行")
    metro = await insert_customer("gd-gz", name="广州地铁")
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    birthdays = await _post(
        c,
        f"{CARE}/plan",
        {
            "kind": "BIRTHDAY_GREETING",
            "name": "生日祝福",
            "segment": "A 级客户关键联系人",
            "leadDays": 7,
            "budgetPerTarget": {"unit": "CNY", "value": "200.00"},
            "targets": [
                {"customerId": bank, "contactId": alice, "contactName": "王总", "monthDay": "03-05"},
                {"customerId": metro, "contactId": bob, "contactName": "李总", "monthDay": "04-20"},
            ],
        },
        who(),
    )
    assert birthdays["targets"][0]["customerName"] == "中国银行广州分行"
    assert birthdays["budgetPerTarget"] == {"unit": "CNY", "value": "200.00"}
    await _post(c, f"{CARE}/plan", {"kind": "HOLIDAY_GREETING", "name": "三八节问候", "occasion": "03-08",
                                    "targets": [{"customerId": bank}, {"customerId": metro}]}, who())  # fmt: skip
    await _post(c, f"{CARE}/plan", {"kind": "EXECUTIVE_VISIT", "name": "高层拜访", "occasion": "2026-03-20",
                                    "leadDays": 30, "targets": [{"customerId": metro}]}, who())  # fmt: skip
    # Monday 2 March: Alice's birthday (5th), the 8th, the visit on the 20th are within lead days
    first = await _post(c, f"{CARE}/proposal", {}, who())
    assert first["on"] == "2026-03-02" and first["proposed"] == 4
    titles = sorted(a["title"] for a in first["activities"])
    assert titles == [
        "三八节问候 · 中国银行广州分行",
        "三八节问候 · 广州地铁",
        "生日祝福 · 王总",
        "高层拜访 · 广州地铁",
    ]
    greeting = next(a for a in first["activities"] if a["title"] == "生日祝福 · 王总")
    assert greeting["status"] == "PROPOSED" and greeting["dueOn"] == "2026-03-05"
    assert greeting["cost"] == {"unit": "CNY", "value": "200.00"} and greeting["createdBy"] == "system:care"
    assert (await _post(c, f"{CARE}/proposal", {}, who()))["proposed"] == 0  # once per occasion
    clock.now = datetime(2026, 4, 15, 1, 0, tzinfo=UTC)
    later = await _post(c, f"{CARE}/proposal", {}, who())
    assert [a["title"] for a in later["activities"]] == ["生日祝福 · 李总"] and later["on"] == "2026-04-15"

    # the activity's life: planned, done with cost, feedback and satisfaction; then it no longer moves
    url = f"{CARE}/activity/{greeting['id']}"
    r = await c.patch(url, json={"status": "PLANNED"}, headers={**who(), **MERGE})
    assert r.status_code == 200 and r.json()["status"] == "PLANNED"
    done = {"status": "DONE", "cost": {"unit": "CNY", "value": "188.50"}, "feedback": "王总很满意", "satisfaction": 5}
    r = await c.patch(url, json=done, headers={**who(), **MERGE})
    assert r.status_code == 200 and r.json()["cost"]["value"] == "188.50" and r.json()["satisfaction"] == 5
    r = await c.patch(url, json={"status": "PLANNED"}, headers={**who(), **MERGE})
    assert r.status_code == 409
    listed = await c.get(f"{CARE}/activity", params={"status": "PROPOSED", "relatedParty.id": metro}, headers=who())
    assert listed.status_code == 200 and listed.headers["x-total-count"] == "3"
    # a replica is read-only
    r = await clients["gd"].patch(url, json={"feedback": "x"}, headers={**who("gd", "boss"), **MERGE})
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER"


async def test_care_input_is_validated(
    clients: Clients, make_token: Callable[..., str], insert_customer: Callable[..., Any]
) -> None:
    who = _who(make_token)
    c = clients["gd-gz"]
    cid = await insert_customer("gd-gz")
    bad_plans = [
        {"kind": "BIRTHDAY_GREETING", "name": "x", "targets": [{"customerId": cid}]},  # no monthDay
        {"kind": "HOLIDAY_GREETING", "name": "x", "targets": [{"customerId": cid}]},  # no occasion
        {"kind": "HOLIDAY_GREETING", "name": "x", "occasion": "13-01", "targets": [{"customerId": cid}]},
        {"kind": "VIP_EVENT", "name": "x", "occasion": "05-01", "targets": []},
        {"kind": "VIP_EVENT", "name": "x", "occasion": "05-01", "leadDays": 99, "targets": [{"customerId": cid}]},
    ]
    for body in bad_plans:
        r = await c.post(f"{CARE}/plan", json=body, headers=who())
        assert r.status_code == 422 and r.json()["@type"] == "Error", (body, r.text)
    r = await c.post(f"{CARE}/plan", json={"kind": "VIP_EVENT", "name": "x", "occasion": "05-01",
                                           "targets": [{"customerId": str(uuid.uuid4())}]}, headers=who())  # fmt: skip
    assert r.status_code == 422 and "not found" in r.json()["message"]
    manual = await _post(
        c,
        f"{CARE}/activity",
        {"kind": "VIP_EVENT", "title": "年度客户答谢会", "relatedParty": [{"id": cid, "role": "customer"}],
         "dueOn": "2026-06-01", "cost": {"unit": "CNY", "value": "5000"}},
        who(),
    )  # fmt: skip
    assert manual["status"] == "PLANNED" and manual["cost"]["value"] == "5000.00"
    r = await c.patch(f"{CARE}/activity/{manual['id']}", json={"satisfaction": 9}, headers={**who(), **MERGE})
    assert r.status_code == 422
    assert (await c.get(f"{CARE}/activity", headers=who(perms=[]))).status_code == 403


async def test_expert_request_is_assigned_answered_and_closed(
    clients: Clients, make_token: Callable[..., str], insert_customer: Callable[..., Any]
) -> None:
    who = _who(make_token)
    c = clients["gd-gz"]
    body = {"username": "wang@gd", "name": "王工", "domains": ["CLOUD", "IDC"], "industries": ["FINANCE"]}
    r = await c.post(EXPERTS, json=body, headers=who())
    assert r.status_code == 409  # a local network has no pool of its own: it calls on its province's and the group's
    gd_expert = await _post(clients["gd"], EXPERTS, body, who("gd", "admin"))
    hq_expert = await _post(clients["hq"], EXPERTS, {"username": "zhao@hq", "name": "赵工", "domains": ["CLOUD"]},
                            who("hq", "admin"))  # fmt: skip
    pool = await c.get(EXPERTS, params={"domain": "CLOUD"}, headers=who())
    assert {e["name"] for e in pool.json()} == {"王工", "赵工"}
    assert [e["name"] for e in (await c.get(EXPERTS, params={"industry": "FINANCE"}, headers=who())).json()] == ["王工"]

    cid = await insert_customer("gd-gz", name="招商银行广州分行")
    req = {"subject": "私有云容灾方案", "domain": "CLOUD", "industry": "FINANCE",
           "relatedParty": [{"id": cid, "role": "customer"}]}  # fmt: skip
    first = await _post(c, REQUESTS, req, who())
    assert first["status"] == "REQUESTED" and first["requestedBy"] == "am-li@gd-gz"
    first = await _post(c, f"{REQUESTS}/{first['id']}/assign", {}, who())
    assert first["status"] == "ASSIGNED" and first["expert"]["id"] == gd_expert["id"]  # the nearer pool
    second = await _post(c, REQUESTS, {**req, "subject": "同城双活"}, who())
    second = await _post(c, f"{REQUESTS}/{second['id']}/assign", {}, who())
    assert second["expert"]["id"] == hq_expert["id"]  # 王工 already has one open
    r = await c.post(f"{REQUESTS}/{second['id']}/assign", json={"expertId": "nope"}, headers=who())
    assert r.status_code == 422
    iot = await _post(c, REQUESTS, {**req, "domain": "IOT"}, who())
    r = await c.post(f"{REQUESTS}/{iot['id']}/assign", json={}, headers=who())
    assert r.status_code == 422 and "no active expert" in r.json()["message"]

    doc = await _post(c, DOCUMENTS, {"title": "容灾技术方案", "category": "SOLUTION",
                                     "relatedParty": [{"id": cid, "role": "customer"}]}, who())  # fmt: skip
    outcome = {"summary": "两地三中心", "documentId": doc["id"]}
    other = who(perms=["service.expert:read", "service.document:read"])
    r = await c.post(f"{REQUESTS}/{first['id']}/outcome", json=outcome, headers=other)
    assert r.status_code == 403  # neither the expert nor a manager
    expert = bearer(make_token("wang", "gd", perms=["service.expert:read", "service.document:read"], scope="gd"))
    answered = await _post(c, f"{REQUESTS}/{first['id']}/outcome", outcome, expert)
    assert answered["status"] == "ANSWERED" and answered["outcomeDocument"]["id"] == doc["id"]
    closed = await _post(c, f"{REQUESTS}/{first['id']}/close", {"note": "采纳"}, who())
    assert closed["status"] == "CLOSED"
    r = await c.post(f"{REQUESTS}/{first['id']}/cancel", json={}, headers=who())
    assert r.status_code == 409 and r.json()["details"]["allowed"] == []


async def test_contact_scheme_maps_layers_and_masks_customer_phones(
    clients: Clients, make_token: Callable[..., str], insert_customer: Callable[..., Any]
) -> None:
    who = _who(make_token)
    c = clients["gd-gz"]
    cid = await insert_customer("gd-gz", name="南方电网广州供电局")
    body = {
        "relatedParty": [{"id": cid, "role": "customer"}],
        "hotlines": ["10000", "020-83000000"],
        "entries": [
            {"level": "CITY", "customerBranch": "广州供电局信息中心", "customerContact": "陈主任",
             "customerPhone": "13800138000", "telecomNode": "gd-gz", "telecomOffice": "政企客户部",
             "telecomContact": "李经理", "telecomPhone": "020-87654321"},
            {"level": "PROVINCE", "customerBranch": "南方电网广东公司", "telecomNode": "gd", "telecomOffice": "省政企部"},
        ],
    }  # fmt: skip
    made = await _post(c, SCHEMES, body, who())
    assert made["entries"][0]["customerPhone"] == "138****8000" and made["entries"][0]["telecomPhone"] == "020-87654321"
    pii = who(perms=[*PERMS, "customer.pii:read"])
    listed = await c.get(SCHEMES, params={"relatedParty.id": cid}, headers=pii)
    assert listed.json()[0]["entries"][0]["customerPhone"] == "13800138000"
    r = await c.post(SCHEMES, json=body, headers=who())
    assert r.status_code == 409
    r = await c.post(SCHEMES, json={**body, "entries": [{**body["entries"][1], "telecomNode": "mars"}]}, headers=who())
    assert r.status_code in (409, 422)
    r = await c.patch(
        f"{SCHEMES}/{made['id']}", json={"hotlines": ["10000"], "note": "7x24"}, headers={**who(), **MERGE}
    )
    assert r.status_code == 200 and r.json()["hotlines"] == ["10000"] and r.json()["version"] == 2
    r = await c.patch(
        f"{SCHEMES}/{made['id']}",
        json={"entries": [{**body["entries"][1], "telecomNode": "mars"}]},
        headers={**who(), **MERGE},
    )
    assert r.status_code == 422 and r.json()["message"].startswith("entries[0].telecomNode")
    r = await clients["gd"].patch(f"{SCHEMES}/{made['id']}", json={"note": "x"}, headers={**who("gd", "boss"), **MERGE})
    assert r.status_code == 409


async def test_the_daily_job_greets_a_contact_on_the_birthday_of_its_record(
    clients: Clients,
    make_token: Callable[..., str],
    insert_customer: Callable[..., Any],
    rollback_conn: AsyncConnection,
    sessions: async_sessionmaker[AsyncSession],
    clock: MovableClock,
) -> None:
    """A birthday greeting's target names the contact only: the plan takes the birthday (MM-DD) and the
    name from the contact's record in the customer service, and the daily job, on the injectable clock,
    proposes the greeting within lead days of it, once a year."""
    who = _who(make_token)
    c = clients["gd-gz"]
    bank = await insert_customer("gd-gz", name="招商银行广州分行")
    chen, nobody = uuid.uuid4(), uuid.uuid4()
    for cid, name, born in ((chen, "陈总", date(1971, 3, 4)), (nobody, "周经理", None)):
        await rollback_conn.execute(
            text(
                "INSERT INTO customer.contact (id, owner_node, version, customer_id, full_name, birth_date, is_primary)"
                " VALUES (:id, 'gd-gz', 1, :customer, :name, :born, false)"
            ),
            {"id": cid, "customer": uuid.UUID(bank), "name": name, "born": born},
        )
    plan = {
        "kind": "BIRTHDAY_GREETING",
        "name": "生日祝福",
        "leadDays": 3,
        "targets": [{"customerId": bank, "contactId": str(chen)}],
    }
    made = await _post(c, f"{CARE}/plan", plan, who())
    assert made["targets"][0]["monthDay"] == "03-04" and made["targets"][0]["contactName"] == "陈总", made
    r = await c.post(
        f"{CARE}/plan", json={**plan, "targets": [{"customerId": bank, "contactId": str(nobody)}]}, headers=who()
    )
    assert r.status_code == 422 and r.json()["details"]["field"] == "targets[0].monthDay", r.text

    job = CareJob(sessions, node="gd-gz", clock=clock)
    clock.now = datetime(2026, 2, 28, 1, 0, tzinfo=UTC)  # 4 days before: not yet
    assert await job.run_once() == 0
    clock.now = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 3 days before (Shanghai): due
    assert await job.run_once() == 1
    assert await job.run_once() == 0  # once per occasion
    listed = await c.get(f"{CARE}/activity", params={"relatedParty.id": bank}, headers=who())
    assert [(a["title"], a["dueOn"], a["status"]) for a in listed.json()] == [
        ("生日祝福 · 陈总", "2026-03-04", "PROPOSED")
    ]
    clock.now = datetime(2027, 3, 2, 1, 0, tzinfo=UTC)  # next year's birthday
    assert await job.run_once() == 1
