"""Browser test of the deals screens (issue 11): the catalogue shows an offering's price as the API has it;
a quote drafted in the browser with one line is stored at the API (a discount above the rule's maximum
refused at the line first; above the threshold it waits for the manager once submitted); a contract signed at gd-gz via the API is on the expiry list with its days
left, and renewing it in the browser makes a new version linked to the old one at the API."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .conftest import CUSTOMER, Console

TMF620 = "/tmf-api/productCatalogManagement/v4"
QUOTES = "/tmf-api/quoteManagement/v4/quote"
AGREEMENTS = "/tmf-api/agreementManagement/v4/agreement"
SYMBOLS = {"CNY": "¥", "USD": "$"}


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def money(m: dict[str, str]) -> str:
    """The console's formatMoney: the decimal string grouped by thousands, prefixed by the currency."""
    whole, _, frac = str(m["value"]).partition(".")
    return f"{SYMBOLS.get(m['unit'], m['unit'] + ' ')}{int(whole):,}" + (f".{frac}" if frac else "")


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def patch(api: Any, node: str, path: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {api.token(node)}", "Content-Type": "application/merge-patch+json"}
    return api.http.patch(api.url(node, path), headers=headers, json=body)


def priced_offering(api: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A seeded product line, one of its active offerings sellable at gd-gz, and that offering's recurring tariff."""
    sellable = {o["id"] for o in ok(api.get("gd-gz", "/api/v1/sales/sellableOffering", params={"limit": 1000}))}
    for line in ok(api.get("gd-gz", f"{TMF620}/category", params={"limit": 1000})):
        offerings = ok(api.get("gd-gz", f"{TMF620}/productOffering", params={"category.id": line["id"], "limit": 100}))
        for o in offerings:
            ids = [p["id"] for p in o.get("productOfferingPrice", [])]
            if o["id"] not in sellable or not ids:
                continue
            prices = ok(api.get("gd-gz", f"{TMF620}/productOfferingPrice", params={"id": ",".join(ids), "limit": 100}))
            recurring = [p for p in prices if p["priceType"] == "recurring" and p.get("price")]
            if recurring:
                return line, o, recurring[0]
    raise AssertionError("no seeded offering with a recurring tariff sellable at gd-gz")


def test_catalogue_shows_the_apis_price_and_a_browser_quote_is_stored(console: Console, api: Any) -> None:
    line, offering, price = priced_offering(api)
    customer = ok(api.get("gd-gz", CUSTOMER, params={"limit": 1, "sort": "name"}))[0]

    console.login("gd-gz", path="/sales/catalog")
    page = console.page
    page.wait_for_url("**/sales/catalog")
    expect()(page.get_by_test_id("main-menu")).to_contain_text("产品目录")
    page.get_by_test_id("category-tree").get_by_text(line["name"], exact=True).click()
    table = page.get_by_test_id("offering-table")
    table.get_by_role("link", name=offering["name"], exact=True).click()
    page.wait_for_url(re.compile(rf".*/sales/catalog/{offering['id']}$"))
    row = page.get_by_test_id("price-table").locator("tr", has_text=price["name"])
    expect()(row.get_by_test_id("price-value")).to_have_text(money(price["price"]))
    expect()(page.get_by_test_id("sellable-gd-gz")).to_contain_text("可售")
    console.shot("43-sales-offering-detail")

    # a quote with one line of that offering, drafted in the browser
    number = f"Q-E2E-{uuid.uuid4().hex[:8]}"
    page.goto(console.fed.node_url("gd-gz") + "/sales/quotes/new")
    form = page.get_by_test_id("quote-form")
    form.get_by_test_id("field-number").fill(number)
    form.get_by_test_id("field-name").fill("广州地铁 专线报价（e2e）")
    form.get_by_test_id("field-customer").click()
    page.keyboard.type(customer["name"])
    page.locator(f'.ant-select-dropdown:visible .ant-select-item-option[title="{customer["name"]}"]').or_(
        page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter(has_text=customer["name"])
    ).first.click()
    form.get_by_test_id("line-offering").click()
    page.keyboard.type(offering["name"])
    console.pick(offering["name"])
    expect()(form.get_by_test_id("line-unitPrice")).to_have_value(price["price"]["value"])  # the list tariff
    form.get_by_test_id("line-quantity").fill("2")
    # above the discount rule's maximum (30 %, the national default): the server's 422 is at the line's field
    console.allowed.append("422")  # the browser logs the refused request; the form shows it at the line
    form.get_by_test_id("line-discount").fill("50")
    form.get_by_test_id("save-quote").click()
    line_error = form.get_by_test_id("quote-line").first.locator(".ant-form-item-explain-error")
    expect()(line_error).to_contain_text("discountPercent")
    assert ok(api.get("gd-gz", QUOTES, params={"number": number})) == []  # nothing written
    # above the threshold (10 %) but within the maximum: saved, and pending the manager's approval once submitted
    form.get_by_test_id("line-discount").fill("15")
    expected = {
        "unit": "CNY",
        "value": str((Decimal(price["price"]["value"]) * 2 * Decimal("0.85")).quantize(Decimal("0.01"))),
    }
    expect()(form.get_by_test_id("estimate-total")).to_have_text(money(expected))  # the editor's estimate
    form.get_by_test_id("save-quote").click()
    page.wait_for_url(re.compile(r".*/sales/quotes/[0-9a-f-]{36}$"))

    stored = ok(api.get("gd-gz", QUOTES, params={"number": number}))
    assert len(stored) == 1
    q = stored[0]
    assert q["customer"]["id"] == customer["id"] and q["state"] == "inProgress"
    assert [
        (it["productOffering"]["id"], it["quantity"], it["unitPrice"], Decimal(it["discountPercent"]))
        for it in q["quoteItem"]
    ] == [(offering["id"], 2, price["price"], Decimal(15))]
    detail = page.get_by_test_id("quote-detail")
    expect()(detail.get_by_test_id("quote-total")).to_have_text(money(q["total"]))  # the server's total
    assert q["total"] == expected  # the estimate was what the server computed

    # 15 % > the threshold: submitted, it waits for the account manager's manager; the author may not approve
    detail.get_by_test_id("quote-submit").click()
    expect()(detail.get_by_test_id("quote-state").first).to_have_text("待审批")
    expect()(detail.get_by_test_id("quote-approval")).to_contain_text("需客户经理的直属主管审批")
    expect()(detail.get_by_test_id("quote-approve")).to_have_count(0)
    expect()(detail.get_by_test_id("quote-revise")).to_be_visible()
    assert ok(api.get("gd-gz", f"{QUOTES}/{q['id']}"))["state"] == "pending"
    console.shot("44-sales-quote-detail")


def test_an_expiring_contract_is_renewed_in_the_browser(console: Console, api: Any) -> None:
    today = datetime.now(UTC).date()
    customer = ok(api.get("gd-gz", CUSTOMER, params={"limit": 1}))[0]
    number = f"HT-E2E-{uuid.uuid4().hex[:8]}"
    end = today + timedelta(days=45)
    body = {
        "number": number,
        "name": "广州地铁 专线服务合同（e2e）",
        "customer": {"id": customer["id"]},
        "agreementPeriod": {"startDateTime": (end - timedelta(days=365)).isoformat(), "endDateTime": end.isoformat()},
        "amount": {"unit": "CNY", "value": "360000.00"},
        "terms": "专线 100M，月租按资费执行",
        "slaReference": "SLA-GOLD",
    }
    old = ok(api.post("gd-gz", AGREEMENTS, body), 201)
    signed = {"status": "signed", "signedDate": (end - timedelta(days=370)).isoformat()}
    ok(patch(api, "gd-gz", f"{AGREEMENTS}/{old['id']}", signed))

    console.login("gd-gz", path="/sales/contracts?view=expiring")
    page = console.page
    page.wait_for_url("**/sales/contracts?view=expiring")
    row = page.get_by_test_id("expiring-table").locator("tr", has_text=number)
    days = (end - datetime.now(UTC).date()).days
    expect()(row.get_by_test_id("days-left")).to_have_text(f"{days} 天")
    expect()(row.get_by_test_id("renewal-status")).to_have_text("未续约")
    console.shot("45-sales-contracts-expiring")

    row.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf".*/sales/contracts/{old['id']}$"))
    detail = page.get_by_test_id("contract-detail")
    expect()(detail).to_contain_text("SLA-GOLD")
    detail.get_by_test_id("contract-renew").click()
    page.locator("#renew-ok").click()
    page.wait_for_url(lambda url: old["id"] not in url and "/sales/contracts/" in url)
    expect()(page.get_by_test_id("contract-detail")).to_contain_text(f"{number} v2")
    console.shot("46-sales-contract-renewed")

    versions = ok(api.get("gd-gz", AGREEMENTS, params={"number": number, "sort": "agreementVersion"}))
    assert [v["agreementVersion"] for v in versions] == [1, 2]
    first, second = versions
    assert second["previousAgreement"]["id"] == old["id"] and second["status"] == "inProgress"
    assert first["renewalStatus"] == "renewed" and first["renewedBy"]["id"] == second["id"]
    # the proposed period: as long as the old one, starting when it ends
    assert second["agreementPeriod"]["startDateTime"] == end.isoformat()
    expect()(page.get_by_test_id("contract-versions").locator("tbody tr.ant-table-row")).to_have_count(2)


def test_a_province_withdraws_a_national_offering_and_drafts_its_own(console: Console, api: Any) -> None:
    line, offering, _ = priced_offering(api)
    assert offering["ownerNode"] == "hq"  # national: the province's word is its own availability item

    def sellable_at_gd() -> bool:
        rows = ok(api.get("gd", "/api/v1/sales/sellableOffering", params={"node": "gd", "limit": 1000}))
        return offering["id"] in {o["id"] for o in rows}

    def own_items() -> list[dict[str, Any]]:
        params = {"productOffering.id": offering["id"], "ownerNode": "gd"}
        return ok(api.get("gd", "/api/v1/sales/offeringAvailability", params=params))

    assert sellable_at_gd()
    console.login("gd", path=f"/sales/catalog/{offering['id']}")
    page = console.page
    page.wait_for_url(f"**/sales/catalog/{offering['id']}")
    toggle = page.get_by_test_id("availability-toggle")
    expect()(toggle).to_have_attribute("aria-checked", "true")
    toggle.click()  # withdrawn in Guangdong: the province's own item, not an edit of the national one
    expect()(page.get_by_test_id("sellable-gd")).to_contain_text("不可售")
    items = own_items()
    assert [i["isAvailable"] for i in items] == [False] and not sellable_at_gd()
    console.shot("47-sales-offering-withdrawn-at-gd")
    page.get_by_test_id("availability-toggle").click()  # and back (the same item, patched)
    expect()(page.get_by_test_id("sellable-gd")).to_contain_text("在 gd 可售")
    assert [(i["id"], i["isAvailable"]) for i in own_items()] == [(items[0]["id"], True)] and sellable_at_gd()

    # a provincial offering drafted in the form: a missing name is refused at the field, then it is created
    page.goto(console.fed.node_url("gd") + f"/sales/catalog?line={line['id']}")
    page.get_by_test_id("new-offering").click()
    modal = page.locator(".ant-modal:visible")
    modal.get_by_role("button", name=re.compile("OK|确定|确 定")).click()
    expect()(modal.locator(".ant-form-item-explain-error").first).to_be_visible()
    name = f"粤 专线草稿 {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("offering-name").fill(name)
    modal.get_by_role("button", name=re.compile("OK|确定|确 定")).click()
    expect()(page.get_by_test_id("offering-table").get_by_role("link", name=name)).to_be_visible()
    created = ok(api.get("gd", f"{TMF620}/productOffering", params={"name": name}))
    assert [(o["ownerNode"], o["lifecycleStatus"], o["category"][0]["id"]) for o in created] == [
        ("gd", "inDesign", line["id"])
    ]


def test_a_price_added_at_the_province_is_in_the_price_table_and_at_the_api(console: Console, api: Any) -> None:
    line, _, _ = priced_offering(api)
    today = datetime.now(UTC).date().isoformat()
    body = {
        "name": f"粤 专线资费 e2e {uuid.uuid4().hex[:6]}",
        "category": [{"id": line["id"]}],
        "lifecycleStatus": "inDesign",
        "validFor": {"startDateTime": today},
    }
    offering = ok(api.post("gd", f"{TMF620}/productOffering", body), 201)
    assert offering["ownerNode"] == "gd" and offering.get("productOfferingPrice", []) == []

    console.login("gd", path=f"/sales/catalog/{offering['id']}")
    page = console.page
    page.wait_for_url(f"**/sales/catalog/{offering['id']}")
    page.get_by_test_id("new-price").click()
    form = page.get_by_test_id("productOfferingPrice-form")
    console.allowed.append("422")  # the refused amount is shown at its field
    form.get_by_test_id("catalog-name").fill("广东 专线 200M 月租")
    form.get_by_test_id("catalog-priceValue").fill("12.345")
    page.locator(".ant-modal:visible").get_by_role("button", name=re.compile("OK|确定|确 定")).click()
    value_item = page.locator(".ant-form-item-has-error", has=page.get_by_test_id("catalog-priceValue"))
    expect()(value_item.locator(".ant-form-item-explain-error")).to_contain_text("decimal")  # the 422 at the field
    form.get_by_test_id("catalog-priceValue").fill("1280.00")
    page.locator(".ant-modal:visible").get_by_role("button", name=re.compile("OK|确定|确 定")).click()
    row = page.get_by_test_id("price-table").locator("tr", has_text="广东 专线 200M 月租")
    expect()(row.get_by_test_id("price-value")).to_have_text("¥1,280.00")
    console.shot("47b-sales-price-added-at-gd")

    stored = ok(api.get("gd", f"{TMF620}/productOffering/{offering['id']}"))
    ids = [p["id"] for p in stored["productOfferingPrice"]]
    assert len(ids) == 1
    price = ok(api.get("gd", f"{TMF620}/productOfferingPrice/{ids[0]}"))
    assert (price["ownerNode"], price["priceType"], price["price"], price["recurringChargePeriodType"]) == (
        "gd",
        "recurring",
        {"unit": "CNY", "value": "1280.00"},
        "month",
    )
    assert price["lifecycleStatus"] == "inDesign"
    # its lifecycle moved in the row: only the allowed moves are offered
    row.get_by_test_id("lifecycle-active").click()
    expect()(row.get_by_test_id("lifecycle-active")).to_have_count(0)
    expect()(row.get_by_test_id("lifecycle-retired")).to_be_visible()
    assert ok(api.get("gd", f"{TMF620}/productOfferingPrice/{ids[0]}"))["lifecycleStatus"] == "active"

    # a local network reads only: no authoring button in its catalogue
    console.login("gd-gz", path=f"/sales/catalog?line={line['id']}")
    page.wait_for_url("**/sales/catalog?line=*")
    expect()(page.get_by_test_id("offering-table")).to_be_visible()
    expect()(page.get_by_test_id("specification-table")).to_be_visible()
    for button in ("new-line", "edit-line", "new-offering", "new-specification", "edit-specification"):
        expect()(page.get_by_test_id(button)).to_have_count(0)


def test_a_quote_is_linked_to_an_open_opportunity_of_its_customer(console: Console, api: Any) -> None:
    _, offering, _ = priced_offering(api)
    customer = ok(api.get("gd-gz", CUSTOMER, params={"limit": 1, "sort": "-name"}))[0]
    name = f"地铁 专线扩容 e2e {uuid.uuid4().hex[:6]}"
    opp = ok(
        api.post(
            "gd-gz",
            "/api/v1/sales/opportunities",
            {"name": name, "customer": {"id": customer["id"]}, "expectedAmount": {"unit": "CNY", "value": "90000.00"}},
        ),
        201,
    )
    number = f"Q-OPP-{uuid.uuid4().hex[:8]}"

    console.login("gd-gz", path="/sales/quotes/new")
    page = console.page
    page.wait_for_url("**/sales/quotes/new")
    form = page.get_by_test_id("quote-form")
    form.get_by_test_id("field-number").fill(number)
    form.get_by_test_id("field-name").fill("专线扩容报价（e2e）")
    form.get_by_test_id("field-customer").click()
    page.keyboard.type(customer["name"])
    console.pick(customer["name"])
    form.get_by_test_id("field-opportunity").click()  # the customer's open opportunities
    console.pick(name)
    form.get_by_test_id("line-offering").click()
    page.keyboard.type(offering["name"])
    console.pick(offering["name"])
    expect()(form.get_by_test_id("line-unitPrice")).not_to_have_value("")
    form.get_by_test_id("save-quote").click()
    page.wait_for_url(re.compile(r".*/sales/quotes/[0-9a-f-]{36}$"))

    stored = ok(api.get("gd-gz", QUOTES, params={"number": number}))
    assert [(q["customer"]["id"], q["opportunity"]["id"]) for q in stored] == [(customer["id"], opp["id"])]
    link = page.get_by_test_id("quote-opportunity")
    expect()(link).to_have_text(name)
    console.shot("44b-sales-quote-linked-to-opportunity")
    link.click()
    page.wait_for_url(f"**/sales/opportunities/{opp['id']}")
