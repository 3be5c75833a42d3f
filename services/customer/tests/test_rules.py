"""Key-account rules: status state machines, hierarchy without cycles, credit codes."""

from typing import Any

import pytest

from kam_customer.customer.rules import LIFE_TRANSITIONS, LifeStatus, credit_check_char, credit_code_problem

URL = "/tmf-api/customerManagement/v4/customer"


async def make(client: Any, auth: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_credit_code_check_digit() -> None:
    base = "91350100M000100Y4"
    good = base + credit_check_char(base)
    assert credit_code_problem(good) is None
    wrong = base + ("0" if good[-1] != "0" else "1")
    assert "check digit" in (credit_code_problem(wrong) or "")
    assert "characters" in (credit_code_problem("91350100M000100Y4I") or "")
    # a digit of another script ('٣', ARABIC-INDIC THREE) is a character outside the set, not a crash
    assert "characters" in (credit_code_problem("91٣50100M000100Y4" + good[-1]) or "")


def test_every_status_has_a_defined_transition_set() -> None:
    assert set(LIFE_TRANSITIONS) == set(LifeStatus)
    assert LIFE_TRANSITIONS[LifeStatus.CLOSED] == frozenset()


async def test_legal_lifecycle_path_and_illegal_transition_names_allowed(client, auth, customer_body) -> None:
    c = await make(client, auth, customer_body())
    for status in ("INTENT", "ACTIVE", "AT_RISK", "ACTIVE"):
        r = await client.patch(f"{URL}/{c['id']}", json={"status": status, "statusReason": "拜访跟进"}, headers=auth())
        assert r.status_code == 200 and r.json()["status"] == status
    r = await client.patch(f"{URL}/{c['id']}", json={"status": "PROSPECT"}, headers=auth())
    assert r.status_code == 409
    err = r.json()
    assert err["code"] == "INVALID_TRANSITION"
    assert "ACTIVE" in err["message"] and "PROSPECT" in err["message"]
    assert err["details"]["allowed"] == ["ARREARS", "AT_RISK", "CLOSED", "SUSPENDED"]
    hist = (await client.get(f"/api/v1/customer/customers/{c['id']}/history", headers=auth())).json()
    assert hist[0]["action"] == "status" and hist[0]["changes"]["status"] == ["AT_RISK", "ACTIVE"]


async def test_closed_is_terminal(client, auth, customer_body) -> None:
    c = await make(client, auth, customer_body(status="ACTIVE"))
    assert (await client.patch(f"{URL}/{c['id']}", json={"status": "CLOSED"}, headers=auth())).status_code == 200
    r = await client.patch(f"{URL}/{c['id']}", json={"status": "ACTIVE"}, headers=auth())
    assert r.status_code == 409 and "terminal" in r.json()["message"]


async def test_recognition_status_machine(client, auth, customer_body) -> None:
    c = await make(client, auth, customer_body())
    r = await client.patch(f"{URL}/{c['id']}", json={"recognitionStatus": "DOWNGRADED"}, headers=auth())
    assert r.status_code == 409 and "CONFIRMED" in r.json()["message"]
    r = await client.patch(f"{URL}/{c['id']}", json={"recognitionStatus": "CONFIRMED"}, headers=auth())
    assert r.status_code == 200


async def test_group_hierarchy_and_cycles_are_refused(client, auth, customer_body) -> None:
    hq = await make(client, auth, customer_body(name="中国工商银行", customerType="GROUP_CUSTOMER"))
    region = await make(
        client,
        auth,
        customer_body(name="中国工商银行广东省分行", customerType="GROUP_CUSTOMER", parentCustomer={"id": hq["id"]}),
    )
    branch = await make(client, auth, customer_body(name="中国工商银行广州分行", parentCustomer={"id": region["id"]}))
    h = (await client.get(f"/api/v1/customer/customers/{region['id']}/hierarchy", headers=auth())).json()
    assert [a["id"] for a in h["ancestors"]] == [hq["id"]]
    assert [b["id"] for b in h["branches"]] == [branch["id"]]
    r = await client.patch(f"{URL}/{hq['id']}", json={"parentCustomer": {"id": region["id"]}}, headers=auth())
    assert r.status_code == 409 and "cycle" in r.json()["message"]
    r = await client.patch(f"{URL}/{hq['id']}", json={"parentCustomer": {"id": hq["id"]}}, headers=auth())
    assert r.status_code == 409 and "cycle" in r.json()["message"]
    r = await client.post(URL, json=customer_body(parentCustomer={"id": branch["id"]}), headers=auth())
    assert r.status_code == 422 and "group customer" in r.json()["message"]
    r = await client.delete(f"{URL}/{region['id']}", headers=auth())
    assert r.status_code == 409 and "branches" in r.json()["message"]
    r = await client.get(URL, params={"parentCustomer.id": hq["id"]}, headers=auth())
    assert [x["id"] for x in r.json()] == [region["id"]]


@pytest.mark.parametrize("bad_parent", ["0190b7a1-0000-7000-8000-000000000000", "nope"])
async def test_unknown_parent_is_422(client, auth, customer_body, bad_parent) -> None:
    r = await client.post(URL, json=customer_body(parentCustomer={"id": bad_parent}), headers=auth())
    assert r.status_code == 422 and "parentCustomer.id" in r.json()["message"]
