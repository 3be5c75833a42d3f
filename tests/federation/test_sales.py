"""Sales on the real demo federation: a national offering published at hq is sellable at gd-gz and
js-nj, a gd-only offering is sellable at gd-gz and never reaches js-nj; an opportunity created at gd-gz
is at hq with its stage changes, and hq (a replica) refuses to write it, naming the owner; so is a
contract signed there, and its renewal links both versions at hq; a national campaign launched at hq
sends Guangdong's target list down to gd-gz (never to js-nj), the target is answered there and the
response and its opportunity are counted in hq's evaluation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation

TMF = "/tmf-api/productCatalogManagement/v4"
SELLABLE = "/api/v1/sales/sellableOffering"
OPPS = "/api/v1/sales/opportunities"
AGREEMENTS = "/tmf-api/agreementManagement/v4/agreement"
CAMPAIGNS = "/api/v1/sales/campaigns"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
CONVERGE = 120.0


def offering(nodes: Nodes, node: str, name: str) -> dict[str, Any]:
    r = nodes.post(
        node,
        f"{TMF}/productOffering",
        {"name": name, "lifecycleStatus": "active", "validFor": {"startDateTime": "2026-01-01"}},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def sellable(nodes: Nodes, node: str) -> set[str]:
    r = nodes.get(node, SELLABLE, params={"limit": 1000})
    assert r.status_code == 200, r.text
    return {o["id"] for o in r.json()}


def version_at(nodes: Nodes, node: str, path: str) -> int | None:
    r = nodes.get(node, path)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return int(r.json()["version"])


def test_catalogue_flows_down_national_everywhere_provincial_in_its_subtree(demo: Nodes) -> None:
    nodes = demo
    gd_only = offering(nodes, "gd", "广东政企专线优惠包 (fed)")
    national = offering(nodes, "hq", "互联网专线 10G (fed)")
    wait_until(lambda: national["id"] in sellable(nodes, "gd-gz"), timeout=CONVERGE, what="national at gd-gz")
    wait_until(lambda: gd_only["id"] in sellable(nodes, "gd-gz"), timeout=CONVERGE, what="gd offering at gd-gz")
    wait_until(lambda: national["id"] in sellable(nodes, "js-nj"), timeout=CONVERGE, what="national at js-nj")
    assert gd_only["id"] not in sellable(nodes, "js-nj")
    assert nodes.get("js-nj", f"{TMF}/productOffering/{gd_only['id']}").status_code == 404
    # a local network reads only; the province's copy of a national offering is read-only
    r = nodes.post("gd-gz", f"{TMF}/productOffering", {"name": "x", "validFor": {"startDateTime": "2026-01-01"}})
    assert r.status_code == 409, r.text
    r = nodes.http.patch(
        nodes.url("gd", f"{TMF}/productOffering/{national['id']}"), json={"name": "改"}, headers=nodes.headers("gd")
    )
    assert r.status_code == 409 and r.json()["details"]["ownerNode"] == "hq", r.text


def test_opportunity_created_at_gd_gz_is_at_hq_and_read_only_there(demo: Nodes) -> None:
    nodes = demo
    body = {
        "name": "广州政务云 专线 (fed)",
        "customer": {"id": str(uuid.uuid4())},
        "expectedAmount": {"unit": "CNY", "value": "1200000.00"},
    }
    r = nodes.post("gd-gz", OPPS, body)
    assert r.status_code == 201, r.text
    o = r.json()
    path = f"{OPPS}/{o['id']}"
    wait_until(lambda: version_at(nodes, "hq", path) == 1, timeout=CONVERGE, what="opportunity at hq")
    r = nodes.http.patch(nodes.url("gd-gz", path), json={"stage": "QUALIFIED"}, headers=nodes.headers("gd-gz"))
    assert r.status_code == 200, r.text
    wait_until(lambda: version_at(nodes, "hq", path) == 2, timeout=CONVERGE, what="stage change at hq")
    at_hq = nodes.get("hq", path).json()
    assert at_hq["stage"] == "QUALIFIED" and at_hq["ownerNode"] == "gd-gz"
    history = nodes.get("hq", f"{path}/stageHistory").json()
    assert [h["to"] for h in history] == ["LEAD", "QUALIFIED"]
    wait_until(lambda: version_at(nodes, "gd", path) == 2, timeout=CONVERGE, what="stage change at gd")
    assert version_at(nodes, "js", path) is None
    r = nodes.http.patch(nodes.url("hq", path), json={"name": "改"}, headers=nodes.headers("hq"))
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz"


def test_contract_signed_at_gd_gz_and_its_renewal_are_at_hq(demo: Nodes) -> None:
    nodes = demo
    body = {
        "number": f"GZ-FED-{uuid.uuid4().hex[:8]}",
        "name": "广州政务云 专线合同 (fed)",
        "customer": {"id": str(uuid.uuid4())},
        "agreementPeriod": {"startDateTime": "2026-01-01", "endDateTime": "2027-01-01"},
        "amount": {"unit": "CNY", "value": "880000.00"},
    }
    r = nodes.post("gd-gz", AGREEMENTS, body)
    assert r.status_code == 201, r.text
    path = f"{AGREEMENTS}/{r.json()['id']}"
    r = nodes.http.patch(
        nodes.url("gd-gz", path), json={"status": "signed", "signedDate": "2025-12-20"}, headers=nodes.headers("gd-gz")
    )
    assert r.status_code == 200, r.text
    renewal = {"agreementPeriod": {"startDateTime": "2027-01-01", "endDateTime": "2029-01-01"}}
    r = nodes.post("gd-gz", f"{path}/renew", renewal)
    assert r.status_code == 201, r.text
    new_path = f"{AGREEMENTS}/{r.json()['id']}"
    wait_until(lambda: version_at(nodes, "hq", path) == 3, timeout=CONVERGE, what="renewed contract at hq")
    wait_until(lambda: version_at(nodes, "hq", new_path) == 1, timeout=CONVERGE, what="renewal at hq")
    old, new = nodes.get("hq", path).json(), nodes.get("hq", new_path).json()
    assert old["renewalStatus"] == "renewed" and old["renewedBy"]["id"] == new["id"]
    assert new["previousAgreement"]["id"] == old["id"] and new["agreementVersion"] == 2
    r = nodes.http.patch(nodes.url("hq", path), json={"status": "terminated"}, headers=nodes.headers("hq"))
    assert r.status_code == 409 and r.json()["details"]["ownerNode"] == "gd-gz"


def test_national_campaign_targets_answered_at_gd_gz_are_counted_at_hq(demo: Nodes) -> None:
    nodes = demo
    name = f"联邦营销测试客户 {uuid.uuid4().hex[:6]}"
    customer = nodes.create_customer("gd-gz", name=name)

    def at_hq() -> bool:
        r = nodes.get("hq", CUSTOMERS, params={"name": name, "fields": "name"})
        return r.status_code == 200 and len(r.json()) == 1

    wait_until(at_hq, timeout=CONVERGE, what="the gd-gz customer at hq")
    body = {
        "name": "全国专线提速季 (fed)",
        "objective": "存量客户提速",
        "segment": {"filter": {"name": name}},
        "channel": "phone",
        "budget": {"unit": "CNY", "value": "10000.00"},
        "period": {"startDateTime": "2026-01-01", "endDateTime": "2030-01-01"},
    }
    r = nodes.post("hq", CAMPAIGNS, body)
    assert r.status_code == 201, r.text
    path = f"{CAMPAIGNS}/{r.json()['id']}"
    r = nodes.http.post(nodes.url("hq", f"{path}/approve"), headers=nodes.headers("hq", user="ka_mgr"))
    assert r.status_code == 200, r.text
    r = nodes.post("hq", f"{path}/launch", {})
    assert r.status_code == 200 and r.json()["segment"]["targetCount"] == 1, r.text

    def targets(node: str) -> list[dict[str, Any]]:
        r = nodes.get(node, f"{path}/targets")
        return r.json() if r.status_code == 200 else []  # type: ignore[no-any-return]

    wait_until(lambda: len(targets("gd-gz")) == 1, timeout=CONVERGE, what="Guangdong's targets at gd-gz")
    assert targets("gd-gz")[0]["customer"]["id"] == customer["id"]
    answer = {
        "response": "converted",
        "opportunity": {"name": "提速至 1G (fed)", "expectedAmount": {"unit": "CNY", "value": "50000.00"}},
    }
    r = nodes.post("gd-gz", f"{path}/targets/{customer['id']}/response", answer)
    assert r.status_code == 200 and r.json()["response"] == "converted", r.text

    def gd_line() -> dict[str, Any]:
        r = nodes.get("hq", f"{path}/evaluation")
        assert r.status_code == 200, r.text
        return next(x for x in r.json()["lines"] if x["node"] == "gd")  # type: ignore[no-any-return]

    wait_until(
        lambda: gd_line()["conversions"] == 1 and gd_line()["pipeline"]["value"] == "50000.00",
        timeout=CONVERGE,
        what="the gd-gz response and its opportunity in hq's evaluation",
    )
    line = gd_line()
    assert (line["targets"], line["responders"], line["responseRate"]) == (1, 1, "100.00")
    assert line["costPerResponse"] == {"unit": "CNY", "value": "10000.00"}
    # Jiangsu never held Guangdong's list; the campaign itself reached it
    assert targets("js-nj") == [] and nodes.get("js-nj", path).status_code == 200
