"""F1 competitor presence (竞争信息): per customer and across customers, with history, at the owner."""

from typing import Any

import httpx

URL = "/tmf-api/customerManagement/v4/customer"


async def _customer(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> str:
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_competitor_presence_lists_per_customer_and_across_with_history(client, auth, customer_body) -> None:
    a = await _customer(client, auth, customer_body(name="竞争甲客户"))
    b = await _customer(client, auth, customer_body(name="竞争乙客户"))
    made = await client.post(
        f"/api/v1/customer/customers/{a}/competitors",
        json={
            "competitor": "中国移动",
            "productsHeld": ["专线", "IDC"],
            "offers": "专线八折",
            "contractEnd": "2027-03-31",
            "source": "客户访谈",
            "observedOn": "2026-11-20",
        },
        headers=auth(),
    )
    assert made.status_code == 201, made.text
    assert made.headers["location"] == made.json()["href"]
    await client.post(
        f"/api/v1/customer/customers/{b}/competitors",
        json={"competitor": "中国联通", "productsHeld": ["云"], "contractEnd": "2028-01-01"},
        headers=auth(),
    )
    per = await client.get(f"/api/v1/customer/customers/{a}/competitors", headers=auth())
    assert [p["competitor"] for p in per.json()] == ["中国移动"] and per.headers["x-total-count"] == "1"
    soon = await client.get(
        "/api/v1/customer/competitors", params={"contractEnd.lte": "2027-12-31", "q": "竞争"}, headers=auth()
    )
    assert soon.status_code == 200
    across = await client.get("/api/v1/customer/competitors", params={"productsHeld": "云,IDC"}, headers=auth())
    assert {p["competitor"] for p in across.json()} >= {"中国移动", "中国联通"}
    pid = made.json()["id"]
    patched = await client.patch(f"/api/v1/customer/competitors/{pid}", json={"offers": "专线七折"}, headers=auth())
    assert patched.status_code == 200 and patched.json()["version"] == 2
    h = await client.get(f"/api/v1/customer/competitors/{pid}/history", headers=auth())
    assert [x["action"] for x in h.json()] == ["update", "create"]
    assert h.json()[0]["changes"] == {"offers": ["专线八折", "专线七折"]}
    gone = await client.delete(f"/api/v1/customer/competitors/{pid}", headers=auth())
    assert gone.status_code == 204
    assert (await client.get(f"/api/v1/customer/competitors/{pid}", headers=auth())).status_code == 404


async def test_competitor_presence_bad_input_is_422_naming_the_field(client, auth, customer_body) -> None:
    a = await _customer(client, auth, customer_body())
    path = f"/api/v1/customer/customers/{a}/competitors"
    missing = await client.post(path, json={"offers": "x"}, headers=auth())
    assert missing.status_code == 422 and "competitor" in missing.json()["details"]["field"]
    bad_date = await client.post(path, json={"competitor": "x", "contractEnd": "soon"}, headers=auth())
    assert bad_date.status_code == 422 and "contractEnd" in bad_date.json()["details"]["field"]
    made = await client.post(path, json={"competitor": "中国广电"}, headers=auth())
    clear = await client.patch(
        f"/api/v1/customer/competitors/{made.json()['id']}", json={"competitor": None}, headers=auth()
    )
    assert clear.status_code == 422 and clear.json()["details"]["field"] == "competitor"
    bad_filter = await client.get("/api/v1/customer/competitors", params={"contractEnd.lte": "x"}, headers=auth())
    assert bad_filter.status_code == 400


async def test_competitor_presence_outside_scope_is_invisible(client, auth, customer_body) -> None:
    a = await _customer(client, auth, customer_body())
    await client.post(f"/api/v1/customer/customers/{a}/competitors", json={"competitor": "中国移动"}, headers=auth())
    other = await client.get("/api/v1/customer/competitors", params={"customer.id": a}, headers=auth("gd-sz"))
    assert other.json() == [] and other.headers["x-total-count"] == "0"
    assert (await client.get(f"/api/v1/customer/customers/{a}/competitors", headers=auth("gd-sz"))).status_code == 404
    above = await client.get("/api/v1/customer/competitors", params={"customer.id": a}, headers=auth("gd", scope="gd"))
    assert len(above.json()) == 1
