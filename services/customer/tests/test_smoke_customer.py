from typing import Any

import httpx


async def test_create_then_get_returns_tmf_resource(client: httpx.AsyncClient, auth: Any, customer_body: Any) -> None:
    r = await client.post("/tmf-api/customerManagement/v4/customer", json=customer_body(), headers=auth())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["@type"] == "KeyAccountCustomer"
    assert r.headers["location"] == body["href"]
    assert body["href"].startswith("http://gd-gz.kam.test/tmf-api/customerManagement/v4/customer/")
    g = await client.get(f"/tmf-api/customerManagement/v4/customer/{body['id']}", headers=auth())
    assert g.status_code == 200
    assert g.json()["name"] == "中国工商银行广州分行"
