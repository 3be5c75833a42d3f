"""Browser tests of the service screens (issue 12): the ticket queue with its SLA deadlines, a ticket's
detail with its status history, and the knowledge base — on the session's e2e federation, whose local
networks are seeded with demo tickets (kam_service.seed)."""

from __future__ import annotations

import re
from typing import Any

from .conftest import Console

TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
ITEMS = "/api/v1/service/knowledge/item"


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def test_ticket_queue_shows_every_ticket_in_scope_with_its_sla_and_opens_a_ticket(console: Console, api: Any) -> None:
    total = int(api.get("gd-gz", TICKETS, params={"limit": 1}).headers["X-Total-Count"])
    assert total > 0  # the seeded demo tickets
    console.login("gd-gz", path="/service/tickets")
    page = console.page
    page.wait_for_url("**/service/tickets")
    expect()(page.get_by_test_id("main-menu")).to_contain_text("服务工单")
    # the list's count is the server's count for this scope
    expect()(page.locator(".ant-pagination-total-text")).to_contain_text(f"共 {total} 条")
    expect()(page.locator("thead")).to_contain_text("解决时限")
    console.shot("30-service-tickets")
    first = page.locator("tbody tr.ant-table-row").first.locator("a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r".*/service/tickets/[0-9a-f-]{36}$"))
    expect()(page.get_by_text(name).first).to_be_visible()
    expect()(page.get_by_text("状态历史").first).to_be_visible()
    console.shot("31-service-ticket-detail")


def test_knowledge_base_lists_the_articles_the_server_counts(console: Console, api: Any) -> None:
    # the province authors the knowledge base (a local network contributes); its drafts are listed at the owner
    for title in ("专线故障排查指引（e2e）", "政企云专线资费说明（e2e）"):
        created = api.post("gd", ITEMS, {"kind": "FAQ", "title": title, "body": f"{title}：正文"})
        assert created.status_code == 201, created.text
    newest = api.get("gd", ITEMS, params={"limit": 10, "sort": "-lastUpdate"})
    total = int(newest.headers["X-Total-Count"])
    assert total >= 2
    console.login("gd", path="/service/knowledge")
    page = console.page
    page.wait_for_url("**/service/knowledge**")
    expect()(page.get_by_test_id("main-menu")).to_contain_text("知识库")
    results = page.get_by_test_id("knowledge-results")
    expect()(results.locator(".ant-pagination-total-text")).to_have_text(f"共 {total} 条")
    hits = page.get_by_test_id("knowledge-hit")
    expect()(hits).to_have_count(min(total, 10))
    expect()(hits.first).to_contain_text(newest.json()[0]["title"])  # the server's order, newest first
    console.shot("32-service-knowledge")
