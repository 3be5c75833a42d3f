"""F1 merge (客户合并) within one node: the survivor takes the chosen values and every record of its
victims; a victim's GET answers 308 to the survivor; audited; reversible within the window; refused
without customer:merge and for customers this node does not own."""

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .conftest import ALL_CUSTOMER_PERMS, valid_credit_code

URL = "/tmf-api/customerManagement/v4/customer"
CONTACTS = "/tmf-api/party/v4/individual"
MERGES = "/api/v1/customer/merges"
API = "/api/v1/customer/customers"
MERGE_PERMS = [*ALL_CUSTOMER_PERMS, "customer:merge"]


async def _customer(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> str:
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _contact(client: httpx.AsyncClient, auth: Any, customer_id: str, given: str) -> str:
    r = await client.post(
        CONTACTS,
        json={
            "givenName": given,
            "familyName": "李",
            "decisionRole": "DECISION_MAKER",
            "customer": {"id": customer_id},
        },
        headers=auth(),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _victim_with_records(client: httpx.AsyncClient, auth: Any, customer_body: Any) -> dict[str, str]:
    code = valid_credit_code("91440101MA5MERGE1")
    survivor = await _customer(client, auth, customer_body(name="合并存续客户", customerType="GROUP_CUSTOMER"))
    victim = await _customer(
        client,
        auth,
        customer_body(
            name="合并被并客户有限公司", customerType="GROUP_CUSTOMER", creditCode=code, address="广州市越秀区1号"
        ),
    )
    branch = await _customer(client, auth, customer_body(name="被并客户分支", parentCustomer={"id": victim}))
    boss, aide = await _contact(client, auth, victim, "总"), await _contact(client, auth, victim, "助理")
    rel = await client.post(
        f"{API}/{victim}/decision-map/relations",
        json={"fromContactId": aide, "toContactId": boss, "relationType": "REPORTS_TO"},
        headers=auth(),
    )
    assert rel.status_code == 201, rel.text
    comp = await client.post(
        f"{API}/{victim}/competitors",
        json={"competitor": "中国移动", "productsHeld": ["专线"], "observedOn": "2026-11-20"},
        headers=auth(),
    )
    assert comp.status_code == 201, comp.text
    needs = await client.patch(f"{API}/{victim}/needs", json={"latentNeeds": "云专线"}, headers=auth())
    assert needs.status_code == 200, needs.text
    return {"survivor": survivor, "victim": victim, "branch": branch, "boss": boss, "aide": aide}


async def test_merge_moves_every_record_and_the_victim_redirects(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    ids = await _victim_with_records(client, auth, customer_body)
    survivor, victim = ids["survivor"], ids["victim"]
    # the group's designation of the victim (hq's record, not rewritten here) shows at the survivor
    await rollback_conn.execute(
        text(
            "INSERT INTO customer.designation (id, owner_node, version, customer_id, customer_code, customer_name,"
            " customer_owner_node, grade, status, designated_by) VALUES (gen_random_uuid(), 'hq', 1, :c, 'X',"
            " '被并', 'gd-gz', 'A', 'ACTIVE', 'hq_admin')"
        ),
        {"c": victim},
    )
    r = await client.post(
        MERGES,
        json={"survivorId": survivor, "victimIds": [victim], "choices": {"name": victim}, "reason": "同一客户"},
        headers=auth(perms=MERGE_PERMS),
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert r.headers["location"] == m["href"] and m["status"] == "MERGED"
    # the chosen name, and the attributes the survivor lacked (credit code, address) from the victim
    assert m["choices"]["name"] == victim and m["choices"]["creditCode"] == victim
    assert m["moved"] == {
        "contact": 2,
        "competitor_presence": 1,
        "contact_relation": 1,
        "needs_profile": 1,
        "children": 1,
    }

    gone = await client.get(f"{URL}/{victim}", params={"fields": "name"}, headers=auth(), follow_redirects=False)
    assert gone.status_code == 308
    assert gone.headers["location"].endswith(f"{URL}/{survivor}?fields=name")
    s = (await client.get(f"{URL}/{survivor}", headers=auth())).json()
    assert s["name"] == "合并被并客户有限公司" and s["address"] == "广州市越秀区1号" and s["version"] == 2
    assert s["nationalKeyAccount"]["grade"] == "A"

    graph = (await client.get(f"{API}/{survivor}/decision-map", headers=auth())).json()
    assert {c["id"] for c in graph["contacts"]} == {ids["boss"], ids["aide"]}
    assert [(e["fromContactId"], e["toContactId"]) for e in graph["relations"]] == [(ids["aide"], ids["boss"])]
    comps = (await client.get(f"{API}/{survivor}/competitors", headers=auth())).json()
    assert [c["competitor"] for c in comps] == ["中国移动"]
    assert (await client.get(f"{API}/{survivor}/needs", headers=auth())).json()["latentNeeds"] == "云专线"
    tree = (await client.get(f"{API}/{ids['branch']}/hierarchy", headers=auth())).json()
    assert tree["ancestors"][0]["id"] == survivor

    # audited, and the survivor's history holds the victim's
    history = (await client.get(f"{API}/{survivor}/history", headers=auth())).json()
    assert {(h["entityId"], h["action"]) for h in history} >= {
        (survivor, "merge"),
        (victim, "merge"),
        (victim, "create"),
    }
    listed = await client.get(MERGES, params={"survivorId": survivor}, headers=auth())
    assert [x["id"] for x in listed.json()] == [m["id"]] and listed.headers["x-total-count"] == "1"


async def test_merge_is_reversed_within_the_window_and_not_twice(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    ids = await _victim_with_records(client, auth, customer_body)
    survivor, victim = ids["survivor"], ids["victim"]
    merged = await client.post(
        MERGES, json={"survivorId": survivor, "victimIds": [victim]}, headers=auth(perms=MERGE_PERMS)
    )
    mid = merged.json()["id"]
    # an edit after the merge is kept by the reversal; the merged attributes go back
    edited = await client.patch(f"{URL}/{survivor}", json={"description": "合并后补充"}, headers=auth())
    assert edited.status_code == 200, edited.text
    no_perm = await client.post(f"{MERGES}/{mid}/reverse", json={}, headers=auth())
    assert no_perm.status_code == 403
    back = await client.post(f"{MERGES}/{mid}/reverse", json={"reason": "误合并"}, headers=auth(perms=MERGE_PERMS))
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "REVERSED"
    v = await client.get(f"{URL}/{victim}", headers=auth())
    assert v.status_code == 200 and v.json()["name"] == "合并被并客户有限公司"
    s = (await client.get(f"{URL}/{survivor}", headers=auth())).json()
    assert s["description"] == "合并后补充" and s.get("creditCode") is None and s.get("address") is None
    graph = (await client.get(f"{API}/{victim}/decision-map", headers=auth())).json()
    assert {c["id"] for c in graph["contacts"]} == {ids["boss"], ids["aide"]} and len(graph["relations"]) == 1
    assert (await client.get(f"{API}/{survivor}/competitors", headers=auth())).json() == []
    tree = (await client.get(f"{API}/{ids['branch']}/hierarchy", headers=auth())).json()
    assert tree["ancestors"][0]["id"] == victim

    twice = await client.post(f"{MERGES}/{mid}/reverse", json={}, headers=auth(perms=MERGE_PERMS))
    assert twice.status_code == 409 and twice.json()["code"] == "INVALID_TRANSITION"

    again = await client.post(
        MERGES, json={"survivorId": survivor, "victimIds": [victim]}, headers=auth(perms=MERGE_PERMS)
    )
    await rollback_conn.execute(
        text("UPDATE customer.customer_merge SET reversible_until = now() - interval '1 day' WHERE id = :id"),
        {"id": again.json()["id"]},
    )
    late = await client.post(f"{MERGES}/{again.json()['id']}/reverse", json={}, headers=auth(perms=MERGE_PERMS))
    assert late.status_code == 409 and "reversibleUntil" in late.json()["details"]


async def test_merge_refused_without_permission_or_ownership_and_for_bad_input(
    client, auth, customer_body, insert_customer
) -> None:
    a = await _customer(client, auth, customer_body(name="合并校验甲"))
    b = await _customer(client, auth, customer_body(name="合并校验乙"))
    refused = await client.post(MERGES, json={"survivorId": a, "victimIds": [b]}, headers=auth())
    assert refused.status_code == 403
    hq = {"perms": MERGE_PERMS, "scope": "hq"}
    for body, field in (
        ({"survivorId": a, "victimIds": [a]}, "victimIds"),
        ({"survivorId": a, "victimIds": [b, b]}, "victimIds"),
        ({"survivorId": a, "victimIds": ["x"]}, "victimIds"),
        ({"survivorId": a, "victimIds": [b], "choices": {"customerCode": b}}, "choices.customerCode"),
        # an id of neither customer (a's with its last digit changed: a uuid7 ends in "0" one time in 16)
        (
            {"survivorId": a, "victimIds": [b], "choices": {"name": a[:-1] + ("1" if a[-1] == "0" else "0")}},
            "choices.name",
        ),
    ):
        bad = await client.post(MERGES, json=body, headers=auth(perms=MERGE_PERMS))
        assert bad.status_code == 422 and bad.json()["details"]["field"] == field, (body, bad.text)
    assert (await client.post(MERGES, json={"survivorId": a}, headers=auth(perms=MERGE_PERMS))).status_code == 422
    # customers this node holds but does not own: a replica's records are merged at their owner
    x = await insert_customer("gd-sz", "深圳副本甲")
    y = await insert_customer("gd-sz", "深圳副本乙")
    not_owner = await client.post(MERGES, json={"survivorId": x, "victimIds": [y]}, headers=auth("hq", **hq))
    assert not_owner.status_code == 409 and not_owner.json()["code"] == "NOT_OWNER"
    mixed = await client.post(MERGES, json={"survivorId": a, "victimIds": [x]}, headers=auth("hq", **hq))
    assert mixed.status_code == 409 and mixed.json()["details"]["ownerNodes"] == {a: "gd-gz", x: "gd-sz"}
    unseen = await client.post(MERGES, json={"survivorId": a, "victimIds": [x]}, headers=auth(perms=MERGE_PERMS))
    assert unseen.status_code == 404  # gd-gz's user does not see gd-sz's customer
