"""F1 decision map (决策链): relations between a customer's contacts; cycles allowed, self refused."""

from typing import Any

import httpx

URL = "/tmf-api/customerManagement/v4/customer"
CONTACTS = "/tmf-api/party/v4/individual"


async def _setup(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> tuple[str, list[str]]:
    r = await client.post(URL, json=body, headers=auth())
    cid = r.json()["id"]
    ids = []
    for given, role in (("总", "DECISION_MAKER"), ("经理", "INFLUENCER"), ("工", "USER")):
        x = await client.post(
            CONTACTS,
            json={"givenName": given, "familyName": "王", "decisionRole": role, "customer": {"id": cid}},
            headers=auth(),
        )
        assert x.status_code == 201, x.text
        ids.append(x.json()["id"])
    return cid, ids


async def test_decision_map_allows_a_cycle_and_refuses_a_self_relation(client, auth, customer_body) -> None:
    cid, (boss, manager, user) = await _setup(client, auth, customer_body())
    path = f"/api/v1/customer/customers/{cid}/decision-map"
    for src, dst, kind in ((manager, boss, "REPORTS_TO"), (boss, manager, "INFLUENCES"), (user, manager, "ALLY")):
        r = await client.post(
            path + "/relations", json={"fromContactId": src, "toContactId": dst, "relationType": kind}, headers=auth()
        )
        assert r.status_code == 201, r.text
        assert r.headers["location"] == r.json()["href"]
    self_rel = await client.post(
        path + "/relations", json={"fromContactId": boss, "toContactId": boss, "relationType": "ALLY"}, headers=auth()
    )
    assert self_rel.status_code == 422 and self_rel.json()["details"]["field"] == "toContactId"
    twice = await client.post(
        path + "/relations",
        json={"fromContactId": manager, "toContactId": boss, "relationType": "REPORTS_TO"},
        headers=auth(),
    )
    assert twice.status_code == 409
    graph = (await client.get(path, headers=auth())).json()
    assert {c["decisionRole"] for c in graph["contacts"]} == {"DECISION_MAKER", "INFLUENCER", "USER"}
    edges = {(e["fromContactId"], e["toContactId"], e["relationType"]) for e in graph["relations"]}
    assert (manager, boss, "REPORTS_TO") in edges and (boss, manager, "INFLUENCES") in edges  # the cycle
    gone = await client.delete(f"/api/v1/customer/contact-relations/{graph['relations'][0]['id']}", headers=auth())
    assert gone.status_code == 204
    assert len((await client.get(path, headers=auth())).json()["relations"]) == 2


async def test_decision_map_refuses_contacts_of_another_customer(client, auth, customer_body) -> None:
    cid, (boss, _, _) = await _setup(client, auth, customer_body(name="甲"))
    _, (other, _, _) = await _setup(client, auth, customer_body(name="乙"))
    r = await client.post(
        f"/api/v1/customer/customers/{cid}/decision-map/relations",
        json={"fromContactId": boss, "toContactId": other, "relationType": "OPPONENT"},
        headers=auth(),
    )
    assert r.status_code == 422 and r.json()["details"]["field"] == "toContactId"
    bad_type = await client.post(
        f"/api/v1/customer/customers/{cid}/decision-map/relations",
        json={"fromContactId": boss, "toContactId": other, "relationType": "FRIEND"},
        headers=auth(),
    )
    assert bad_type.status_code == 422 and "relationType" in bad_type.json()["details"]["field"]
