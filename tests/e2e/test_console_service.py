"""Browser tests of the service screens (issue 12): the ticket queue with its SLA deadlines, a ticket's
detail with its status history, and the knowledge base — on the session's e2e federation, whose local
networks are seeded with demo tickets (kam_service.seed)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from .conftest import Console, click_until, wait_until

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


QUALITY = "/api/v1/service/quality"
CUSTOMER = "/tmf-api/customerManagement/v4/customer"


def open_ticket(api: Any, node: str, name: str) -> dict[str, Any]:
    """A FAULT ticket for the first key account the node sees, accepted over the API."""
    customers = api.get(node, CUSTOMER, params={"limit": 1, "sort": "name"})
    assert customers.status_code == 200, customers.text
    customer = customers.json()[0]
    created = api.post(
        node,
        TICKETS,
        {
            "name": name,
            "description": "e2e: 专线中断",
            "ticketType": "FAULT",
            "channel": "ACCOUNT_MANAGER",
            "priority": "HIGH",
            "relatedParty": [{"id": customer["id"], "role": "customer", "name": customer["name"]}],
        },
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def ticket_at(api: Any, node: str, ticket_id: str) -> dict[str, Any]:
    r = api.get(node, f"{TICKETS}/{ticket_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def move_in_browser(page: Any, to: str, label: str, reason: str) -> None:
    page.get_by_test_id(f"action-{to}").click()
    page.get_by_test_id("move-reason").fill(reason)
    page.get_by_test_id("move-ok").click()
    expect()(page.get_by_test_id("ticket-detail").locator(".ant-card-head").first).to_contain_text(label)


def revisit_in_browser(page: Any, *, satisfied: bool, stars: int, comment: str) -> None:
    page.get_by_test_id("action-revisit").click()
    modal = page.locator(".ant-modal").filter(has=page.get_by_test_id("revisit-comment"))
    choice = "满意（关闭工单）" if satisfied else "不满意（重开工单）"
    radio = modal.get_by_role("radio", name=choice)
    click_until(modal.get_by_text(choice), lambda ms: expect()(radio).to_be_checked(timeout=ms))
    modal.locator(".ant-rate-star").nth(stars - 1).click()
    page.get_by_test_id("revisit-comment").fill(comment)
    page.get_by_test_id("revisit-ok").click()
    expect()(modal).to_be_hidden()


def test_closed_loop_in_the_browser_reopens_on_a_dissatisfied_revisit_and_closes_with_the_survey(
    console: Console, api: Any
) -> None:
    ticket = open_ticket(api, "gd-gz", "e2e 闭环：专线中断")
    console.login("gd-gz", path=f"/service/tickets/{ticket['id']}")
    page = console.page
    page.wait_for_url(f"**/service/tickets/{ticket['id']}")
    expect()(page.get_by_test_id("ticket-detail")).to_contain_text("e2e 闭环：专线中断")

    move_in_browser(page, "inProgress", "处理中", "已受理，安排装维")
    move_in_browser(page, "resolved", "已解决（待回访）", "更换光模块")
    assert ticket_at(api, "gd-gz", ticket["id"])["status"] == "resolved"

    # the customer is not satisfied: the revisit reopens the ticket, the survey stays in the history
    revisit_in_browser(page, satisfied=False, stars=2, comment="仍有丢包")
    expect()(page.get_by_test_id("ticket-detail").locator(".ant-card-head").first).to_contain_text("处理中")
    reopened = ticket_at(api, "gd-gz", ticket["id"])
    assert reopened["status"] == "inProgress"
    assert reopened["reopenCount"] == 1
    assert reopened["satisfaction"] == {"score": 2, "comment": "仍有丢包"}  # the dissatisfied survey, until the next
    steps = [(s["fromStatus"], s["status"]) for s in reopened["statusChange"]]
    assert steps == [
        (None, "acknowledged"),
        ("acknowledged", "inProgress"),
        ("inProgress", "resolved"),
        ("resolved", "inProgress"),
    ]
    reason = reopened["statusChange"][-1]["changeReason"]
    assert "reopened" in reason and "score 2" in reason and "仍有丢包" in reason

    # resolved again, and this time the revisit closes it with the survey
    move_in_browser(page, "resolved", "已解决（待回访）", "更换尾纤，复测正常")
    revisit_in_browser(page, satisfied=True, stars=4, comment="恢复正常，感谢")
    expect()(page.get_by_test_id("ticket-survey")).to_contain_text("恢复正常，感谢")
    closed = ticket_at(api, "gd-gz", ticket["id"])
    assert closed["status"] == "closed"
    assert closed["satisfaction"] == {"score": 4, "comment": "恢复正常，感谢"}
    assert closed["reopenCount"] == 1
    assert [s["status"] for s in closed["statusChange"]][-2:] == ["resolved", "closed"]
    expect()(page.get_by_test_id("ticket-actions")).to_contain_text("无可执行操作")
    console.shot("33-service-ticket-closed-loop")


def test_a_reassignment_in_the_browser_is_stored_at_the_api(console: Console, api: Any) -> None:
    ticket = open_ticket(api, "gd-gz", "e2e 改派：业务开通咨询")
    console.login("gd-gz", path=f"/service/tickets/{ticket['id']}")
    page = console.page
    page.get_by_test_id("action-reassign").click()
    # a local network has no node below it: nothing to dispatch to
    expect()(page.get_by_test_id("action-dispatch")).to_have_count(0)
    page.get_by_test_id("assign-handler").fill("am01")
    page.get_by_test_id("assign-reason").fill("客户指定客户经理跟进")
    page.get_by_test_id("assign-ok").click()
    expect()(page.get_by_test_id("ticket-handler")).to_have_text("am01")
    stored = ticket_at(api, "gd-gz", ticket["id"])
    assert stored["handler"] == "am01"
    assert stored["assignment"]["assignedBy"] == "admin"
    audit = api.get("gd-gz", f"/api/v1/service/troubleTicket/{ticket['id']}/audit").json()
    assigned = [a for a in audit if a["action"] == "assign"]
    assert len(assigned) == 1 and assigned[0]["note"] == "客户指定客户经理跟进"


def share(x: float | None) -> str:
    """formatShare of quality.ts (one decimal, half up)."""
    return "—" if x is None else f"{math.floor(x * 1000 + 0.5) / 10:.1f}%"


def score(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def test_the_quality_board_shows_the_api_figures_for_the_period(console: Console, api: Any) -> None:
    now = datetime.now(UTC)
    period = {
        "periodStart": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "periodEnd": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    console.login("gd-gz", path="/service/quality")
    page = console.page
    console.goto("gd-gz", "/service/quality?" + urlencode(period))
    expect()(page.get_by_test_id("main-menu")).to_contain_text("服务质量")
    board = page.get_by_test_id("quality-board")

    def card(key: str) -> str:
        return str(board.get_by_test_id(f"q-{key}").locator(".ant-statistic-content").inner_text()).strip()

    def figures_now() -> dict[str, Any]:
        r = api.get("gd-gz", QUALITY, params=period)
        assert r.status_code == 200, r.text
        return dict(r.json())

    # the evaluator may flag a breach meanwhile: compare with a reading that did not change around the page's
    for _attempt in range(3):
        before = figures_now()
        page.reload()
        expect()(board.get_by_test_id("q-accepted")).to_be_visible()
        page.wait_for_load_state("networkidle")
        shown = {
            k: card(k)
            for k in (
                "open",
                "accepted",
                "responseBreached",
                "resolveBreached",
                "resolved",
                "closed",
                "resolveInSla",
                "surveyed",
                "satisfaction",
                "reopened",
            )
        }
        if figures_now() == before:
            break
    total = before["total"]
    assert total["accepted"] > 0 and total["closed"] > 0  # the seeded loop and the tests' tickets
    assert shown == {
        "open": str(sum(g["open"] for g in before["openByGrade"])),
        "accepted": str(total["accepted"]),
        "responseBreached": str(total["responseBreached"]),
        "resolveBreached": str(total["resolveBreached"]),
        "resolved": str(total["resolved"]),
        "closed": str(total["closed"]),
        "resolveInSla": share(total["resolveInSla"]),
        "surveyed": str(total["surveyed"]),
        "satisfaction": score(total["satisfaction"]),
        "reopened": str(total["reopened"]),
    }
    rows = board.get_by_test_id("q-nodes").locator("tbody tr.ant-table-row")
    expect()(rows).to_have_count(len(before["byNode"]))
    gz = next(n for n in before["byNode"] if n["node"] == "gd-gz")
    row = rows.filter(has_text="gd-gz")
    expect()(row.locator("td").nth(1)).to_have_text(str(gz["accepted"]))
    expect()(board.get_by_test_id("q-chart").locator("canvas")).to_have_count(1)
    console.shot("34-service-quality")

    # drill down: the node's tickets accepted in the period, as the ticket list counts them
    row.locator("td").nth(1).get_by_role("link").click()
    page.wait_for_url("**/service/tickets?**")
    expect()(page.get_by_test_id("ticket-drill")).to_contain_text("gd-gz")
    expect()(page.locator(".ant-pagination-total-text")).to_contain_text(f"共 {gz['accepted']} 条")


def test_a_province_dispatches_a_ticket_down_in_the_browser_and_shows_the_handlers_steps(
    console: Console, api: Any
) -> None:
    customers = api.get("gd", CUSTOMER, params={"ownerNode": "gd-gz", "limit": 1, "sort": "name"})
    assert customers.status_code == 200, customers.text
    customer = customers.json()[0]
    created = api.post(
        "gd",
        TICKETS,
        {
            "name": "e2e 派单：省级受理的专线故障",
            "ticketType": "FAULT",
            "channel": "HOTLINE",
            "priority": "HIGH",
            "relatedParty": [{"id": customer["id"], "role": "customer", "name": customer["name"]}],
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    console.login("gd", path=f"/service/tickets/{ticket['id']}")
    page = console.page
    page.get_by_test_id("action-dispatch").click()
    page.get_by_test_id("dispatch-reason").fill("归属广州本地网处理")
    page.get_by_test_id("dispatch-ok").click()  # default target: the customer's owner node
    expect()(page.get_by_test_id("ticket-dispatched")).to_contain_text("gd-gz")
    # handed down: no more moves here
    expect()(page.get_by_test_id("ticket-actions")).to_contain_text("无可执行操作")
    reported = ticket_at(api, "gd", ticket["id"])
    assert reported["dispatch"]["dispatchedTo"] == "gd-gz"
    handler_id = reported["dispatch"]["handlerTicketId"]

    # the handler takes it up; its step comes back to the reporter, tagged with the handling node
    wait_until(
        lambda: api.get("gd-gz", f"{TICKETS}/{handler_id}").status_code == 200, timeout=120, what="handler's ticket"
    )
    moved = api.http.patch(
        api.url("gd-gz", f"{TICKETS}/{handler_id}"),
        headers={"Authorization": f"Bearer {api.token('gd-gz')}", "Content-Type": "application/merge-patch+json"},
        json={"status": "inProgress", "statusChangeReason": "装维已出发"},
    )
    assert moved.status_code == 200, moved.text

    def mirrored() -> bool:
        steps = ticket_at(api, "gd", ticket["id"])["statusChange"]
        return any(s["node"] == "gd-gz" and s["status"] == "inProgress" for s in steps)

    wait_until(mirrored, timeout=120, what="the handler's step mirrored at gd")
    page.reload()
    history = page.get_by_test_id("ticket-history")
    expect()(history).to_contain_text("装维已出发")
    expect()(history.locator(".ant-tag", has_text="gd-gz").first).to_be_visible()


def test_a_care_activity_planned_and_done_in_the_browser_keeps_its_cost_and_feedback(
    console: Console, api: Any
) -> None:
    title = "e2e 高层拜访：年度服务回顾"
    console.login("gd-gz", path="/service/care")
    page = console.page
    page.get_by_role("tab", name="关怀活动").click()
    page.get_by_test_id("care-activity-new").click()
    modal = page.locator(".ant-modal:visible")
    page.get_by_test_id("activity-title").fill(title)
    modal.locator(".ant-form-item", has_text="客户").locator(".ant-select").click()
    console.pick()
    due = modal.locator(".ant-picker input")
    due.click()
    due.fill("2026-12-20")
    due.press("Enter")
    modal.locator(".ant-input-number input").fill("1200")
    page.get_by_test_id("care-activity-save").click()
    expect()(modal).to_have_count(0)

    row = page.get_by_test_id("care-activities").locator("tbody tr", has_text=title)
    expect()(row).to_contain_text("已计划")
    row.get_by_test_id("care-DONE").click()
    done = page.locator(".ant-modal:visible")
    done.locator(".ant-input-number input").fill("1350.50")
    page.get_by_test_id("done-feedback").fill("客户认可年度服务，提出扩容需求")
    done.locator(".ant-rate-star").nth(4).click()
    page.get_by_test_id("care-done-save").click()
    expect()(row).to_contain_text("已完成")

    listed = api.get("gd-gz", "/api/v1/service/care/activity", params={"dueOn": "2026-12-20", "limit": 100})
    assert listed.status_code == 200, listed.text
    mine = [a for a in listed.json() if a["title"] == title]
    assert len(mine) == 1
    activity = mine[0]
    assert activity["status"] == "DONE"
    assert activity["kind"] == "EXECUTIVE_VISIT"
    assert float(activity["cost"]["value"]) == 1350.5 and activity["cost"]["unit"] == "CNY"
    assert activity["feedback"] == "客户认可年度服务，提出扩容需求"
    assert activity["satisfaction"] == 5


def test_a_document_uploaded_on_the_documents_screen_is_linked_and_takes_a_new_version(
    console: Console, api: Any, tmp_path: Any
) -> None:
    """The documents screen's upload (the 360 view's dialog, with a customer picked and a contract named)
    stores version 1 with the sha256 of the file's bytes; a new version from the row is version 2."""
    import hashlib

    from .test_console_360 import tiny_pdf

    title = "e2e 专线合同扫描件"
    first = tiny_pdf("KAM documents e2e v1")
    pdf = tmp_path / "contract-v1.pdf"
    pdf.write_bytes(first)
    console.login("gd-gz", path="/service/documents")
    page = console.page
    page.get_by_test_id("doc-new").click()
    modal = page.locator(".ant-modal:visible")
    page.get_by_test_id("doc-title").fill(title)
    modal.locator(".ant-form-item", has_text="客户").first.locator(".ant-select").click()
    console.pick()
    modal.locator(".ant-form-item", has_text="关联对象").first.locator(".ant-select").click()
    console.pick("合同")
    page.get_by_test_id("doc-related-id").fill("CT-E2E-0001")
    modal.locator("input[type=file]").set_input_files(str(pdf))
    page.get_by_test_id("doc-submit").click()
    expect()(modal).to_have_count(0)
    row = page.get_by_test_id("document-table").locator("tr", has_text=title)
    expect()(row).to_contain_text("v1 · contract-v1.pdf")

    stored = api.get("gd-gz", "/api/v1/service/document", params={"title": title}).json()
    assert len(stored) == 1, stored
    doc = stored[0]
    assert doc["relatedEntity"] == {"type": "contract", "id": "CT-E2E-0001"}, doc
    assert doc["relatedParty"][0]["id"] and doc["ownerNode"] == "gd-gz"
    assert doc["versions"][0]["sha256"] == hashlib.sha256(first).hexdigest(), doc

    pdf2 = tmp_path / "contract-v2.pdf"
    pdf2.write_bytes(tiny_pdf("KAM documents e2e v2"))
    page.get_by_test_id(f"doc-upload-{doc['id']}").locator("input[type=file]").set_input_files(str(pdf2))
    expect()(row).to_contain_text("v2 · contract-v2.pdf")
    again = api.get("gd-gz", f"/api/v1/service/document/{doc['id']}").json()
    assert again["currentVersion"] == 2, again
