"""TMF629/TMF630 behaviour of the customer API on its owner node."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .conftest import valid_credit_code, wrong_check_char

URL = "/tmf-api/customerManagement/v4/customer"


async def create(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_post_returns_201_with_location_and_tmf_attributes(client, auth, customer_body) -> None:
    code = valid_credit_code()
    r = await client.post(URL, json=customer_body(creditCode=code), headers=auth())
    assert r.status_code == 201
    body = r.json()
    assert r.headers["location"] == body["href"] == f"http://gd-gz.kam.test{URL}/{body['id']}"
    assert body["@type"] == "KeyAccountCustomer" and body["@baseType"] == "Customer" and body["@schemaLocation"]
    assert body["ownerNode"] == "gd-gz" and body["version"] == 1
    assert body["status"] == "PROSPECT" and body["recognitionStatus"] == "CANDIDATE"
    assert body["customerCode"].startswith("KAGDGZ")
    assert body["engagedParty"]["@referredType"] == "Organization"
    org = await client.get(body["engagedParty"]["href"].replace("http://gd-gz.kam.test", ""), headers=auth())
    assert org.status_code == 200
    assert org.json()["organizationIdentification"][0]["identificationId"] == code


async def test_list_is_json_array_with_total_and_result_count(client, auth, customer_body) -> None:
    for i in range(3):
        await create(client, auth, customer_body(name=f"广州测试客户{i}"))
    r = await client.get(URL, params={"limit": 2, "q": "广州测试客户"}, headers=auth())
    assert r.status_code == 200
    assert isinstance(r.json(), list) and len(r.json()) == 2
    assert r.headers["x-total-count"] == "3" and r.headers["x-result-count"] == "2"
    r2 = await client.get(URL, params={"limit": 2, "offset": 2, "q": "广州测试客户"}, headers=auth())
    assert len(r2.json()) == 1 and r2.headers["x-total-count"] == "3"


async def test_fields_keeps_id_href_and_type(client, auth, customer_body) -> None:
    c = await create(client, auth, customer_body())
    r = await client.get(URL, params={"fields": "name", "id": c["id"]}, headers=auth())
    assert r.json() == [{"id": c["id"], "href": c["href"], "@type": "KeyAccountCustomer", "name": c["name"]}]
    one = await client.get(f"{URL}/{c['id']}", params={"fields": "grade"}, headers=auth())
    assert set(one.json()) == {"id", "href", "@type", "grade"}


async def test_filters_comma_or_and_comparison_and_sort(client, auth, customer_body) -> None:
    a = await create(client, auth, customer_body(name="过滤甲", grade="A", industry="EDUCATION"))
    b = await create(client, auth, customer_body(name="过滤乙", grade="B", industry="EDUCATION"))
    await create(client, auth, customer_body(name="过滤丙", grade="C", industry="EDUCATION"))
    r = await client.get(URL, params={"industry": "EDUCATION", "grade": "A,B", "sort": "-name"}, headers=auth())
    assert [x["id"] for x in r.json()] == sorted(
        [a["id"], b["id"]], key=lambda i: {a["id"]: "过滤甲", b["id"]: "过滤乙"}[i], reverse=True
    )
    r = await client.get(
        URL, params={"industry": "EDUCATION", "createdAt.gte": a["createdAt"], "sort": "createdAt"}, headers=auth()
    )
    assert len(r.json()) == 3
    r = await client.get(URL, params={"industry": "EDUCATION", "version.gt": "1"}, headers=auth())
    assert r.json() == []


async def test_chinese_substring_search_finds_bank_branch(client, auth, customer_body) -> None:
    await create(client, auth, customer_body(name="中国工商银行广州分行"))
    await create(client, auth, customer_body(name="广州市第一人民医院", industry="HEALTH"))
    r = await client.get(URL, params={"q": "银行"}, headers=auth())
    assert [x["name"] for x in r.json()] == ["中国工商银行广州分行"]
    r = await client.get(URL, params={"q": "人民医院", "industry": "HEALTH"}, headers=auth())
    assert [x["name"] for x in r.json()] == ["广州市第一人民医院"]


async def test_name_search_is_an_exact_substring_match_for_any_term_length(client, auth, customer_body) -> None:
    await create(client, auth, customer_body(name="招商银行深圳分行"))
    await create(client, auth, customer_body(name="深圳100%_数据中心"))
    await create(client, auth, customer_body(name="行行行"))

    async def names(q: str) -> list[str]:
        r = await client.get(URL, params={"q": q, "sort": "name"}, headers=auth())
        assert r.headers["X-Total-Count"] == str(len(r.json()))
        return sorted(x["name"] for x in r.json())

    assert await names("招") == ["招商银行深圳分行"]  # one character: no bigram, plain LIKE
    assert await names("行行") == ["行行行"]
    assert await names("行深圳分") == ["招商银行深圳分行"]  # every bigram present and in this order
    assert await names("分银") == []  # both characters present, not adjacent
    assert await names("0%_") == ["深圳100%_数据中心"]  # LIKE wildcards are literal
    assert await names("100%") == ["深圳100%_数据中心"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": "abc"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "5000"}, "limit"),
        ({"fields": "name,nope"}, "nope"),
        ({"colour": "red"}, "colour"),
        ({"grade": "Z"}, "grade"),
        ({"sort": "nope"}, "nope"),
        ({"createdAt.gt": "yesterday"}, "createdAt"),
    ],
)
async def test_bad_list_parameters_are_400_naming_the_parameter(client, auth, params, needle) -> None:
    r = await client.get(URL, params=params, headers=auth())
    assert r.status_code == 400
    body = r.json()
    assert body["@type"] == "Error" and body["status"] == "400" and needle in body["message"]


async def test_unknown_id_is_404_envelope(client, auth) -> None:
    for cid in ("01890000-0000-7000-8000-000000000000", "not-a-uuid"):
        r = await client.get(f"{URL}/{cid}", headers=auth())
        assert r.status_code == 404
        assert r.json()["code"] == "NOT_FOUND" and r.json()["@type"] == "Error"


async def test_merge_patch_with_either_content_type(client, auth, customer_body) -> None:
    c = await create(client, auth, customer_body())
    r = await client.patch(
        f"{URL}/{c['id']}",
        content=b'{"grade":"B","address":null}',
        headers={**auth(), "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["grade"] == "B" and r.json()["version"] == 2
    r = await client.patch(f"{URL}/{c['id']}", json={"shortName": "工行广分"}, headers=auth())
    assert r.status_code == 200 and r.json()["shortName"] == "工行广分" and r.json()["version"] == 3
    r = await client.patch(
        f"{URL}/{c['id']}", content=b"[]", headers={**auth(), "Content-Type": "application/json-patch+json"}
    )
    assert r.status_code == 415


async def test_delete_is_204_then_404(client, auth, customer_body) -> None:
    c = await create(client, auth, customer_body())
    assert (await client.delete(f"{URL}/{c['id']}", headers=auth())).status_code == 204
    assert (await client.get(f"{URL}/{c['id']}", headers=auth())).status_code == 404
    assert (await client.delete(f"{URL}/{c['id']}", headers=auth())).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"industry": "FINANCE"}, 422, "name"),
        ({"name": "x", "industry": "SPACE"}, 422, "industry"),
        ({"name": "x", "industry": "FINANCE", "grade": 5}, 422, "grade"),
        ({"name": "x" * 201, "industry": "FINANCE"}, 422, "name"),
        (
            {
                "name": "x",
                "industry": "FINANCE",
                "creditCode": wrong_check_char(valid_credit_code()),
            },
            422,
            "check digit",
        ),
        ({"name": "x", "industry": "FINANCE", "creditCode": "123"}, 422, "18 characters"),
        ({"name": "x", "industry": "FINANCE", "colour": "red"}, 422, "colour"),
        ({"name": "x", "industry": "FINANCE", "customerCode": "bad code!"}, 422, "customerCode"),
        ({"name": "x", "industry": "FINANCE", "@type": "Pizza"}, 422, "@type"),
    ],
)
async def test_invalid_create_is_refused_naming_the_field(client, auth, rollback_conn, body, status, needle) -> None:
    before = (await rollback_conn.execute(text("SELECT count(*) FROM customer.customer"))).scalar()
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == status, r.text
    err = r.json()
    assert err["@type"] == "Error" and err["status"] == str(status) and needle in err["message"]
    after = (await rollback_conn.execute(text("SELECT count(*) FROM customer.customer"))).scalar()
    assert before == after


async def test_malformed_json_and_non_object_are_400(client, auth) -> None:
    r = await client.post(URL, content=b'{"name": ', headers={**auth(), "Content-Type": "application/json"})
    assert r.status_code == 400 and "Malformed JSON" in r.json()["message"]
    r = await client.post(URL, content=b"[1,2]", headers={**auth(), "Content-Type": "application/json"})
    assert r.status_code == 400


async def test_oversized_body_is_413(client, auth) -> None:
    r = await client.post(
        URL, content=b'{"name":"' + b"x" * (2 << 20) + b'"}', headers={**auth(), "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_duplicate_customer_code_is_409(client, auth, customer_body) -> None:
    await create(client, auth, customer_body(customerCode="KAGDGZ-DUP-0001"))
    r = await client.post(URL, json=customer_body(customerCode="KAGDGZ-DUP-0001"), headers=auth())
    assert r.status_code == 409 and "KAGDGZ-DUP-0001" in r.json()["message"]


async def test_customer_code_cannot_change_and_mandatory_cannot_be_nulled(client, auth, customer_body) -> None:
    c = await create(client, auth, customer_body())
    r = await client.patch(f"{URL}/{c['id']}", json={"customerCode": "OTHER-1"}, headers=auth())
    assert r.status_code == 422 and "customerCode" in r.json()["message"]
    r = await client.patch(f"{URL}/{c['id']}", json={"industry": None}, headers=auth())
    assert r.status_code == 422 and "industry" in r.json()["message"]


async def test_account_manager_assignment_keeps_history(client, auth, customer_body) -> None:
    c = await create(
        client, auth, customer_body(relatedParty=[{"id": "am01", "name": "张伟", "role": "accountManager"}])
    )
    assert c["relatedParty"][0]["id"] == "am01"
    r = await client.patch(
        f"{URL}/{c['id']}",
        json={"relatedParty": [{"id": "am02", "name": "王芳", "role": "accountManager"}]},
        headers=auth(),
    )
    assert r.json()["relatedParty"][0]["id"] == "am02"
    r = await client.put(
        f"/api/v1/customer/customers/{c['id']}/account-manager",
        json={"accountManager": "am03", "accountManagerName": "李娜", "reason": "调整分工"},
        headers=auth(),
    )
    assert r.status_code == 200
    hist = (await client.get(f"/api/v1/customer/customers/{c['id']}/account-managers", headers=auth())).json()
    assert [h["accountManager"] for h in hist] == ["am03", "am02", "am01"]
    assert hist[0]["previousAccountManager"] == "am02" and hist[0]["validFor"]["endDateTime"] is None
    assert all(h["validFor"]["endDateTime"] for h in hist[1:])
    by_manager = await client.get(URL, params={"relatedParty.id": "am03"}, headers=auth())
    assert [x["id"] for x in by_manager.json()] == [c["id"]]


async def test_related_party_in_another_role_is_kept_as_given(client, auth, customer_body) -> None:
    # TMF629 allows any role (issue 10): only accountManager is KAM's own attribute, the others are kept
    r = await client.post(URL, json=customer_body(relatedParty=[{"id": "x", "role": "owner"}]), headers=auth())
    assert r.status_code == 201, r.text
    assert r.json()["relatedParty"] == [{"id": "x", "href": None, "name": None, "role": "owner", "@referredType": None}]
    two = [{"id": "a", "role": "accountManager"}, {"id": "b", "role": "accountManager"}]
    r = await client.post(URL, json=customer_body(relatedParty=two), headers=auth())
    assert r.status_code == 422 and "accountManager" in r.json()["message"]


async def test_audit_history_records_who_what_old_and_new(client, auth, customer_body) -> None:
    c = await create(client, auth, customer_body(grade="C"))
    await client.patch(f"{URL}/{c['id']}", json={"grade": "A"}, headers=auth(user="am07"))
    r = await client.get(f"/api/v1/customer/customers/{c['id']}/history", headers=auth())
    assert r.status_code == 200 and r.headers["x-total-count"] == "2"
    latest = r.json()[0]
    assert latest["action"] == "update" and latest["actor"] == "am07"
    assert latest["changes"] == {"grade": ["C", "A"]}
    assert r.json()[1]["action"] == "create"


async def test_audit_rows_cannot_be_updated_through_the_api(client, auth, customer_body) -> None:
    c = await create(client, auth, customer_body())
    r = await client.patch(f"/api/v1/customer/customers/{c['id']}/history", json={}, headers=auth())
    assert r.status_code == 405


async def test_each_change_writes_one_outbox_event_in_the_same_transaction(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    from kam_contracts import customer_pb2, envelope_pb2

    c = await create(client, auth, customer_body())
    await client.patch(f"{URL}/{c['id']}", json={"grade": "B"}, headers=auth())
    rows = (
        await rollback_conn.execute(
            text(
                "SELECT subject, event_type, version, payload FROM customer.outbox WHERE aggregate_id = :id ORDER BY created_at"
            ),
            {"id": c["id"]},
        )
    ).all()
    assert [(r.event_type, r.version) for r in rows] == [("kam.v1.CustomerCreated", 1), ("kam.v1.CustomerUpdated", 2)]
    assert rows[0].subject == f"up.gd-gz.customer.customer.{c['id']}"
    env = envelope_pb2.Envelope.FromString(rows[1].payload)
    assert env.origin_node == "gd-gz" and env.version == 2 and env.actor == "am01"
    msg = customer_pb2.CustomerUpdated.FromString(env.payload)
    assert msg.customer.grade == "B" and list(msg.changed_fields) == ["grade"]


async def test_failed_write_leaves_no_event_and_no_audit(client, auth, customer_body, rollback_conn) -> None:
    c = await create(client, auth, customer_body(grade="B"))

    async def count(table: str, column: str) -> int:
        q = text(f"SELECT count(*) FROM customer.{table} WHERE {column} = :id")
        return int((await rollback_conn.execute(q, {"id": c["id"]})).scalar() or 0)

    events, audits = await count("outbox", "aggregate_id"), await count("audit", "entity_id::text")
    assert events >= 1 and audits >= 1  # the create wrote both: the counts below can tell a change
    # a legal grade change together with an illegal status transition: the whole write is refused
    r = await client.patch(f"{URL}/{c['id']}", json={"status": "SUSPENDED", "grade": "A"}, headers=auth())
    assert r.status_code == 409
    assert await count("outbox", "aggregate_id") == events
    assert await count("audit", "entity_id::text") == audits
    got = (await client.get(f"{URL}/{c['id']}", headers=auth())).json()
    assert got["grade"] == "B" and got["version"] == 1
