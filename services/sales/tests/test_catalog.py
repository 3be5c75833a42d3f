"""The catalogue over real PostgreSQL: authored at the group and provinces only, TMF620 lifecycle with
409 naming the allowed moves, money validated, references only to items in force where the referrer
flows, replicas refusing writes, and what is sellable at a node after a province's availability."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

TMF = "/tmf-api/productCatalogManagement/v4"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
START = {"startDateTime": "2026-01-01T00:00:00+08:00"}


async def _post(c: httpx.AsyncClient, auth: Auth, node: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await c.post(path, json={"validFor": START, **body}, headers=auth(node))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _offering(c: httpx.AsyncClient, auth: Auth, node: str, name: str, **over: Any) -> dict[str, Any]:
    price = await _post(
        c,
        auth,
        node,
        f"{TMF}/productOfferingPrice",
        {
            "name": f"{name} 月租",
            "priceType": "recurring",
            "recurringChargePeriodType": "month",
            "price": {"unit": "CNY", "value": "800.00"},
            "lifecycleStatus": "active",
        },
    )
    body = {"name": name, "productOfferingPrice": [{"id": price["id"]}], "lifecycleStatus": "active", **over}
    return await _post(c, auth, node, f"{TMF}/productOffering", body)


async def _sellable(c: httpx.AsyncClient, auth: Auth, node: str) -> set[str]:
    r = await c.get("/api/v1/sales/sellableOffering", params={"limit": 1000}, headers=auth(node))
    assert r.status_code == 200, r.text
    return {o["name"] for o in r.json()}


async def test_offering_is_created_with_tmf_shape_and_location(clients: Clients, auth: Auth) -> None:
    cat = await _post(clients["hq"], auth, "hq", f"{TMF}/category", {"name": "互联网专线", "code": "PL-T"})
    o = await _offering(clients["hq"], auth, "hq", "专线 T", category=[{"id": cat["id"]}])
    assert o["@type"] == "ProductOffering" and o["lifecycleStatus"] == "active" and o["version"] == "1"
    assert o["ownerNode"] == "hq" and o["validFor"]["startDateTime"].startswith("2025-12-31")
    assert o["category"][0]["id"] == cat["id"]
    r = await clients["hq"].get(f"{TMF}/productOffering/{o['id']}", headers=auth("hq"))
    assert r.status_code == 200 and r.json()["href"] == f"http://hq.kam.test{TMF}/productOffering/{o['id']}"
    r = await clients["hq"].get(f"{TMF}/productOffering", params={"category.id": cat["id"]}, headers=auth("hq"))
    assert [x["id"] for x in r.json()] == [o["id"]] and r.headers["X-Total-Count"] == "1"


async def test_local_network_cannot_author(clients: Clients, auth: Auth) -> None:
    r = await clients["gd-gz"].post(
        f"{TMF}/category", json={"name": "本地产品线", "validFor": START}, headers=auth("gd-gz")
    )
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["@type"] == "Error" and body["code"] == "CONFLICT" and "gd-gz" in body["message"]


@pytest.mark.parametrize(
    ("price", "field"),
    [
        ({"unit": "CNY", "value": "12.345"}, "price.value"),
        ({"unit": "CNY", "value": "-1"}, "price.value"),
        ({"unit": "CNY", "value": "NaN"}, "price.value"),
        ({"unit": "RMB", "value": "10"}, "price.unit"),
        ({"value": "10"}, "price.unit"),
    ],
)
async def test_bad_money_is_422_naming_the_field(
    clients: Clients, auth: Auth, price: dict[str, Any], field: str
) -> None:
    body = {"name": "月租", "priceType": "oneTime", "price": price, "validFor": START}
    r = await clients["hq"].post(f"{TMF}/productOfferingPrice", json=body, headers=auth("hq"))
    assert r.status_code == 422, r.text
    assert r.json()["@type"] == "Error" and field in r.json()["message"]


async def test_money_is_answered_as_decimal_string(clients: Clients, auth: Auth) -> None:
    p = await _post(
        clients["hq"],
        auth,
        "hq",
        f"{TMF}/productOfferingPrice",
        {"name": "安装费", "priceType": "oneTime", "price": {"unit": "CNY", "value": 2000.5}},
    )
    assert p["price"] == {"unit": "CNY", "value": "2000.50"}
    r = await clients["hq"].post(
        f"{TMF}/productOfferingPrice",
        json={"name": "折扣", "priceType": "discount", "validFor": START},
        headers=auth("hq"),
    )
    assert r.status_code == 422 and "percentage" in r.json()["message"]


async def test_lifecycle_moves_forward_only_with_409_naming_allowed(clients: Clients, auth: Auth) -> None:
    c = clients["hq"]
    o = await _post(c, auth, "hq", f"{TMF}/productOffering", {"name": "试验产品"})
    assert o["lifecycleStatus"] == "inDesign"
    path = f"{TMF}/productOffering/{o['id']}"
    r = await c.patch(path, json={"lifecycleStatus": "active"}, headers=auth("hq"))
    assert r.status_code == 200 and r.json()["version"] == "2", r.text
    r = await c.patch(path, json={"lifecycleStatus": "inDesign"}, headers=auth("hq"))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "INVALID_TRANSITION" and "retired" in r.json()["message"]
    assert r.json()["details"]["allowed"] == ["retired"]
    r = await c.patch(path, json={"lifecycleStatus": "retired"}, headers=auth("hq"))
    assert r.status_code == 200
    r = await c.patch(path, json={"name": "改名"}, headers=auth("hq"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == []
    r = await c.patch(path, json={"lifecycleStatus": "bogus"}, headers=auth("hq"))
    assert r.status_code in (409, 422)


async def test_unknown_or_foreign_reference_is_422_naming_it(clients: Clients, auth: Auth) -> None:
    gd_cat = await _post(
        clients["gd"], auth, "gd", f"{TMF}/category", {"name": "广东产品线", "lifecycleStatus": "active"}
    )
    # a national offering cannot refer to a provincial category: it would dangle outside gd
    r = await clients["hq"].post(
        f"{TMF}/productOffering",
        json={"name": "全国产品", "validFor": START, "category": [{"id": gd_cat["id"]}]},
        headers=auth("hq"),
    )
    assert r.status_code == 422 and r.json()["message"].startswith("category[0].id"), r.text
    r = await clients["hq"].post(
        f"{TMF}/productOffering",
        json={"name": "全国产品", "validFor": START, "productSpecification": {"id": "nope"}},
        headers=auth("hq"),
    )
    assert r.status_code == 422 and "productSpecification.id" in r.json()["message"]


async def test_write_at_a_replica_is_refused_naming_the_owner(clients: Clients, auth: Auth) -> None:
    o = await _offering(clients["hq"], auth, "hq", "全国专线")
    # the gd app over the same database holds hq's row as a replica would
    r = await clients["gd"].patch(f"{TMF}/productOffering/{o['id']}", json={"name": "x"}, headers=auth("gd"))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "hq"


async def test_provincial_offering_and_availability_decide_what_is_sellable(clients: Clients, auth: Auth) -> None:
    national = await _offering(clients["hq"], auth, "hq", "全国专线 A")
    legacy = await _offering(clients["hq"], auth, "hq", "全国帧中继 B")
    opt_in = await _offering(clients["hq"], auth, "hq", "全国试点 C", availableByDefault=False)
    await _offering(clients["gd"], auth, "gd", "广东专属 D")
    for offering, available in ((legacy, False), (opt_in, True)):
        await _post(
            clients["gd"],
            auth,
            "gd",
            "/api/v1/sales/offeringAvailability",
            {"name": f"广东 {offering['name']}", "productOffering": {"id": offering["id"]}, "isAvailable": available},
        )
    gz = await _sellable(clients["gd-gz"], auth, "gd-gz")
    nj = await _sellable(clients["js-nj"], auth, "js-nj")
    assert {"全国专线 A", "全国试点 C", "广东专属 D"} <= gz and "全国帧中继 B" not in gz
    assert "全国专线 A" in nj and "全国帧中继 B" in nj
    assert not {"全国试点 C", "广东专属 D"} & nj
    # js-nj does not see gd's offering at all
    r = await clients["js-nj"].get(f"{TMF}/productOffering", params={"name": "广东专属 D"}, headers=auth("js-nj"))
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
    # a province cannot set availability of its own offering
    r = await clients["hq"].post(
        "/api/v1/sales/offeringAvailability",
        json={"name": "x", "validFor": START, "productOffering": {"id": national["id"]}, "isAvailable": False},
        headers=auth("hq"),
    )
    assert r.status_code == 422 and "productOffering.id" in r.json()["message"]


async def test_list_conventions_fields_sort_and_bad_filter(clients: Clients, auth: Auth) -> None:
    for n in ("a", "b"):
        await _post(clients["hq"], auth, "hq", f"{TMF}/category", {"name": f"排序 {n}", "lifecycleStatus": "active"})
    r = await clients["hq"].get(
        f"{TMF}/category", params={"name": "排序 a,排序 b", "sort": "-name", "fields": "name"}, headers=auth("hq")
    )
    assert r.status_code == 200 and [x["name"] for x in r.json()] == ["排序 b", "排序 a"]
    assert set(r.json()[0]) == {"id", "href", "@type", "name"}
    r = await clients["hq"].get(f"{TMF}/category", params={"colour": "red"}, headers=auth("hq"))
    assert r.status_code == 400 and r.json()["@type"] == "Error"


async def test_reading_needs_the_permission(clients: Clients, auth: Auth) -> None:
    r = await clients["hq"].get(f"{TMF}/productOffering", headers=auth("hq", perms=[]))
    assert r.status_code == 403
