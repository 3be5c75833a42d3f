"""Concurrent writes on the six-node demo federation (issue 6, findings 3, 4, 11): parallel PATCHes
leave every holder at the same version and content, parallel transfers leave one owner everywhere,
and a national key-account designation follows its customer to the new owner."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx
import pytest

from .conftest import CUSTOMER_PATH, Nodes, wait_until

pytestmark = pytest.mark.federation

CONVERGE = 90.0  # seconds; links are up, so sourcing is immediate (generous: the machine is shared)


def parallel(calls: list[Any]) -> list[httpx.Response]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_parallel_patches_at_the_owner_reach_every_holder_at_one_version(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="并发写入测试客户", industry="FINANCE")
    path = f"{CUSTOMER_PATH}/{c['id']}"
    rs = parallel([lambda i=i: demo.patch("gd-gz", path, {"description": f"d{i}"}) for i in range(20)])
    assert [r.status_code for r in rs] == [200] * 20, [r.text for r in rs if r.status_code != 200]
    assert sorted(r.json()["version"] for r in rs) == list(range(2, 22))
    truth = demo.customer_state("gd-gz", q="并发写入测试客户")
    assert truth[c["id"]][0] == 21
    for holder in ("gd", "hq"):
        wait_until(
            lambda h=holder: demo.customer_state(h, q="并发写入测试客户") == truth,
            timeout=CONVERGE,
            what=f"version 21 and the owner's content at {holder}",
        )


def test_parallel_transfers_leave_a_single_owner_everywhere(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="并发迁移测试客户", industry="ENERGY")
    path = f"{CUSTOMER_PATH}/{c['id']}"
    transfer = f"/api/v1/customer/customers/{c['id']}/transfer"
    rs = parallel(
        [
            lambda i=i: demo.post("gd-gz", transfer, {"toNode": "gd-sz" if i % 2 == 0 else "gd", "reason": "并发"})
            for i in range(10)
        ]
    )
    assert sorted(r.status_code for r in rs) == [200] + [409] * 9, [r.text for r in rs]
    owner = next(r.json()["ownerNode"] for r in rs if r.status_code == 200)
    for node in (owner, *demo.fed.topology.ancestors(owner)):
        wait_until(
            lambda n=node: demo.get(n, path).status_code == 200 and demo.get(n, path).json()["ownerNode"] == owner,
            timeout=CONVERGE,
            what=f"owner {owner} at {node}",
        )
    # writes are accepted at the owner only: an ancestor's replica or the old owner answers 409, and a
    # sibling that never held the customer (gd-sz when gd won) does not know it: 404
    holders = {owner, "gd-gz", *demo.fed.topology.ancestors(owner)}
    for node in ("gd-gz", "gd-sz", "gd"):
        r = demo.patch(node, path, {"description": f"written at {node}"})
        if node == owner:
            assert r.status_code == 200 and r.json()["version"] == 3, r.text
        else:
            assert r.status_code == (409 if node in holders else 404), (node, owner, r.text)
    truth = demo.get(owner, path).json()
    wait_until(lambda: demo.get("hq", path).json()["version"] == 3, timeout=CONVERGE, what="owner's write at hq")
    assert demo.get("hq", path).json()["description"] == truth["description"] == f"written at {owner}"


def test_designation_follows_the_customer_to_its_new_owner(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="名录迁移测试客户", industry="FINANCE", grade="A")
    wait_until(
        lambda: demo.get("hq", f"{CUSTOMER_PATH}/{c['id']}").status_code == 200, timeout=CONVERGE, what="customer at hq"
    )
    d = demo.post("hq", "/api/v1/customer/designations", {"customerId": c["id"], "grade": "A"})
    assert d.status_code == 201, d.text
    path = f"/api/v1/customer/designations/{d.json()['id']}"
    wait_until(lambda: demo.get("gd-gz", path).status_code == 200, timeout=CONVERGE, what="designation at gd-gz")
    r = demo.post("gd-gz", f"/api/v1/customer/customers/{c['id']}/transfer", {"toNode": "gd-sz"})
    assert r.status_code == 200, r.text
    assert demo.get("gd-gz", path).status_code == 404  # the old owner no longer sees it
    seen = wait_until(
        lambda: demo.get("gd-sz", path).json() if demo.get("gd-sz", path).status_code == 200 else None,
        timeout=CONVERGE,
        what="designation visible at the new owner",
    )
    assert seen["customer"]["ownerNode"] == "gd-sz"
    answer = demo.put("gd-sz", f"{path}/response", {"status": "ASSIGNED", "accountManager": "am-sz01"})
    assert answer.status_code == 200, answer.text
    refused = demo.put("gd-gz", f"{path}/response", {"status": "ASSIGNED", "accountManager": "am-gz01"})
    assert refused.status_code == 404
    wait_until(
        lambda: any(
            x["node"] == "gd-sz" and x["status"] == "ASSIGNED" for x in demo.get("hq", path).json()["responses"]
        ),
        timeout=CONVERGE,
        what="the new owner's answer at hq",
    )
    assert demo.get("hq", path).json()["customer"]["ownerNode"] == "gd-sz"
