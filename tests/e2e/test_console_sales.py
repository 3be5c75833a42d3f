"""Browser test of the sales pipeline screens (issue 11): the opportunities table counts what the server
counts, and the kanban's stage columns count what the funnel counts — before and after a card is moved.
No opportunities are seeded (kam_sales.seed seeds the catalogue), so the test opens its own at gd-gz."""

from __future__ import annotations

import re
from typing import Any

from .conftest import CUSTOMER, Console

OPPORTUNITIES = "/api/v1/sales/opportunities"
FUNNEL = "/api/v1/sales/funnel"


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def funnel_counts(api: Any) -> dict[str, int]:
    r = api.get("gd-gz", FUNNEL)
    assert r.status_code == 200, r.text
    return {s["stage"]: s["count"] for s in r.json()["stages"]}


def test_pipeline_table_and_kanban_count_what_the_server_counts(console: Console, api: Any) -> None:
    customers = api.get("gd-gz", CUSTOMER, params={"limit": 2})
    assert customers.status_code == 200, customers.text
    ids = [c["id"] for c in customers.json()]
    assert ids  # the seeded demo customers
    for i, (name, stage) in enumerate(
        [
            ("广州地铁 专线扩容（e2e）", "LEAD"),
            ("广州港 政企云（e2e）", "LEAD"),
            ("白云机场 物联网（e2e）", "QUALIFIED"),
        ]
    ):
        body = {
            "name": name,
            "customer": {"id": ids[i % len(ids)]},
            "stage": stage,
            "expectedAmount": {"unit": "CNY", "value": f"{(i + 1) * 120000}.00"},
            "closeDate": "2027-03-31",
        }
        created = api.post("gd-gz", OPPORTUNITIES, body)
        assert created.status_code == 201, created.text
    total = int(api.get("gd-gz", OPPORTUNITIES, params={"limit": 1}).headers["X-Total-Count"])
    assert total >= 3

    console.login("gd-gz", path="/sales/opportunities")
    page = console.page
    page.wait_for_url("**/sales/opportunities")
    expect()(page.get_by_test_id("main-menu")).to_contain_text("销售机会")
    table = page.get_by_test_id("opportunity-table")
    expect()(page.locator(".ant-pagination-total-text")).to_have_text(f"共 {total} 条")
    expect()(table.locator("thead")).to_contain_text("预计金额")
    expect()(table).to_contain_text("¥")  # money {unit, value} formatted
    expect()(table).to_contain_text(customers.json()[0]["name"])  # the customer's name, not only its id
    console.shot("40-sales-opportunities")

    page.get_by_test_id("view-toggle").get_by_text("看板").click()
    page.wait_for_url("**/sales/opportunities?view=kanban")
    counts = funnel_counts(api)
    assert counts["LEAD"] >= 2
    for stage in ("LEAD", "QUALIFIED", "PROPOSAL"):
        column = page.get_by_test_id(f"kanban-column-{stage}")
        expect()(column.get_by_test_id("kanban-count")).to_have_text(str(counts[stage]))
        expect()(column.get_by_test_id("kanban-card")).to_have_count(min(counts[stage], 20))
    console.shot("41-sales-kanban")

    # move a lead to the proposal column: PATCH {stage}, then the columns are the funnel's again
    card = page.get_by_test_id("kanban-column-LEAD").get_by_test_id("kanban-card").first
    name = card.locator("a").first.inner_text()
    card.locator(".ant-select").click()
    console.pick("方案/报价")
    card.get_by_test_id("stage-move").click()
    proposal = page.get_by_test_id("kanban-column-PROPOSAL")
    expect()(proposal.get_by_test_id("kanban-card").filter(has_text=name)).to_have_count(1)
    after = funnel_counts(api)
    assert after["LEAD"] == counts["LEAD"] - 1 and after["PROPOSAL"] == counts["PROPOSAL"] + 1
    expect()(page.get_by_test_id("kanban-column-LEAD").get_by_test_id("kanban-count")).to_have_text(str(after["LEAD"]))
    expect()(proposal.get_by_test_id("kanban-count")).to_have_text(str(after["PROPOSAL"]))

    # the moved deal's detail: its stage history ends with the move
    proposal.get_by_test_id("kanban-card").filter(has_text=name).locator("a").first.click()
    page.wait_for_url(re.compile(r".*/sales/opportunities/[0-9a-f-]{36}$"))
    history = page.get_by_test_id("stage-history")
    expect()(history.locator("tbody tr.ant-table-row")).to_have_count(2)
    expect()(history.locator("tbody tr.ant-table-row").last).to_contain_text("方案/报价")
    console.shot("42-sales-opportunity-detail")
