"""Campaigns over real PostgreSQL, with the node's real customer app answering the segment: draft →
approved (not by the author: 403 SEPARATION_OF_DUTIES) → running → closed with 409 naming the allowed
moves; launch snapshots the segment in the launcher's scope into one target list per province; each
target is worked only where the customer is (contact attempts, responses, conversion into an
opportunity), and the evaluation counts it at the province and the group."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.outbox import build_event
from kam_platform.replication import Event
from kam_platform.testing.plugin import bearer
from kam_sales.campaign.dataset import TARGET_LISTS, list_message
from kam_sales.models import CampaignTargetList, Outbox

BASE = "/api/v1/sales/campaigns"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
TMF = "/tmf-api/productCatalogManagement/v4"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
APPROVER = ["sales.campaign:read", "sales.campaign:approve"]


async def _customer(c: httpx.AsyncClient, auth: Auth, node: str, name: str) -> str:
    body = {"name": name, "engagedParty": {"id": f"ep-{name}", "@referredType": "Organization"}}
    r = await c.post(CUSTOMERS, json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "2027 政企专线提速季",
        "objective": "存量专线客户提速至 1G，目标转化 20%",
        "segment": {"filter": {"name": "甲公司,乙公司,丙公司,丁公司"}},
        "channel": "visit",
        "budget": {"unit": "CNY", "value": "40000.00"},
        "period": {"startDateTime": "2027-01-01", "endDateTime": "2027-04-01"},
    }
    body.update(over)
    return body


async def _running(clients: Clients, auth: Auth, node: str = "hq", **over: Any) -> dict[str, Any]:
    c = clients[node]
    r = await c.post(BASE, json=_body(**over), headers=auth(node, user="planner"))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = await c.post(f"{BASE}/{cid}/approve", headers=auth(node, user="director", perms=APPROVER))
    assert r.status_code == 200, r.text
    r = await c.post(f"{BASE}/{cid}/launch", headers=auth(node, user="planner"))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_status_flow_and_separation_of_duties(clients: Clients, auth: Auth) -> None:
    c = clients["hq"]
    r = await c.post(BASE, json=_body(), headers=auth("hq", user="planner"))
    assert r.status_code == 201 and r.json()["status"] == "draft", r.text
    cid = r.json()["id"]
    r = await c.post(f"{BASE}/{cid}/launch", headers=auth("hq", user="planner"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["approved"], r.text
    r = await c.post(f"{BASE}/{cid}/approve", headers=auth("hq", user="planner", perms=APPROVER))
    assert r.status_code == 403 and r.json()["code"] == "SEPARATION_OF_DUTIES", r.text
    r = await c.post(f"{BASE}/{cid}/approve", headers=auth("hq", user="planner2"))  # no approve permission
    assert r.status_code == 403, r.text
    r = await c.post(f"{BASE}/{cid}/approve", headers=auth("hq", user="director", perms=APPROVER))
    assert r.status_code == 200 and r.json()["approvedBy"] == "director", r.text
    r = await c.patch(f"{BASE}/{cid}", json={"name": "x"}, headers=auth("hq", user="planner"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["running"], r.text
    # a draft and an approved campaign stay at the author: not visible below, nothing published
    assert (await clients["gd-gz"].get(f"{BASE}/{cid}", headers=auth("gd-gz"))).status_code == 404
    r = await c.post(f"{BASE}/{cid}/close", headers=auth("hq", user="planner"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["running"], r.text


async def test_bad_input_is_422_naming_the_field(clients: Clients, auth: Auth) -> None:
    retired = (
        await clients["hq"].post(
            f"{TMF}/productOffering",
            json={"name": "旧", "lifecycleStatus": "active", "validFor": {"startDateTime": "2026-01-01"}},
            headers=auth("hq"),
        )
    ).json()["id"]
    await clients["hq"].patch(
        f"{TMF}/productOffering/{retired}", json={"lifecycleStatus": "retired"}, headers=auth("hq")
    )
    for over, field in (
        ({"budget": {"unit": "CNY", "value": "-1"}}, "budget.value"),
        ({"budget": {"unit": "XXX", "value": "1"}}, "budget.unit"),
        ({"segment": {"filter": {"password": "x"}}}, "segment.filter"),
        ({"channel": "fax"}, "channel"),
        ({"period": {"startDateTime": "2027-04-01", "endDateTime": "2027-01-01"}}, "period"),
        ({"offers": [{"id": retired}]}, "offers[0].id"),
    ):
        r = await clients["hq"].post(BASE, json=_body(**over), headers=auth("hq"))
        assert r.status_code == 422 and r.json()["@type"] == "Error" and field in r.json()["message"], (field, r.text)


async def test_national_campaign_targets_per_province_worked_where_the_customer_is(
    clients: Clients, customer_clients: Clients, auth: Auth, rollback_conn: AsyncConnection
) -> None:
    gz1 = await _customer(customer_clients["gd-gz"], auth, "gd-gz", "甲公司")
    gz2 = await _customer(customer_clients["gd-gz"], auth, "gd-gz", "乙公司")
    nj = await _customer(customer_clients["js-nj"], auth, "js-nj", "丙公司")
    await _customer(customer_clients["gd-gz"], auth, "gd-gz", "不在客群")
    camp = await _running(clients, auth)
    assert camp["status"] == "running" and camp["segment"]["targetCount"] == 3
    cid = camp["id"]
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as s:
        lists = (await s.scalars(select(CampaignTargetList).where(CampaignTargetList.campaign_id == cid))).all()
        assert sorted((tl.scope_node, len(tl.targets)) for tl in lists) == [("gd", 2), ("js", 1)]
        subjects = (
            await s.scalars(select(Outbox.subject).where(Outbox.aggregate_id.in_([str(tl.id) for tl in lists])))
        ).all()
        assert subjects and all(x.startswith("down.all.sales.campaign_target_list.") for x in subjects)

    # the work list at gd-gz holds its own customers only; js-nj's target is js-nj's
    r = await clients["gd-gz"].get(f"{BASE}/{cid}/targets", headers=auth("gd-gz"))
    assert r.status_code == 200 and sorted(t["customer"]["id"] for t in r.json()) == sorted([gz1, gz2]), r.text
    r = await clients["gd-gz"].post(f"{BASE}/{cid}/targets/{nj}/attempt", json={}, headers=auth("gd-gz"))
    assert r.status_code == 404, r.text  # outside gd-gz's scope: not a target it sees
    r = await clients["gd"].post(f"{BASE}/{cid}/targets/{gz1}/attempt", json={}, headers=auth("gd"))
    assert r.status_code == 409 and r.json()["details"]["ownerNode"] == "gd-gz", r.text

    c = clients["gd-gz"]
    r = await c.post(
        f"{BASE}/{cid}/targets/{gz1}/attempt", json={"note": "电话未接通", "channel": "phone"}, headers=auth("gd-gz")
    )
    assert r.status_code == 200 and len(r.json()["attempts"]) == 1 and r.json()["response"] == "none", r.text
    r = await c.post(f"{BASE}/{cid}/targets/{gz1}/response", json={"response": "converted"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "opportunity" in r.json()["message"], r.text
    conversion = {
        "response": "converted",
        "opportunity": {"name": "甲公司 1G 提速", "expectedAmount": {"unit": "CNY", "value": "120000.00"}},
    }
    r = await c.post(f"{BASE}/{cid}/targets/{gz1}/response", json=conversion, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["response"] == "converted", r.text
    opp = r.json()["opportunity"]["id"]
    o = (await c.get(f"/api/v1/sales/opportunities/{opp}", headers=auth("gd-gz"))).json()
    assert o["source"] == "CAMPAIGN" and o["customer"]["id"] == gz1 and o["expectedAmount"]["value"] == "120000.00"
    r = await c.post(f"{BASE}/{cid}/targets/{gz1}/response", json={"response": "interested"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == [], r.text
    r = await c.post(f"{BASE}/{cid}/targets/{gz2}/response", json={"response": "notInterested"}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text

    # evaluation at hq: gd has 2 targets, 2 responders, 1 conversion, the pipeline; js 1 target, none
    r = await clients["hq"].get(f"{BASE}/{cid}/evaluation", headers=auth("hq"))
    assert r.status_code == 200, r.text
    ev = r.json()
    lines = {x["node"]: x for x in ev["lines"]}
    gd, js = lines["gd"], lines["js"]
    assert (gd["targets"], gd["contacted"], gd["responders"], gd["conversions"]) == (2, 2, 2, 1)
    assert gd["pipeline"]["value"] == "120000.00" and gd["won"]["value"] == "0.00" and gd["responseRate"] == "100.00"
    assert gd["cost"]["value"] == "26666.67" and gd["costPerResponse"]["value"] == "13333.33"
    assert (js["targets"], js["responders"], js["costPerResponse"]) == (1, 0, None)
    assert ev["total"]["targets"] == 3 and ev["total"]["responders"] == 2 and ev["total"]["responseRate"] == "66.67"
    # at gd, drilled down: one line per local network
    r = await clients["gd"].get(f"{BASE}/{cid}/evaluation", headers=auth("gd"))
    assert {x["node"]: x["conversions"] for x in r.json()["lines"]} == {"gd": 0, "gd-gz": 1, "gd-sz": 0}
    r = await clients["gd"].get(f"{BASE}/{cid}/evaluation?node=js", headers=auth("gd"))
    assert r.status_code == 403, r.text

    r = await clients["hq"].post(f"{BASE}/{cid}/close", headers=auth("hq", user="planner"))
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    r = await c.post(f"{BASE}/{cid}/targets/{gz2}/attempt", json={}, headers=auth("gd-gz"))
    assert r.status_code == 409, r.text


async def test_launch_sees_only_the_launchers_scope(clients: Clients, customer_clients: Clients, auth: Auth) -> None:
    await _customer(customer_clients["gd-gz"], auth, "gd-gz", "甲公司")
    await _customer(customer_clients["js-nj"], auth, "js-nj", "丙公司")
    camp = await _running(clients, auth, node="gd")
    assert camp["segment"]["targetCount"] == 1  # gd's launcher sees Guangdong's customers only
    r = await clients["gd-gz"].get(f"{BASE}/{camp['id']}/targets", headers=auth("gd-gz"))
    assert [t["node"] for t in r.json()] == ["gd-gz"]
    assert (await clients["js-nj"].get(f"{BASE}/{camp['id']}", headers=auth("js-nj"))).status_code == 404


async def test_a_replica_refuses_writes(clients: Clients, auth: Auth, make_token: Callable[..., str]) -> None:
    camp = await _running(clients, auth)
    r = await clients["gd"].post(f"{BASE}/{camp['id']}/close", headers=auth("gd"))
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "hq"
    # no customer read permission: the launch is refused by the customer service, nothing written
    r = await clients["hq"].post(BASE, json=_body(), headers=auth("hq", user="planner"))
    cid = r.json()["id"]
    await clients["hq"].post(f"{BASE}/{cid}/approve", headers=auth("hq", user="director", perms=APPROVER))
    token = make_token("planner", "hq", perms=["sales.campaign:write", "sales.campaign:read"])
    r = await clients["hq"].post(f"{BASE}/{cid}/launch", headers=bearer(token))
    assert r.status_code == 403, r.text


async def test_a_node_keeps_only_the_target_lists_of_its_part_of_the_tree(
    apps: dict[str, tuple[Any, ...]], rollback_conn: AsyncConnection
) -> None:
    """hq publishes every list under down.all (the root's only downward scope): js-nj drops gd's list,
    gd-gz keeps it, and hq's own-customer list stays at hq."""
    now = datetime(2027, 1, 1, tzinfo=UTC)
    campaign = uuid.uuid4()

    def event(scope: str) -> Event:
        tl = CampaignTargetList(
            id=uuid.uuid5(campaign, scope),
            owner_node="hq",
            version=1,
            campaign_id=campaign,
            scope_node=scope,
            valid_from=date(2027, 1, 1),
            valid_to=date(2027, 4, 1),
            targets=[{"customerId": str(uuid.uuid4()), "name": "x", "node": "gd-gz" if scope == "gd" else "hq"}],
            created_at=now,
            updated_at=now,
        )
        _, subject, _, payload = build_event(
            node="hq",
            service="sales",
            aggregate_type="campaign_target_list",
            aggregate_id=str(tl.id),
            version=1,
            message=list_message(tl),
            actor="planner",
            down_scope="all",
        )
        return Event(envelope_pb2.Envelope.FromString(payload), subject, "DOWN_ALL")

    kept = {}
    for node in ("js-nj", "gd-gz", "gd"):
        ds = TARGET_LISTS.for_node(apps[node][0].state.settings)
        async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as s:
            rows = await ds.apply(s, [event("gd"), event("hq")])
            kept[node] = sorted(r["scope_node"] for r in rows)
            await s.rollback()
    assert kept == {"js-nj": [], "gd-gz": ["gd"], "gd": ["gd"]}


async def test_the_campaigns_of_a_customer_and_its_own_response(
    clients: Clients, customer_clients: Clients, auth: Auth
) -> None:
    gz1 = await _customer(customer_clients["gd-gz"], auth, "gd-gz", "甲公司")
    gz2 = await _customer(customer_clients["gd-gz"], auth, "gd-gz", "乙公司")
    outside = await _customer(customer_clients["gd-gz"], auth, "gd-gz", "不在客群")
    camp = await _running(clients, auth)
    other = await _running(clients, auth, name="另一活动", segment={"filter": {"name": "乙公司"}})
    c = clients["gd-gz"]
    r = await c.get(BASE, params={"target.customer.id": gz1}, headers=auth("gd-gz"))
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [camp["id"]], r.text
    assert r.headers["X-Total-Count"] == "1"
    r = await c.get(BASE, params={"target.customer.id": gz2, "sort": "name"}, headers=auth("gd-gz"))
    assert sorted(x["id"] for x in r.json()) == sorted([camp["id"], other["id"]]) and r.headers["X-Total-Count"] == "2"
    r = await c.get(BASE, params={"target.customer.id": f"{gz1},{gz2}"}, headers=auth("gd-gz"))
    assert r.headers["X-Total-Count"] == "2", r.text
    for nobody in (outside, "not-a-uuid"):
        r = await c.get(BASE, params={"target.customer.id": nobody}, headers=auth("gd-gz"))
        assert r.status_code == 200 and r.json() == [] and r.headers["X-Total-Count"] == "0", r.text
    r = await c.get(BASE, params={"target.customer.id.gt": gz1}, headers=auth("gd-gz"))
    assert r.status_code == 400 and r.json()["@type"] == "Error", r.text

    # the customer's own line of the work list, with its response
    await c.post(f"{BASE}/{camp['id']}/targets/{gz1}/response", json={"response": "interested"}, headers=auth("gd-gz"))
    r = await c.get(f"{BASE}/{camp['id']}/targets", params={"customer.id": gz1}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "1", r.text
    assert [(t["customer"]["id"], t["response"]) for t in r.json()] == [(gz1, "interested")]
    r = await c.get(f"{BASE}/{camp['id']}/targets", params={"customer.id": outside}, headers=auth("gd-gz"))
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
