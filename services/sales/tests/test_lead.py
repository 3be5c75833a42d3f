"""Sales leads (TMF699) over real PostgreSQL: customer or prospect, the status flow with 409 naming the
allowed moves, rejection with a reason, conversion into an opportunity in one transaction, scope and
replicas refusing writes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

BASE = "/tmf-api/sales/v4/salesLead"
OPPS = "/api/v1/sales/opportunities"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
CUSTOMER = str(uuid.UUID(int=99))


async def _lead(c: httpx.AsyncClient, auth: Auth, node: str = "gd-gz", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "白云机场 SD-WAN 意向",
        "customer": {"id": CUSTOMER},
        "rating": "hot",
        "source": "VISIT",
    }
    body.update(over)
    r = await c.post(BASE, json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_lead_names_a_customer_or_a_prospect(clients: Clients, auth: Auth) -> None:
    lead = await _lead(clients["gd-gz"], auth)
    assert lead["@type"] == "SalesLead" and lead["status"] == "new" and lead["ownerNode"] == "gd-gz"
    prospect = await _lead(clients["gd-gz"], auth, customer=None, prospectName="广州某新区管委会")
    assert prospect["customer"] is None and prospect["prospectName"] == "广州某新区管委会"
    r = await clients["gd-gz"].post(BASE, json={"name": "x"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and "prospectName" in r.json()["message"]
    r = await clients["gd-gz"].post(
        BASE,
        json={"name": "x", "prospectName": "p", "estimatedRevenue": {"unit": "CNY", "value": "0.001"}},
        headers=auth("gd-gz"),
    )
    assert r.status_code == 422 and "estimatedRevenue.value" in r.json()["message"]


async def test_status_flow_and_rejection_reason(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    lead = await _lead(c, auth)
    path = f"{BASE}/{lead['id']}"
    r = await c.patch(path, json={"status": "converted"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["qualified", "rejected"], r.text
    r = await c.patch(path, json={"status": "qualified"}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await c.patch(path, json={"status": "rejected"}, headers=auth("gd-gz"))
    assert r.status_code == 422 and r.json()["message"].startswith("statusReason")
    r = await c.patch(path, json={"status": "rejected", "statusReason": "预算取消"}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["statusReason"] == "预算取消"
    r = await c.patch(path, json={"rating": "cold"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == []


async def test_conversion_makes_an_opportunity_and_links_it(clients: Clients, auth: Auth) -> None:
    c = clients["gd-gz"]
    lead = await _lead(c, auth, estimatedRevenue={"unit": "CNY", "value": "300000"})
    r = await c.post(f"{BASE}/{lead['id']}/convert", json={"closeDate": "2027-06-30"}, headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["source"] == "LEAD" and o["stage"] == "LEAD" and o["expectedAmount"]["value"] == "300000.00"
    assert o["customer"]["id"] == CUSTOMER and r.headers["Location"] == o["href"]
    r = await c.get(f"{BASE}/{lead['id']}", headers=auth("gd-gz"))
    assert r.json()["status"] == "converted" and r.json()["salesOpportunity"]["id"] == o["id"]
    r = await c.post(f"{BASE}/{lead['id']}/convert", json={}, headers=auth("gd-gz"))
    assert r.status_code == 409
    # a prospect converts only once the customer is named
    prospect = await _lead(c, auth, customer=None, prospectName="新客户")
    r = await c.post(
        f"{BASE}/{prospect['id']}/convert",
        json={"expectedAmount": {"unit": "CNY", "value": "1"}},
        headers=auth("gd-gz"),
    )
    assert r.status_code == 422 and r.json()["message"].startswith("customer")
    r = await c.get(f"{BASE}/{prospect['id']}", headers=auth("gd-gz"))
    assert r.json()["status"] == "new"  # nothing half-written


async def test_scope_and_replica_refusal(clients: Clients, auth: Auth) -> None:
    lead = await _lead(clients["gd-gz"], auth)
    assert (await clients["hq"].get(f"{BASE}/{lead['id']}", headers=auth("hq"))).status_code == 200
    assert (await clients["js"].get(f"{BASE}/{lead['id']}", headers=auth("js"))).status_code == 404
    r = await clients["gd"].patch(f"{BASE}/{lead['id']}", json={"rating": "cold"}, headers=auth("gd"))
    assert r.status_code == 409 and r.json()["details"]["ownerNode"] == "gd-gz"
    r = await clients["gd"].get(BASE, params={"status": "bogus"}, headers=auth("gd"))
    assert r.status_code == 400 and "new" in r.json()["message"]
