"""The web console in a real browser against a real federation (issue 9): login and the return to the
page, customer search and paging, create with a validation error at the field then success, the 360
view, a gd-gz customer read-only at gd naming its owner, a designation at hq answered at gd-gz and its
answer visible at hq, the language switch (remembered), every main screen without console errors, and
one screenshot per main screen (test-results/e2e/)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from typing import Any

import pytest

from .conftest import CUSTOMER, SHOTS, Api, Console, new_context, wait_until

pytestmark = pytest.mark.federation


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def test_cjk_font_is_installed() -> None:
    """Without a CJK font every Chinese glyph renders as a box while DOM assertions still pass."""
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=True).stdout
    assert out.strip(), "no CJK font: run `make browser-deps` (fonts-noto-cjk)"


def test_login_shows_the_node_and_returns_to_the_page(console: Console) -> None:
    page = console.page
    console.goto("gd-gz", "/customers?q=abc")
    page.wait_for_url("**/login?from=**")
    expect()(page.get_by_test_id("node-badge")).to_contain_text("广州 · 本地网节点")
    console.shot("01-login")
    # a wrong password is refused with the message, not a crash
    console.allowed.append("401")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name=re.compile("登\\s*录")).click()
    expect()(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    page.get_by_label("密码").fill("kam-demo-2026")
    page.get_by_role("button", name=re.compile("登\\s*录")).click()
    page.wait_for_url("**/customers?q=abc")
    expect()(page.get_by_test_id("user-scope")).to_contain_text("gd-gz")
    # a 401 anywhere (here: the token is gone) returns to login, then back to the page
    # a token the services refuse (its claims would allow the page, its signature is not the node's)
    forged = (
        base64.urlsafe_b64encode(json.dumps({"sub": "admin", "exp": 4102444800, "perms": ["*"]}).encode())
        .decode()
        .rstrip("=")
    )
    page.evaluate(f"localStorage.setItem('kam.session', 'x.{forged}.y')")
    page.goto(console.fed.node_url("gd-gz") + "/dashboard")
    page.wait_for_url("**/login?from=%2Fdashboard")


def test_workbench(console: Console) -> None:
    console.login("gd-gz")
    page = console.page
    page.wait_for_url("**/workbench")
    expect()(page.get_by_test_id("workbench")).to_contain_text("欢迎回来")
    expect()(page.get_by_test_id("main-menu")).to_contain_text("客户管理")
    # recent changes in my scope come from the server (the seeded key accounts of gd-gz)
    expect()(page.get_by_test_id("recent").locator(".ant-list-item").first).to_contain_text("gd-gz")
    console.shot("02-workbench")


def test_customer_search_and_paging(console: Console, api: Api) -> None:
    seeded = api.get("gd-gz", CUSTOMER, params={"limit": 1, "sort": "name"}).json()[0]
    total = int(api.get("gd-gz", CUSTOMER, params={"limit": 1}).headers["X-Total-Count"])
    assert total > 20  # more than one page
    console.login("gd-gz", path="/customers")
    page = console.page
    table = page.get_by_test_id("customer-table")
    expect()(table.locator("tbody tr.ant-table-row")).to_have_count(20)
    expect()(page.get_by_text(f"共 {total} 条")).to_be_visible()
    first_page = table.locator("tbody tr.ant-table-row").first.inner_text()
    page.locator(".ant-pagination-item-2").click()
    page.wait_for_url("**page=2**")
    expect()(table.locator("tbody tr.ant-table-row").first).not_to_have_text(first_page)
    console.shot("03-customers")
    # Chinese search: a substring of a seeded name, answered by the server
    term = seeded["name"][2:4]
    page.get_by_test_id("customer-search").locator("input").fill(term)
    page.get_by_test_id("customer-search").locator("input").press("Enter")
    page.wait_for_url(re.compile(r"q="))
    rows = table.locator("tbody tr.ant-table-row")
    expect()(rows.first).to_contain_text(term)
    expected = int(api.get("gd-gz", CUSTOMER, params={"limit": 1, "q": term}).headers["X-Total-Count"])
    expect()(page.get_by_text(f"共 {expected} 条")).to_be_visible()
    for text in rows.all_inner_texts():
        assert term in text


def test_create_with_a_validation_error_then_success(console: Console) -> None:
    console.allowed.append("422")  # the browser logs the refused request; the form shows it at the field
    console.login("gd-gz", path="/customers/new")
    page = console.page
    page.get_by_test_id("field-name").fill("广州测试创新科技有限公司")
    page.get_by_test_id("field-creditCode").fill("91440101ABCDEFGH12")  # wrong check digit
    page.get_by_label("行业").click()
    page.locator(".ant-select-item-option", has_text="互联网").click()
    page.get_by_test_id("customer-save").click()
    error = page.locator(".ant-form-item-has-error", has=page.get_by_test_id("field-creditCode"))
    expect()(error.locator(".ant-form-item-explain-error")).to_contain_text("credit code")
    console.shot("04-customer-create-error")
    page.get_by_test_id("field-creditCode").fill("")
    page.get_by_test_id("customer-save").click()
    page.wait_for_url(re.compile(r"/customers/[0-9a-f-]{36}$"))
    expect()(page.get_by_test_id("customer-name")).to_have_text("广州测试创新科技有限公司")
    expect()(page.get_by_test_id("owner-node")).to_have_text("gd-gz")


def test_customer_360(console: Console, api: Api) -> None:
    c = api.get("gd-gz", CUSTOMER, params={"limit": 1, "sort": "-updatedAt"}).json()[0]
    console.login("gd-gz", path=f"/customers/{c['id']}")
    page = console.page
    view = page.get_by_test_id("customer-360")
    expect()(page.get_by_test_id("customer-name")).to_have_text(c["name"])
    for panel in (
        "客户档案",
        "联系人",
        "集团层级",
        "客户经理历史",
        "变更历史",
        "全国大客户认定",
        "已订产品",
        "账单",
        "合同",
        "服务工单",
        "销售机会",
    ):
        expect()(view).to_contain_text(panel)
    expect()(page.get_by_test_id("customer-edit")).to_be_enabled()
    console.shot("05-customer-360")


def test_gd_gz_customer_is_read_only_at_gd_with_the_owner_named(console: Console, api: Api) -> None:
    r = api.post("gd-gz", CUSTOMER, {"name": "广州只读副本验证有限公司", "industry": "FINANCE", "grade": "B"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    wait_until(
        lambda: api.get("gd", f"{CUSTOMER}/{cid}").status_code == 200, timeout=60, what="customer replicated to gd"
    )
    console.login("gd", path=f"/customers/{cid}")
    page = console.page
    expect()(page.get_by_test_id("replica-notice")).to_contain_text("gd-gz")
    expect()(page.get_by_test_id("owner-node")).to_have_text("gd-gz")
    expect()(page.get_by_test_id("customer-edit")).to_be_disabled()
    console.shot("06-customer-replica-at-gd")


def test_designation_at_hq_answered_at_gd_gz_visible_at_hq(browser: Any, console: Console, api: Api) -> None:
    r = api.post("gd-gz", CUSTOMER, {"name": "广州全国名单验证集团", "industry": "ENERGY", "grade": "A"})
    assert r.status_code == 201, r.text
    customer = r.json()
    wait_until(
        lambda: api.get("hq", f"{CUSTOMER}/{customer['id']}").status_code == 200, timeout=60, what="customer at hq"
    )
    page = console.page
    # hq designates through the console
    console.login("hq", path="/national")
    page.get_by_test_id("designate").click()
    page.get_by_test_id("designate-customer").click()
    page.keyboard.type("全国名单验证")
    page.locator(".ant-select-item-option", has_text="广州全国名单验证集团").click()
    page.get_by_test_id("designate-ok").click()
    row = page.locator("tr.ant-table-row", has_text="广州全国名单验证集团")
    expect()(row).to_contain_text("有效")
    designation = next(
        d
        for d in api.get("hq", "/api/v1/customer/designations", params={"limit": 1000}).json()
        if d["customer"]["id"] == customer["id"]
    )
    wait_until(
        lambda: api.get("gd-gz", f"/api/v1/customer/designations/{designation['id']}").status_code == 200,
        timeout=60,
        what="designation at gd-gz",
    )
    # gd-gz assigns its account manager, in a browser of its own
    context = new_context(browser)
    local = Console(context.new_page(), console.fed)
    local.page.on("pageerror", lambda exc: local.errors.append(f"pageerror: {exc}"))
    local.page.on("console", lambda m: local.errors.append(m.text) if m.type == "error" else None)
    local.login("gd-gz", path="/national")
    local_row = local.page.locator("tr.ant-table-row", has_text="广州全国名单验证集团")
    local_row.get_by_test_id("answer-ASSIGNED").click()
    local.page.get_by_test_id("answer-manager").fill("am01")
    local.page.get_by_test_id("answer-ok").click()
    expect()(local_row.get_by_test_id("responses")).to_contain_text("gd-gz: 已分配")
    local.shot("07-national-list-gd-gz")
    context.close()
    assert local.errors == []
    # the answer flows up to hq
    wait_until(
        lambda: any(
            x["node"] == "gd-gz" and x["status"] == "ASSIGNED"
            for x in api.get("hq", f"/api/v1/customer/designations/{designation['id']}").json()["responses"]
        ),
        timeout=60,
        what="gd-gz's answer at hq",
    )
    page.reload()
    expect()(
        page.locator("tr.ant-table-row", has_text="广州全国名单验证集团").get_by_test_id("responses")
    ).to_contain_text("gd-gz: 已分配")
    console.shot("08-national-list-hq")


def test_language_switch_is_remembered(console: Console) -> None:
    console.login("gd", path="/workbench")
    page = console.page
    menu = page.get_by_test_id("main-menu")
    expect()(menu).to_contain_text("客户管理")
    page.get_by_test_id("lang-switch").get_by_text("EN").click()
    expect()(menu).to_contain_text("Customers")
    expect()(page.get_by_test_id("node-badge")).to_contain_text("Guangdong · Province node")
    page.reload()
    expect()(page.get_by_test_id("main-menu")).to_contain_text("Customers")
    page.goto(console.fed.node_url("gd") + "/customers")
    expect()(page.get_by_test_id("customer-list")).to_contain_text("Customers")
    expect()(page.locator(".ant-pagination")).to_contain_text("/ page")  # antd's own en_US locale
    console.shot("09-customers-en")
    page.get_by_test_id("lang-switch").get_by_text("中文").click()
    expect()(page.get_by_test_id("main-menu")).to_contain_text("客户管理")
    expect()(page.locator(".ant-pagination")).to_contain_text("条/页")


@pytest.mark.parametrize(
    ("path", "testid", "text", "shot"),
    [
        ("/dashboard", "dashboard", "统计看板", "10-dashboard"),
        ("/federation", "federation", "联邦状态", "11-federation"),
        ("/admin/staff", "admin-staff", "员工", "12-admin-staff"),
        ("/admin/teams", "admin-teams", "团队", "13-admin-teams"),
        ("/admin/org-units", "admin-org-units", "组织单元", "14-admin-org-units"),
        ("/admin/roles", "admin-roles", "角色与权限", "15-admin-roles"),
        ("/national", "national-list", "全国大客户名单", "16-national-list-gd"),
        ("/admin/rules", "admin-rules", "已发布", "17-admin-rules"),
    ],
)
def test_main_screens_render_without_errors(console: Console, path: str, testid: str, text: str, shot: str) -> None:
    console.login("gd", path=path)
    page = console.page
    expect()(page.get_by_test_id(testid)).to_contain_text(text)
    if path == "/dashboard":
        expect()(page.get_by_test_id("chart-grade").locator("canvas")).to_have_count(1)
        # the counts come from the server (X-Total-Count): gd sees its own and gd-gz's key accounts
        expect()(page.get_by_test_id("total-customers").locator(".ant-statistic-content-value")).not_to_have_text("0")
    if path == "/federation":
        expect()(page.get_by_test_id("sync-state")).not_to_have_text("…")
        expect()(page.get_by_test_id("lag-chart").locator("canvas")).to_have_count(1)
    console.shot(shot)
    assert (SHOTS / f"{shot}.png").stat().st_size > 10_000


def test_bootstrap_admin_changes_its_one_time_password_at_first_login(console: Console) -> None:
    import asyncio
    import concurrent.futures

    from kam_org.auth.bootstrap import bootstrap_admin_at

    fed = console.fed
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        done = pool.submit(
            asyncio.run, bootstrap_admin_at(fed.database_url("gd-gz"), "gd-gz", fed.topology, "itadmin")
        ).result()
    assert done is not None
    page = console.page
    console.login("gd-gz", user="itadmin", password=done.password)
    page.wait_for_url("**/password")
    expect()(page.get_by_text("首次登录请先修改初始密码")).to_be_visible()
    console.shot("18-password-change")
    page.get_by_label("当前密码").fill(done.password)
    page.get_by_label("新密码", exact=True).fill("itadmin-own-pass-1")
    page.get_by_label("确认新密码").fill("itadmin-own-pass-1")
    page.get_by_role("button", name=re.compile("提\\s*交")).click()
    page.wait_for_url("**/login**")
    console.login("gd-gz", user="itadmin", password="itadmin-own-pass-1")
    page.wait_for_url("**/workbench")
    expect()(page.get_by_test_id("main-menu")).to_contain_text("系统管理")


def test_import_shows_the_row_errors_as_a_table(console: Console, tmp_path: Any) -> None:
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "customerCode,name,industry,grade\n"
        "KAGDGZE2E0001,广州导入验证科技有限公司,INTERNET,B\n"
        "KAGDGZE2E0002,广州导入错误行有限公司,NOPE,B\n",
        encoding="utf-8",
    )
    console.login("gd-gz", path="/customers")
    page = console.page
    total = page.get_by_test_id("customer-list").get_by_text(re.compile(r"^共 \d+ 条$"))
    expect()(total).to_be_visible()
    before = int(re.sub(r"\D", "", total.inner_text()))
    page.locator("input[type=file]").set_input_files(str(csv))
    expect()(page.get_by_test_id("import-summary")).to_contain_text("成功 1 行，失败 1 行")
    errors = page.locator(".ant-modal .ant-table-row")
    expect()(errors).to_have_count(1)
    expect()(errors.first).to_contain_text("industry")
    expect()(errors.first.locator("td").first).to_have_text("3")  # the line of the file (header = 1)
    console.shot("19-customer-import-errors")
    expect()(total).to_have_text(f"共 {before + 1} 条")  # the list shows the imported row
