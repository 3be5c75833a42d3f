"""Records up the tree, reference data down, ownership transfer, the national key-account list —
on the six-node demo federation with real processes and real leafnode links."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest

from .conftest import CUSTOMER_PATH, Nodes, wait_until

pytestmark = pytest.mark.federation

CONVERGE = 60.0  # seconds; links are up, so sourcing is immediate — a fault test allows more


def expected_holders(demo: Nodes, owner: str) -> list[str]:
    """A record is held by its owner and every ancestor of it."""
    return [owner, *demo.fed.topology.ancestors(owner)]


def test_customer_created_at_local_network_appears_at_province_and_group(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="广州白云国际机场股份有限公司", industry="TRANSPORT", grade="A")
    r = demo.post(
        "gd-gz",
        "/tmf-api/party/v4/individual",
        {
            "givenName": "建国",
            "familyName": "陈",
            "customer": {"id": c["id"]},
            "decisionRole": "DECISION_MAKER",
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "13900001111"}}],
        },
    )
    assert r.status_code == 201, r.text
    contact = r.json()
    for node in ("gd", "hq"):
        got = wait_until(
            lambda n=node: (
                demo.get(n, f"{CUSTOMER_PATH}/{c['id']}").json()
                if demo.get(n, f"{CUSTOMER_PATH}/{c['id']}").status_code == 200
                else None
            ),
            timeout=CONVERGE,
            what=f"customer at {node}",
        )
        assert (got["id"], got["version"], got["name"], got["ownerNode"]) == (c["id"], 1, c["name"], "gd-gz")
        rc = wait_until(
            lambda n=node: demo.get(n, f"/tmf-api/party/v4/individual/{contact['id']}").status_code == 200,
            timeout=CONVERGE,
            what=f"contact at {node}",
        )
        assert rc
    # history replicates too
    hist = wait_until(
        lambda: demo.get("hq", f"/api/v1/customer/customers/{c['id']}/history").json() or None,
        timeout=CONVERGE,
        what="history at hq",
    )
    assert any(h["action"] == "create" and h["ownerNode"] == "gd-gz" for h in hist)
    # scope at the group: an hq user scoped to js sees none of it, in list, count, search, get, export
    assert demo.get("hq", f"{CUSTOMER_PATH}/{c['id']}", scope="js").status_code == 404
    listed = demo.get("hq", CUSTOMER_PATH, scope="js", params={"q": "白云国际机场"})
    assert listed.json() == [] and listed.headers["x-total-count"] == "0"
    assert demo.get("hq", CUSTOMER_PATH, params={"q": "白云国际机场"}).headers["x-total-count"] == "1"
    assert demo.get("js", f"{CUSTOMER_PATH}/{c['id']}").status_code == 404
    assert demo.get("gd-sz", f"{CUSTOMER_PATH}/{c['id']}").status_code == 404
    export = demo.get("hq", "/api/v1/customer/exports", scope="js", params={"format": "csv", "q": "白云国际机场"})
    assert export.status_code == 200 and "白云国际机场" not in export.text


def test_write_to_a_replica_is_refused_with_the_owner_node(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="广州港集团有限公司", industry="TRANSPORT")
    wait_until(
        lambda: demo.get("hq", f"{CUSTOMER_PATH}/{c['id']}").status_code == 200, timeout=CONVERGE, what="replica at hq"
    )
    for node in ("gd", "hq"):
        r = demo.patch(node, f"{CUSTOMER_PATH}/{c['id']}", {"grade": "A"})
        assert r.status_code == 409 and r.json()["details"]["ownerNode"] == "gd-gz", r.text
        assert demo.delete(node, f"{CUSTOMER_PATH}/{c['id']}").status_code == 409


def test_concurrent_changes_at_two_local_networks_converge_everywhere(demo: Nodes) -> None:
    def work(node: str) -> list[str]:
        ids = []
        for i in range(40):
            c = demo.create_customer(node, name=f"并发测试{node}客户{i:03d}")
            ids.append(c["id"])
            if i % 3 == 0:
                assert (
                    demo.patch(node, f"{CUSTOMER_PATH}/{c['id']}", {"grade": "A", "status": "INTENT"}).status_code
                    == 200
                )
            if i % 5 == 0:
                assert demo.delete(node, f"{CUSTOMER_PATH}/{c['id']}").status_code == 204
        return ids

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(work, ["gd-gz", "gd-sz"]))

    def owner_view(owner: str) -> dict[str, tuple[int, str, str]]:
        return {k: v for k, v in demo.customer_state(owner, q=f"并发测试{owner}").items()}

    for owner in ("gd-gz", "gd-sz"):
        truth = owner_view(owner)
        assert len(truth) == 32  # 40 created, 8 deleted
        for holder in expected_holders(demo, owner)[1:]:
            wait_until(
                lambda h=holder, o=owner, t=truth: demo.customer_state(h, q=f"并发测试{o}") == t,
                timeout=CONVERGE,
                what=f"{owner}'s customers at {holder}",
            )
        for outsider in ("js", "js-nj", "gd-sz" if owner == "gd-gz" else "gd-gz"):
            assert demo.customer_state(outsider, q=f"并发测试{owner}") == {}


def test_ownership_transfer_to_a_sibling_moves_the_writer(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="中国南方电网广州供电局", industry="ENERGY")
    path = f"{CUSTOMER_PATH}/{c['id']}"
    r = demo.post("gd-gz", f"/api/v1/customer/customers/{c['id']}/transfer", {"toNode": "gd-sz", "reason": "迁址"})
    assert r.status_code == 200 and r.json()["ownerNode"] == "gd-sz", r.text
    # the old owner refuses writes at once (409: the writer is elsewhere), without naming the sibling it
    # went to (outside gd-gz's scope); a read there is "not found", the customer is out of its scope now
    refused = demo.patch("gd-gz", path, {"grade": "A"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "CONFLICT" and "gd-sz" not in refused.text, refused.text
    assert demo.get("gd-gz", path).status_code == 404
    for node in ("gd-sz", "gd", "hq"):
        got = wait_until(
            lambda n=node: demo.get(n, path).json() if demo.get(n, path).status_code == 200 else None,
            timeout=CONVERGE,
            what=f"transferred customer at {node}",
        )
        assert got["ownerNode"] == "gd-sz" and got["version"] == 2
    ok = demo.patch("gd-sz", path, {"grade": "A"})
    assert ok.status_code == 200 and ok.json()["version"] == 3
    wait_until(lambda: demo.get("hq", path).json()["version"] == 3, timeout=CONVERGE, what="new owner's write at hq")
    assert demo.patch("gd", path, {"grade": "C"}).status_code == 409


def test_national_key_account_list_flows_down_and_answers_flow_up(demo: Nodes) -> None:
    c = demo.create_customer("gd-gz", name="中国工商银行广州分行", industry="FINANCE", grade="A")
    wait_until(
        lambda: demo.get("hq", f"{CUSTOMER_PATH}/{c['id']}").status_code == 200, timeout=CONVERGE, what="customer at hq"
    )
    r = demo.post(
        "hq",
        "/api/v1/customer/designations",
        {
            "customerId": c["id"],
            "grade": "A",
            "groupAccountManager": "gam01",
            "groupAccountManagerName": "赵总",
            "serviceLevel": "PLATINUM",
        },
    )
    assert r.status_code == 201, r.text
    d = r.json()
    refused = demo.post("gd", "/api/v1/customer/designations", {"customerId": c["id"], "grade": "A"})
    assert refused.status_code == 409  # only the group designates
    for node in ("gd", "gd-gz"):
        wait_until(
            lambda n=node: demo.get(n, f"/api/v1/customer/designations/{d['id']}").status_code == 200,
            timeout=CONVERGE,
            what=f"designation at {node}",
        )
        view = demo.get(node, f"{CUSTOMER_PATH}/{c['id']}").json()
        assert view["nationalKeyAccount"]["groupAccountManager"] == "gam01"
    assert demo.get("js", f"/api/v1/customer/designations/{d['id']}").status_code == 404  # not in js's scope
    # the province disputes, then acknowledges; the local network assigns its account manager
    bad = demo.put("gd", f"/api/v1/customer/designations/{d['id']}/response", {"status": "DISPUTED"})
    assert bad.status_code == 422 and "reason" in bad.json()["message"]
    assert (
        demo.put(
            "gd",
            f"/api/v1/customer/designations/{d['id']}/response",
            {"status": "DISPUTED", "reason": "客户已在省级名录"},
        ).status_code
        == 200
    )
    assert (
        demo.put("gd-gz", f"/api/v1/customer/designations/{d['id']}/response", {"status": "ACKNOWLEDGED"}).status_code
        == 422
    )
    assert (
        demo.put(
            "gd-gz",
            f"/api/v1/customer/designations/{d['id']}/response",
            {"status": "ASSIGNED", "accountManager": "am01", "accountManagerName": "张伟"},
        ).status_code
        == 200
    )

    def standing() -> dict[str, Any]:
        body = demo.get("hq", f"/api/v1/customer/designations/{d['id']}").json()
        return {x["node"]: (x["status"], x["version"]) for x in body["responses"]}

    wait_until(
        lambda: standing() == {"gd": ("DISPUTED", 1), "gd-gz": ("ASSIGNED", 1)}, timeout=CONVERGE, what="answers at hq"
    )
    assert (
        demo.put("gd", f"/api/v1/customer/designations/{d['id']}/response", {"status": "ACKNOWLEDGED"}).status_code
        == 200
    )
    wait_until(lambda: standing()["gd"] == ("ACKNOWLEDGED", 2), timeout=CONVERGE, what="acknowledgement at hq")
    # a withdrawal flows down again
    assert demo.patch("hq", f"/api/v1/customer/designations/{d['id']}", {"status": "WITHDRAWN"}).status_code == 200
    wait_until(
        lambda: demo.get("gd-gz", f"{CUSTOMER_PATH}/{c['id']}").json()["nationalKeyAccount"] is None,
        timeout=CONVERGE,
        what="withdrawal at gd-gz",
    )


def test_sync_status_reports_links_sources_and_consumers(demo: Nodes) -> None:
    def healthy() -> dict[str, Any] | None:
        s = demo.get("gd", "/api/v1/sync/status").json()
        return s if s.get("state") == "ok" else None

    s = wait_until(healthy, timeout=CONVERGE, what="gd sync status ok")
    assert {(lk["peer"], lk["connected"]) for lk in s["links"]} == {("hq", True), ("gd-gz", True), ("gd-sz", True)}
    up = next(st for st in s["streams"] if st["name"] == "UP_gd")
    assert {src["name"] for src in up["sources"]} == {"UP_gd-gz", "UP_gd-sz"}
    assert {c["stream"] for c in s["consumers"]} == {"UP_gd", "DOWN_gd"}


def test_resync_restores_a_replica_that_lost_records(demo: Nodes) -> None:
    """A province that lost replicas (restored from an old backup, or away longer than retention)
    asks its subtree to republish; afterwards its replica equals the owners' state."""
    import asyncio

    import asyncpg

    made = [demo.create_customer("gd-sz", name=f"重同步测试客户{i}") for i in range(5)]
    demo.patch("gd-sz", f"{CUSTOMER_PATH}/{made[0]['id']}", {"grade": "A"})

    def replicated() -> dict[str, Any] | None:
        view = demo.customer_state("gd", q="重同步测试客户")
        return view if len(view) == 5 and view == demo.customer_state("gd-sz", q="重同步测试客户") else None

    owner_view = wait_until(replicated, timeout=CONVERGE, what="replicas at gd")
    dsn = demo.fed.database_url("gd").replace("postgresql+asyncpg://", "postgresql://", 1)

    async def lose() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "DELETE FROM customer.customer WHERE owner_node = 'gd-sz' AND name LIKE '重同步测试客户%'"
            )
        finally:
            await conn.close()

    asyncio.run(lose())
    assert demo.customer_state("gd", q="重同步测试客户") == {}
    r = demo.post("gd", "/api/v1/sync/resync", {"reason": "restored from backup"})
    assert r.status_code == 202, r.text
    wait_until(
        lambda: demo.customer_state("gd", q="重同步测试客户") == owner_view,
        timeout=CONVERGE,
        what="replica restored by resync",
    )
