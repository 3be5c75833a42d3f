"""F1 key-account data on the demo federation (issue 14): a local network's customer verified at its
province, the verdict seen at gd-gz and hq; duplicates entered at gd-gz and js-nj — which neither
province sees — found by a scan at hq; a merge within gd-gz replicated up, the victim redirecting to
the survivor at hq; a merge across provinces proposed at hq and accepted by both owners; a transfer
within Guangdong takes the customer's F1 records to the new owner."""

from __future__ import annotations

from typing import Any

import pytest

from kam_customer.customer.rules import credit_check_char

from .conftest import CUSTOMER_PATH, Nodes, wait_until

pytestmark = pytest.mark.federation

CONVERGE = 120.0
API = "/api/v1/customer"


def _credit_code(first17: str) -> str:
    return first17 + credit_check_char(first17)


def _at(nodes: Nodes, node: str, path: str, **kw: Any) -> dict[str, Any] | None:
    r = nodes.get(node, path, **kw)
    return r.json() if r.status_code == 200 else None  # type: ignore[no-any-return]


def test_verification_at_the_province_is_seen_below_and_above(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="省级核实联邦测试客户 (fed)")
    path = f"{API}/customers/{c['id']}/verification"
    wait_until(lambda: _at(demo, "gd", path), timeout=CONVERGE, what="customer at gd")
    assert _at(demo, "gd-gz", path)["status"] == "unverified"  # type: ignore[index]
    here = demo.put("gd-gz", path, {"status": "verified"})
    assert here.status_code == 409 and here.json()["details"]["verifierNode"] == "gd", here.text
    r = demo.put("gd", path, {"status": "verified"})
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text
    for node in ("gd-gz", "hq"):
        wait_until(
            lambda n=node: (_at(demo, n, f"{CUSTOMER_PATH}/{c['id']}") or {}).get("verification") == "verified",
            timeout=CONVERGE,
            what=f"verified at {node}",
        )
    counted = demo.get("hq", CUSTOMER_PATH, params={"verification": "verified", "id": c["id"]})
    assert counted.headers["x-total-count"] == "1"


def test_duplicates_in_two_provinces_are_found_by_the_scan_at_hq(demo: Nodes) -> None:
    code = _credit_code("91320100MA1FEDDUP")
    a = demo.create_customer("gd-gz", name="跨省重复科技有限公司", creditCode=code)
    b = demo.create_customer("js-nj", name="跨省重复科技股份有限公司", creditCode=code)
    for x in (a, b):
        wait_until(lambda x=x: _at(demo, "hq", f"{CUSTOMER_PATH}/{x['id']}"), timeout=CONVERGE, what="at hq")
    # a province sees only its own: gd's scan cannot pair them
    assert demo.post("gd", f"{API}/duplicates/scan", {}).status_code == 200
    pair = {a["id"], b["id"]}
    gd_queue = demo.get("gd", f"{API}/duplicates", params={"limit": 1000}).json()
    assert not [p for p in gd_queue if {p["customerA"], p["customerB"]} == pair]
    scan = demo.post("hq", f"{API}/duplicates/scan", {})
    assert scan.status_code == 200, scan.text
    queue = demo.get("hq", f"{API}/duplicates", params={"limit": 1000, "status": "OPEN"}).json()
    (found,) = [p for p in queue if {p["customerA"], p["customerB"]} == pair]
    assert {found["ownerA"], found["ownerB"]} == {"gd-gz", "js-nj"}
    assert found["score"] == 97 and {r["signal"] for r in found["reasons"]} == {"creditCode", "name"}


def test_merge_at_gd_gz_replicates_up_and_the_victim_redirects_at_hq(demo: Nodes) -> None:
    survivor = demo.create_customer("gd-gz", name="联邦合并存续客户 (fed)")
    victim = demo.create_customer("gd-gz", name="联邦合并被并客户 (fed)", address="广州市天河区2号")
    contact = demo.post(
        "gd-gz",
        "/tmf-api/party/v4/individual",
        {"givenName": "并", "familyName": "赵", "customer": {"id": victim["id"]}},
    )
    assert contact.status_code == 201, contact.text
    r = demo.post("gd-gz", f"{API}/merges", {"survivorId": survivor["id"], "victimIds": [victim["id"]]})
    assert r.status_code == 201, r.text
    merge = r.json()
    gone = wait_until(
        lambda: (x := demo.get("hq", f"{CUSTOMER_PATH}/{victim['id']}")).status_code == 308 and x,
        timeout=CONVERGE,
        what="victim redirecting at hq",
    )
    assert gone.headers["location"] == demo.url("hq", f"{CUSTOMER_PATH}/{survivor['id']}")
    at_hq = wait_until(
        lambda: (_at(demo, "hq", f"{CUSTOMER_PATH}/{survivor['id']}") or {}).get("address"),
        timeout=CONVERGE,
        what="survivor's merged address at hq",
    )
    assert at_hq == "广州市天河区2号"
    m = wait_until(lambda: _at(demo, "hq", f"{API}/merges/{merge['id']}"), timeout=CONVERGE, what="merge at hq")
    assert m["status"] == "MERGED" and m["ownerNode"] == "gd-gz"
    moved = wait_until(
        lambda: (_at(demo, "hq", f"/tmf-api/party/v4/individual/{contact.json()['id']}") or {}).get("customer"),
        timeout=CONVERGE,
        what="contact moved at hq",
    )
    assert moved["id"] == survivor["id"]
    # hq holds a replica: only the owner merges or reverses
    again = demo.post("hq", f"{API}/merges/{merge['id']}/reverse", {})
    assert again.status_code == 409 and again.json()["details"]["ownerNode"] == "gd-gz", again.text


def test_merge_across_provinces_proposed_at_hq_and_accepted_by_the_owners(demo: Nodes) -> None:
    """Survivor at gd-gz, victim at js-nj: hq (their common ancestor) proposes; js-nj accepts, which hands
    the victim to gd-gz (the transfer relayed down by hq); gd-gz accepts, which merges there; the merge,
    the victim's redirect and its moved contacts reach hq."""
    survivor = demo.create_customer("gd-gz", name="跨省合并存续客户 (fed)")
    victim = demo.create_customer("js-nj", name="跨省合并被并客户 (fed)", address="南京市鼓楼区3号")
    contact = demo.post(
        "js-nj",
        "/tmf-api/party/v4/individual",
        {"givenName": "并", "familyName": "钱", "customer": {"id": victim["id"]}, "isPrimary": True},
    )
    assert contact.status_code == 201, contact.text
    for x in (survivor, victim):
        wait_until(lambda x=x: _at(demo, "hq", f"{CUSTOMER_PATH}/{x['id']}"), timeout=CONVERGE, what="at hq")
    r = demo.post(
        "hq",
        f"{API}/mergeProposals",
        {"survivorId": survivor["id"], "victimIds": [victim["id"]], "choices": {"address": victim["id"]}},
    )
    assert r.status_code == 201, r.text
    path = f"{API}/mergeProposals/{r.json()['id']}"
    # the directive flows down to both owners
    for node in ("js-nj", "gd-gz"):
        wait_until(lambda n=node: _at(demo, n, path), timeout=CONVERGE, what=f"proposal at {node}")
    acc = demo.put("js-nj", f"{path}/response", {"status": "ACCEPTED"})
    assert acc.status_code == 200, acc.text
    # the victim reaches gd-gz by the relayed transfer; until then gd-gz's acceptance is refused (409)
    done = wait_until(
        lambda: (x := demo.put("gd-gz", f"{path}/response", {"status": "ACCEPTED"})).status_code == 200 and x,
        timeout=CONVERGE,
        what="survivor's owner merging",
    )
    merge_id = done.json()["mergeId"]
    assert done.json()["state"] == "MERGED" and merge_id
    gone = wait_until(
        lambda: (x := demo.get("hq", f"{CUSTOMER_PATH}/{victim['id']}")).status_code == 308 and x,
        timeout=CONVERGE,
        what="victim redirecting at hq",
    )
    assert gone.headers["location"] == demo.url("hq", f"{CUSTOMER_PATH}/{survivor['id']}")
    moved = wait_until(
        lambda: (_at(demo, "hq", f"/tmf-api/party/v4/individual/{contact.json()['id']}") or {}).get("customer"),
        timeout=CONVERGE,
        what="victim's contact under the survivor at hq",
    )
    assert moved["id"] == survivor["id"]
    m = wait_until(lambda: _at(demo, "hq", f"{API}/merges/{merge_id}"), timeout=CONVERGE, what="merge at hq")
    assert m["ownerNode"] == "gd-gz" and m["victimIds"] == [victim["id"]] and m["status"] == "MERGED"
    at_hq = wait_until(
        lambda: (p := _at(demo, "hq", path)) and p["state"] == "MERGED" and p,
        timeout=CONVERGE,
        what="proposal merged at hq",
    )
    assert {s["node"]: s["status"] for s in at_hq["sides"]} == {"gd-gz": "ACCEPTED", "js-nj": "ACCEPTED"}
    address = wait_until(
        lambda: (_at(demo, "hq", f"{CUSTOMER_PATH}/{survivor['id']}") or {}).get("address"),
        timeout=CONVERGE,
        what="survivor's merged address at hq",
    )
    assert address == "南京市鼓楼区3号"


def test_transfer_takes_the_f1_records_to_the_new_owner(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="联邦移交需求档案客户 (fed)")
    needs = f"{API}/customers/{c['id']}/needs"
    assert demo.patch("gd-gz", needs, {"latentNeeds": "算力专线"}).status_code == 200
    comp = demo.post(
        "gd-gz", f"{API}/customers/{c['id']}/competitors", {"competitor": "中国联通", "observedOn": "2026-11-01"}
    )
    assert comp.status_code == 201, comp.text
    r = demo.post("gd-gz", f"{API}/customers/{c['id']}/transfer", {"toNode": "gd-sz", "reason": "分支迁址"})
    assert r.status_code == 200, r.text
    for node in ("gd-sz", "gd", "hq"):
        wait_until(
            lambda n=node: (_at(demo, n, needs) or {}).get("ownerNode") == "gd-sz",
            timeout=CONVERGE,
            what=f"needs profile owned by gd-sz at {node}",
        )
    assert _at(demo, "gd-sz", needs)["latentNeeds"] == "算力专线"  # type: ignore[index]
    edited = demo.patch("gd-sz", needs, {"latentNeeds": "算力专线 + 安全"})
    assert edited.status_code == 200, edited.text
    presence = wait_until(
        lambda: _at(demo, "gd-sz", f"{API}/competitors/{comp.json()['id']}"), timeout=CONVERGE, what="competitor"
    )
    assert presence["ownerNode"] == "gd-sz"
    # the old owner no longer writes them: gd-gz's users no longer see a customer gd-sz owns
    refused = demo.patch("gd-gz", needs, {"latentNeeds": "旧主"})
    assert refused.status_code == 404, refused.text
