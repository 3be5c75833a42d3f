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


async def test_create_warning_counts_what_the_duplicates_link_lists_up_to_the_cap(client, auth, customer_body) -> None:
    # the header is counted in one query (not read back); it must agree with GET …/duplicates,
    # including the cap of the listing (duplicates.repository.MAX_CANDIDATES)
    from kam_customer.duplicates.repository import MAX_CANDIDATES

    name = "广州重名计数科技有限公司"
    for _ in range(2):
        await _create(client, auth, customer_body(name=name))
    third = await _create(client, auth, customer_body(name=name))
    assert third.headers["x-duplicate-candidates"] == "2"
    found = await client.get(f"/api/v1/customer/customers/{third.json()['id']}/duplicates", headers=auth())
    assert len(found.json()) == 2
    for _ in range(MAX_CANDIDATES - 2):
        await _create(client, auth, customer_body(name=name))
    last = await _create(client, auth, customer_body(name=name))  # MAX_CANDIDATES + 1 others exist now
    assert last.headers["x-duplicate-candidates"] == str(MAX_CANDIDATES)
    found = await client.get(f"/api/v1/customer/customers/{last.json()['id']}/duplicates", headers=auth())
    assert len(found.json()) == MAX_CANDIDATES


async def test_create_warning_counts_only_what_the_callers_portfolio_shows(
    client, auth, customer_body, signing_key
) -> None:
    import time

    from kam_platform.auth import sign_token
    from kam_platform.testing.plugin import TOKEN_KID, bearer

    def own(user: str) -> dict[str, str]:
        now = int(time.time())
        claims = {
            "sub": user,
            "node": "gd-gz",
            "scope_node": "gd-gz",
            "scope_level": "own",
            "roles": ["account_manager"],
            "perms": ["customer:read", "customer:create"],
            "iat": now,
            "exp": now + 3600,
            "aud": "kam",
            "iss": "kam:gd-gz",
            "jti": f"{user}-{now}-own",
        }
        return bearer(sign_token(signing_key, TOKEN_KID, claims))

    name = "广州组合重名数据有限公司"
    am02 = [{"id": "am02", "name": "李娜", "role": "accountManager"}]
    am01 = [{"id": "am01", "name": "张伟", "role": "accountManager"}]
    await _create(client, auth, customer_body(name=name, relatedParty=am02))  # outside am01's portfolio
    await _create(client, auth, customer_body(name=name, relatedParty=am01))
    r = await client.post(URL, json=customer_body(name=name, relatedParty=am01), headers=own("am01"))
    assert r.status_code == 201, r.text
    assert r.headers["x-duplicate-candidates"] == "1"  # am01's own one, not am02's
    found = await client.get(f"/api/v1/customer/customers/{r.json()['id']}/duplicates", headers=own("am01"))
    assert len(found.json()) == 1
    # created for another manager: the new record lies outside the caller's portfolio, nothing to compare
    r = await client.post(URL, json=customer_body(name=name, relatedParty=am02), headers=own("am01"))
    assert r.status_code == 201, r.text
    assert "x-duplicate-candidates" not in r.headers and "link" not in r.headers
    # the same look-up for another portfolio (the statements are kept per scope: never shared across)
    r = await client.post(URL, json=customer_body(name=name, relatedParty=am02), headers=own("am02"))
    assert r.headers["x-duplicate-candidates"] == "2"  # am02's two, not am01's
    r = await client.post(URL, json=customer_body(name=name, relatedParty=am01), headers=auth())
    assert r.headers["x-duplicate-candidates"] == "5"  # the node's scope: every one
