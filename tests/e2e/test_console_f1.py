"""Browser tests of the F1 panels of the customer 360 view (issue 14): the needs profile edited and
stored, a competitor added, the decision map and the verification state shown — on the session's e2e
federation."""

from __future__ import annotations

from typing import Any

from .conftest import CUSTOMER, Console, wait_until


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
