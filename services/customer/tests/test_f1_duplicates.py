"""F1 duplicate detection: candidates by credit code, normalised name, address and phone, with a score
and the reasons; a warning on create; the scan over the scope and its review queue."""

from typing import Any

import httpx

from kam_customer.duplicates import rules

from .conftest import ALL_CUSTOMER_PERMS, valid_credit_code

URL = "/tmf-api/customerManagement/v4/customer"
MERGE_PERMS = [*ALL_CUSTOMER_PERMS, "customer:merge"]


async def _create(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> httpx.Response:
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == 201, r.text
    return r


def test_scores_combine_independent_signals() -> None:
    assert rules.score(["creditCode"]) == 90 and rules.score(["name"]) == 70
    assert rules.score(["creditCode", "name"]) == 97
    assert rules.score(["phone", "address"]) == 58
    assert [r["signal"] for r in rules.reasons(["address", "creditCode"])] == ["creditCode", "address"]


async def test_create_warns_of_a_duplicate_by_normalised_name_without_refusing(client, auth, customer_body) -> None:
    first = await _create(client, auth, customer_body(name="广州ＡＢＣ数据科技有限公司"))
    assert "x-duplicate-candidates" not in first.headers
    second = await _create(client, auth, customer_body(name="广州（ABC）数据科技分公司"))
    assert second.headers["x-duplicate-candidates"] == "1"
    assert 'rel="duplicates"' in second.headers["link"]
    found = await client.get(f"/api/v1/customer/customers/{second.json()['id']}/duplicates", headers=auth())
    assert [c["customerId"] for c in found.json()] == [first.json()["id"]]
    assert found.json()[0]["score"] == 70 and found.json()[0]["reasons"][0]["signal"] == "name"


async def test_check_finds_by_credit_code_and_address_with_scores(client, auth, customer_body) -> None:
    code = valid_credit_code("91440101MA5DUPL0X")
    a = await _create(
        client, auth, customer_body(name="信用代码甲", creditCode=code, address="广州市天河区体育西路１号")
    )
    r = await client.post(
        "/api/v1/customer/duplicates/check",
        json={"name": "完全不同的名字", "creditCode": code.lower(), "address": "广州市天河区 体育西路1号"},
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    (hit,) = [c for c in r.json() if c["customerId"] == a.json()["id"]]
    assert hit["score"] == 93 and {x["signal"] for x in hit["reasons"]} == {"creditCode", "address"}
    bad = await client.post("/api/v1/customer/duplicates/check", json={"name": "x", "fax": "1"}, headers=auth())
    assert bad.status_code == 422 and "fax" in bad.text


async def test_scan_queues_pairs_within_scope_and_review_dismisses(
    client, auth, customer_body, insert_customer
) -> None:
    code = valid_credit_code("91440101MA5CAN10X")
    a = await insert_customer("gd-gz", "扫描重复甲", credit_code=code)
    b = await insert_customer("gd-sz", "扫描重复乙", credit_code=code)
    refused = await client.post("/api/v1/customer/duplicates/scan", headers=auth())
    assert refused.status_code == 403  # needs customer:merge
    local = await client.post("/api/v1/customer/duplicates/scan", headers=auth(perms=MERGE_PERMS))
    assert local.status_code == 200
    q = await client.get("/api/v1/customer/duplicates", headers=auth())
    assert not [p for p in q.json() if {p["customerA"], p["customerB"]} == {a, b}]  # gd-gz cannot see gd-sz's
    prov = await client.post("/api/v1/customer/duplicates/scan", headers=auth("gd", scope="gd", perms=MERGE_PERMS))
    assert prov.json()["bySignal"]["creditCode"] >= 1
    q = await client.get("/api/v1/customer/duplicates", params={"status": "OPEN"}, headers=auth("gd", scope="gd"))
    (pair,) = [p for p in q.json() if {p["customerA"], p["customerB"]} == {a, b}]
    assert pair["score"] == 90 and pair["ownerA"] != pair["ownerB"]
    assert q.headers["x-total-count"] == str(len(q.json()))
    dismissed = await client.patch(
        f"/api/v1/customer/duplicates/{pair['id']}",
        json={"status": "DISMISSED"},
        headers=auth("gd", scope="gd", perms=MERGE_PERMS),
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "DISMISSED"
    await client.post("/api/v1/customer/duplicates/scan", headers=auth("gd", scope="gd", perms=MERGE_PERMS))
    again = await client.get("/api/v1/customer/duplicates", params={"status": "OPEN"}, headers=auth("gd", scope="gd"))
    assert not [p for p in again.json() if p["id"] == pair["id"]]  # a reviewed pair keeps its verdict
    bad = await client.get("/api/v1/customer/duplicates", params={"status": "MAYBE"}, headers=auth())
    assert bad.status_code in (400, 422)
