"""Browser tests of the F1 panels of the customer 360 view (issue 14): the needs profile edited and
stored, a competitor added, the decision map and the verification state shown — on the session's e2e
federation."""

from __future__ import annotations

from typing import Any

from .conftest import CUSTOMER, Console, wait_until

PROPOSALS = "/api/v1/customer/mergeProposals"


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def test_needs_profile_and_competitor_entered_in_the_360_view_are_stored(console: Console, api: Any) -> None:
    customers = api.get("gd-gz", CUSTOMER, params={"limit": 1, "ownerNode": "gd-gz"}).json()
    assert customers, "the seeded key accounts of gd-gz"
    cid = customers[0]["id"]
    console.login("gd-gz", path=f"/customers/{cid}")
    page = console.page
    for panel in ("needs-panel", "competitors-panel", "decision-panel"):
        expect()(page.get_by_test_id(panel)).to_be_visible()
    # the needs profile: edit one field, save, and it is shown and stored
    page.get_by_test_id("needs-edit").click()
    page.get_by_test_id("needs-networkSituation").fill("双路由专线接入，核心机房在天河")
    page.get_by_test_id("needs-save").click()
    expect()(page.get_by_test_id("needs-value-networkSituation")).to_contain_text("双路由专线接入")
    stored = api.get("gd-gz", f"/api/v1/customer/customers/{cid}/needs").json()
    assert stored["networkSituation"] == "双路由专线接入，核心机房在天河"
    # a competitor added through the form is in the panel's table and at the API
    page.get_by_test_id("competitor-add").click()
    page.get_by_test_id("competitor-name").fill("某竞争运营商")
    page.get_by_test_id("competitor-products").fill("互联网专线")
    page.get_by_test_id("competitor-save").click()
    expect()(page.get_by_test_id("competitors-table")).to_contain_text("某竞争运营商")
    wait_until(
        lambda: any(
            c["competitor"] == "某竞争运营商"
            for c in api.get("gd-gz", f"/api/v1/customer/customers/{cid}/competitors").json()
        ),
        timeout=30,
        what="the competitor at the API",
    )
    console.shot("40-f1-customer-360")


def test_a_merge_proposed_across_nodes_is_answered_at_the_owner_in_the_console(console: Console, api: Any) -> None:
    """hq proposes to merge a gd-gz customer and a gd customer; at gd-gz the proposals page offers the owner
    its own side, and a rejection with a reason entered there is stored and shown."""
    survivor = api.get("gd-gz", CUSTOMER, params={"limit": 1, "ownerNode": "gd-gz", "sort": "-updatedAt"}).json()[0]
    victim = api.post(
        "gd",
        CUSTOMER,
        {"name": "跨节点合并提议被并客户（e2e）", "engagedParty": {"id": "e2e-org-1", "@referredType": "Organization"}},
    )
    assert victim.status_code == 201, victim.text
    victim_id = victim.json()["id"]
    for cid in (survivor["id"], victim_id):
        wait_until(lambda c=cid: api.get("hq", f"{CUSTOMER}/{c}").status_code == 200, timeout=60, what="both at hq")
    proposal = api.post("hq", PROPOSALS, {"survivorId": survivor["id"], "victimIds": [victim_id]})
    assert proposal.status_code == 201, proposal.text
    pid = proposal.json()["id"]
    wait_until(
        lambda: api.get("gd-gz", f"{PROPOSALS}/{pid}").status_code == 200, timeout=60, what="the proposal at gd-gz"
    )
    console.login("gd-gz", path="/customers/merge-proposals")
    page = console.page
    row = page.get_by_test_id("merge-proposals").locator("tr", has_text=survivor["id"][:8])
    expect()(row.get_by_test_id("side-gd-gz")).to_contain_text("待答复")
    expect()(row.get_by_test_id("proposal-withdraw")).to_have_count(0)  # only the proposer withdraws
    row.get_by_test_id("proposal-reject").click()
    page.get_by_test_id("proposal-reject-reason").fill("不是同一家单位（e2e）")
    page.get_by_role("button", name="确 定").or_(page.get_by_role("button", name="确定")).click()
    expect()(row.get_by_test_id("side-gd-gz")).to_contain_text("已拒绝")
    side = next(s for s in api.get("gd-gz", f"{PROPOSALS}/{pid}").json()["sides"] if s["node"] == "gd-gz")
    assert (side["status"], side["reason"]) == ("REJECTED", "不是同一家单位（e2e）")
    console.shot("41-f1-merge-proposal")
