"""Opportunities over real PostgreSQL: probability from the effective rule (asked of the rules app over
HTTP), the stage machine with 409 naming the allowed moves, won/lost with a reason, stage history,
decision chain, products sellable at the owner node, money validation, scope and portfolio, replicas
refusing writes, and the event and audit each change leaves."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_platform.auth import sign_token
from kam_platform.testing.plugin import TOKEN_KID, bearer
from kam_rules.ruleset.kinds import Kind
from kam_rules.ruleset.service import default_id

from .conftest import ALL

BASE = "/api/v1/sales/opportunities"
TMF = "/tmf-api/productCatalogManagement/v4"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
CUSTOMER = str(uuid.UUID(int=42))
RULE = default_id("hq", Kind.OPPORTUNITY_PROBABILITY)


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "广州地铁 专线扩容",
        "customer": {"id": CUSTOMER},
        "source": "VISIT",
        "expectedAmount": {"unit": "CNY", "value": "960000.00"},
        "closeDate": "2027-03-31",
        "competitor": "中国移动",
    }
    body.update(over)
    return body


async def _create(c: httpx.AsyncClient, auth: Auth, node: str = "gd-gz", **over: Any) -> dict[str, Any]:
    r = await c.post(BASE, json=_body(**over), headers=auth(node))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _stage(c: httpx.AsyncClient, auth: Auth, oid: str, stage: str, **more: Any) -> httpx.Response:
    return await c.patch(f"{BASE}/{oid}", json={"stage": stage, **more}, headers=auth("gd-gz"))


async def test_created_with_the_probability_of_the_effective_rule(clients: Clients, auth: Auth) -> None:
    o = await _create(clients["gd-gz"], auth)
    assert o["stage"] == "LEAD" and o["probability"] == 10 and o["probabilityRule"] == f"{RULE}@1"
    assert o["ownerNode"] == "gd-gz" and o["accountManager"] == "am1" and o["version"] == 1
    assert o["expectedAmount"] == {"unit": "CNY", "value": "960000.00"}
    assert o["weightedAmount"] == {"unit": "CNY", "value": "96000.00"}
    r = await clients["gd-gz"].get(f"{BASE}/{o['id']}", headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["href"] == f"http://gd-gz.kam.test{BASE}/{o['id']}"


async def test_stage_machine_probability_history_and_close_reason(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    o = await _create(c, auth)
    r = await _stage(c, auth, o["id"], "WON", closeReason="签约")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "INVALID_TRANSITION"
    assert r.json()["details"]["allowed"] == ["QUALIFIED", "PROPOSAL", "NEGOTIATION", "LOST"]
    for stage, p in (("QUALIFIED", 25), ("PROPOSAL", 50), ("NEGOTIATION", 75)):
        r = await _stage(c, auth, o["id"], stage)
        assert r.status_code == 200 and r.json()["probability"] == p, r.text
    r = await _stage(c, auth, o["id"], "WON")
    assert r.status_code == 422 and r.json()["message"].startswith("closeReason"), r.text
    r = await _stage(c, auth, o["id"], "WON", closeReason="价格与网络质量胜出")
    assert r.status_code == 200, r.text
    won = r.json()
    assert won["probability"] == 100 and won["closeReason"] == "价格与网络质量胜出" and won["closedAt"]
    assert won["version"] == 5
    r = await _stage(c, auth, o["id"], "LOST", closeReason="x")
    assert r.status_code == 409 and r.json()["details"]["allowed"] == []
    r = await c.get(f"{BASE}/{o['id']}/stageHistory", headers=auth("gd-gz"))
    assert [(h["from"], h["to"], h["probability"]) for h in r.json()] == [
        (None, "LEAD", 10),
        ("LEAD", "QUALIFIED", 25),
        ("QUALIFIED", "PROPOSAL", 50),
        ("PROPOSAL", "NEGOTIATION", 75),
        ("NEGOTIATION", "WON", 100),
    ]
    assert r.json()[-1]["reason"] == "价格与网络质量胜出" and r.headers["X-Total-Count"] == "5"


async def test_bad_input_is_422_naming_the_field(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"expectedAmount": {"unit": "CNY", "value": "1.234"}}, "expectedAmount.value"),
        ({"expectedAmount": {"unit": "CNY", "value": -5}}, "expectedAmount.value"),
        ({"expectedAmount": {"unit": "XXX", "value": "5"}}, "expectedAmount.unit"),
        ({"stage": "WON"}, "stage"),
        ({"customer": {"id": "not-a-uuid"}}, "customer.id"),
        ({"decisionChain": [{"contactId": "c1", "role": "boss"}]}, "decisionChain.0.role"),
        (
            {"decisionChain": [{"contactId": "c1", "role": "user"}, {"contactId": "c1", "role": "influencer"}]},
            "decisionChain[1].contactId",
        ),
        ({"products": [{"id": str(uuid.UUID(int=7))}]}, "products[0].id"),
        ({"nextFollowUp": {"at": "2027-01-01T10:00:00"}}, "nextFollowUp.at"),
    ]
    for over, field in cases:
        r = await c.post(BASE, json=_body(**over), headers=auth("gd-gz"))
        assert r.status_code == 422, (over, r.text)
        assert r.json()["@type"] == "Error" and field in r.json()["message"], (field, r.json()["message"])


async def test_products_must_be_sellable_at_the_owner_node(clients: Clients, auth: Auth) -> None:
    async def offering(node: str, name: str) -> str:
        r = await clients[node].post(
            f"{TMF}/productOffering",
            json={"name": name, "lifecycleStatus": "active", "validFor": {"startDateTime": "2026-01-01"}},
            headers=auth(node),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    national, gd_only = await offering("hq", "互联网专线 T"), await offering("gd", "广东套餐 T")
    o = await _create(clients["gd-gz"], auth, products=[{"id": national}, {"id": gd_only}])
    assert [p["name"] for p in o["products"]] == ["互联网专线 T", "广东套餐 T"]
    r = await clients["js-nj"].post(BASE, json=_body(products=[{"id": gd_only}]), headers=auth("js-nj"))
    assert r.status_code == 422 and r.json()["message"].startswith("products[0].id"), r.text


async def test_decision_chain_and_follow_up_are_kept(clients: Clients, auth: Auth) -> None:
    chain = [
        {"contactId": "c-1", "name": "王总", "role": "decisionMaker"},
        {"contactId": "c-2", "name": "李工", "role": "influencer"},
        {"contactId": "c-3", "role": "user"},
    ]
    o = await _create(clients["gd-gz"], auth, decisionChain=chain)
    assert [d["role"] for d in o["decisionChain"]] == ["decisionMaker", "influencer", "user"]
    r = await clients["gd-gz"].patch(
        f"{BASE}/{o['id']}",
        json={"nextFollowUp": {"at": "2027-01-05T10:00:00+08:00", "note": "带方案拜访"}},
        headers=auth("gd-gz"),
    )
    assert r.status_code == 200 and r.json()["nextFollowUp"]["note"] == "带方案拜访", r.text
    r = await clients["gd-gz"].get(
        BASE, params={"nextFollowUp.at.lte": "2027-01-06T00:00:00+08:00"}, headers=auth("gd-gz")
    )
    assert o["id"] in [x["id"] for x in r.json()]
    r = await clients["gd-gz"].patch(f"{BASE}/{o['id']}", json={"name": None}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "name" in r.json()["message"]


async def test_scope_hq_and_gd_see_gd_gz_deals_js_does_not(clients: Clients, auth: Auth) -> None:
    o = await _create(clients["gd-gz"], auth)
    for node in ("hq", "gd", "gd-gz"):
        r = await clients[node].get(f"{BASE}/{o['id']}", headers=auth(node))
        assert r.status_code == 200, (node, r.text)
    r = await clients["js"].get(f"{BASE}/{o['id']}", headers=auth("js"))
    assert r.status_code == 404 and r.json()["@type"] == "Error"
    r = await clients["js"].get(BASE, params={"id": o["id"]}, headers=auth("js"))
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
    # an hq analyst scoped to js sees none of gd's either
    r = await clients["hq"].get(BASE, params={"id": o["id"]}, headers=auth("hq", scope="js"))
    assert r.json() == []


async def test_portfolio_scope_sees_own_deals_only(clients: Clients, auth: Auth, signing_key: Any) -> None:
    mine = await _create(clients["gd-gz"], auth, accountManager="am1")
    theirs = await _create(clients["gd-gz"], auth, accountManager="am2")
    now = int(time.time())
    claims = {
        "sub": "am1",
        "node": "gd-gz",
        "scope_node": "gd-gz",
        "scope_level": "own",
        "roles": [],
        "perms": ALL,
        "iat": now,
        "exp": now + 600,
        "aud": "kam",
        "iss": "kam:gd-gz",
        "jti": "own",
    }
    own = bearer(sign_token(signing_key, TOKEN_KID, claims))
    r = await clients["gd-gz"].get(BASE, params={"id": f"{mine['id']},{theirs['id']}"}, headers=own)
    assert [x["id"] for x in r.json()] == [mine["id"]] and r.headers["X-Total-Count"] == "1"
    r = await clients["gd-gz"].get(f"{BASE}/{theirs['id']}", headers=own)
    assert r.status_code == 404


async def test_write_at_a_replica_is_refused_naming_the_owner(clients: Clients, auth: Auth) -> None:
    o = await _create(clients["gd-gz"], auth)
    r = await clients["hq"].patch(f"{BASE}/{o['id']}", json={"name": "改"}, headers=auth("hq"))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz"


async def test_each_change_writes_an_upward_event_and_an_audit_row(
    clients: Clients, auth: Auth, rollback_conn: AsyncConnection
) -> None:
    o = await _create(clients["gd-gz"], auth)
    await _stage(clients["gd-gz"], auth, o["id"], "QUALIFIED")
    rows = (
        await rollback_conn.execute(
            text("SELECT subject, version FROM sales.outbox WHERE aggregate_id = :id ORDER BY version"), {"id": o["id"]}
        )
    ).all()
    assert [(s, v) for s, v in rows] == [
        (f"up.gd-gz.sales.opportunity.{o['id']}", 1),
        (f"up.gd-gz.sales.opportunity.{o['id']}", 2),
    ]
    actions = (
        (
            await rollback_conn.execute(
                text("SELECT action FROM sales.audit WHERE entity_id = :id ORDER BY at"), {"id": o["id"]}
            )
        )
        .scalars()
        .all()
    )
    assert actions == ["create", "stage"]
