"""The notification centre (消息中心) in a real browser on the trio federation: a contract signed at gd-gz
and the expiry-reminder job run deliver reminders to its account manager; the header's bell shows the
unread count the server reports (sum over the user's inboxes), the /notifications page lists them, one
is marked read — the bell drops by one and the server agrees — and its title opens the contract."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import CUSTOMER, Console, wait_until

AGREEMENTS = "/tmf-api/agreementManagement/v4/agreement"
INBOXES = ("/api/v1/sales/notifications", "/api/v1/service/notifications")


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def unread(api: Any, node: str = "gd-gz") -> int:
    """What the server says: the unread notifications of the operator (admin) over both inboxes."""
    return sum(
        int(api.get(node, path, params={"read": "false", "limit": 0}).headers["X-Total-Count"]) for path in INBOXES
    )


def test_the_bell_counts_unread_and_marking_one_read_drops_it(console: Console, api: Any) -> None:
    from playwright.sync_api import expect

    today = datetime.now(UTC).date()
    customer = ok(api.get("gd-gz", CUSTOMER, params={"limit": 1}))[0]
    number = f"HT-NOTE-{uuid.uuid4().hex[:8]}"
    end = today + timedelta(days=20)  # the 90, 60 and 30-day reminders are all due
    body = {
        "number": number,
        "name": f"消息中心 e2e 合同 {number}",
        "customer": {"id": customer["id"]},
        "agreementPeriod": {"startDateTime": (end - timedelta(days=365)).isoformat(), "endDateTime": end.isoformat()},
        "amount": {"unit": "CNY", "value": "120000.00"},
        "accountManager": "admin",
    }
    contract = ok(api.post("gd-gz", AGREEMENTS, body), 201)
    headers = {"Authorization": f"Bearer {api.token('gd-gz')}", "Content-Type": "application/merge-patch+json"}
    r = api.http.patch(
        api.url("gd-gz", f"{AGREEMENTS}/{contract['id']}"),
        headers=headers,
        json={"status": "signed", "signedDate": (end - timedelta(days=366)).isoformat()},
    )
    assert r.status_code == 200, r.text
    given = ok(api.post("gd-gz", "/api/v1/sales/agreementReminder/run", {}))
    assert sorted(x["offsetDays"] for x in given if x["agreement"]["id"] == contract["id"]) == [30, 60, 90]
    mine = ok(
        api.get("gd-gz", INBOXES[0], params={"subject.@referredType": "Agreement", "read": "false", "limit": 1000})
    )
    assert len([n for n in mine if n["subject"]["id"] == contract["id"]]) == 3

    before = unread(api)
    assert before >= 3
    console.login("gd-gz", path="/workbench")
    page = console.page
    bell = page.get_by_test_id("notification-bell")
    expect(bell).to_have_attribute("data-count", str(before))

    bell.click()
    expect(page.get_by_test_id("bell-dropdown")).to_be_visible()
    expect(page.get_by_test_id("bell-item").first).to_be_visible()
    page.get_by_test_id("bell-all").click()
    page.wait_for_url("**/notifications")
    table = page.get_by_test_id("notifications-table")
    row = table.locator("tr", has_text=number).first
    expect(row).to_be_visible()
    console.shot("60-notifications")

    row.get_by_test_id("mark-read").click()
    expect(bell).to_have_attribute("data-count", str(before - 1))
    wait_until(lambda: unread(api) == before - 1, timeout=30, what="the server counts one fewer unread")
    # the unread view no longer holds it; the whole list shows it read, and its title opens the contract
    expect(table.locator("tr", has_text=number)).to_have_count(2)
    page.get_by_test_id("notifications-view").get_by_text("全部").click()
    expect(table.locator("tr", has_text=number).get_by_test_id("notification-read")).to_have_count(1)
    table.locator("tr", has_text=number).get_by_test_id("notification-link").first.click()
    page.wait_for_url(re.compile(rf".*/sales/contracts/{contract['id']}$"))
