"""Browser test of the customer's 360 view panels fed by the sales and service services (issues 11, 12):
an opportunity and a ticket opened at gd-gz through the API are in the customer's panels, each panel
counting what the API counts (X-Total-Count); a PDF uploaded in the browser is stored (version 1, the
sha256 of its bytes), previews from a blob URL holding exactly those bytes, and a new version uploaded
in the browser shows as version 2 — on the session's e2e federation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import CUSTOMER, Console

OPPORTUNITIES = "/api/v1/sales/opportunities"
TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
DOCUMENTS = "/api/v1/service/document"
OPEN = "acknowledged,inProgress,pending,resolved"


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF with one line of text (offsets of the cross-reference table computed)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def total(api: Any, path: str, params: dict[str, str]) -> int:
    r = api.get("gd-gz", path, params={**params, "limit": 1})
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def test_sales_and_service_panels_count_what_the_api_counts_and_a_pdf_is_uploaded_and_previewed(
    console: Console, api: Any, tmp_path: Any
) -> None:
    customer = api.get(
        "gd-gz", CUSTOMER, params={"limit": 1, "offset": 3, "ownerNode": "gd-gz", "sort": "name"}
    ).json()[0]
    cid = customer["id"]
    follow_up = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    opp = api.post(
        "gd-gz",
        OPPORTUNITIES,
        {
            "name": "360 视图 专线扩容（e2e）",
            "customer": {"id": cid},
            "stage": "QUALIFIED",
            "expectedAmount": {"unit": "CNY", "value": "360000.00"},
            "closeDate": "2027-06-30",
            "nextFollowUp": {"at": follow_up, "note": "方案交流"},
        },
    )
    assert opp.status_code == 201, opp.text
    ticket = api.post(
        "gd-gz",
        TICKETS,
        {
            "name": "360 视图 专线中断（e2e）",
            "ticketType": "FAULT",
            "channel": "ACCOUNT_MANAGER",
            "priority": "HIGH",
            "relatedParty": [{"id": cid, "role": "customer"}],
            "affectedService": "GZ-MPLS-0360",
        },
    )
    assert ticket.status_code == 201, ticket.text
    opps = total(api, OPPORTUNITIES, {"customer.id": cid})
    open_tickets = total(api, TICKETS, {"relatedParty.id": cid, "status": OPEN})
    assert opps >= 1 and open_tickets >= 1

    console.login("gd-gz", path=f"/customers/{cid}")
    page = console.page
    expect()(page.get_by_test_id("customer-name")).to_have_text(customer["name"])
    # the sales panel: the API's count, the new deal with its stage and amount, a link to its detail
    panel = page.get_by_test_id("c360-opportunities")
    expect()(page.get_by_test_id("c360-opportunities-count")).to_have_text(str(opps))
    row = panel.locator("tr", has_text="360 视图 专线扩容（e2e）")
    expect()(row).to_contain_text("已确认")
    expect()(row).to_contain_text("¥360,000.00")
    expect()(row.get_by_role("link")).to_have_attribute("href", f"/sales/opportunities/{opp.json()['id']}")
    # the service panel: open tickets first, the API's count, the SLA state of the new ticket
    tickets = page.get_by_test_id("c360-tickets")
    expect()(page.get_by_test_id("c360-tickets-count")).to_have_text(str(open_tickets))
    trow = tickets.locator("tr", has_text="360 视图 专线中断（e2e）")
    expect()(trow.get_by_role("link")).to_have_attribute("href", f"/service/tickets/{ticket.json()['id']}")
    assert ticket.json()["sla"] is not None  # the seeded national SLA rule
    expect()(page.get_by_test_id(f"c360-sla-{ticket.json()['id']}")).to_have_attribute("data-state", "running")
    expect()(page.get_by_test_id("c360-new-ticket")).to_have_attribute("href", f"/service/tickets/new?customer={cid}")

    # a PDF uploaded in the browser: stored as version 1 with the sha256 of its bytes
    first = tiny_pdf("KAM 360 e2e v1")
    pdf = tmp_path / "scheme-v1.pdf"
    pdf.write_bytes(first)
    page.get_by_test_id("c360-doc-new").click()
    page.get_by_test_id("c360-doc-title").fill("政企专线方案（e2e）")
    page.locator(".ant-modal input[type=file]").set_input_files(str(pdf))
    page.get_by_test_id("c360-doc-submit").click()
    docs = page.get_by_test_id("c360-documents")
    expect()(docs.locator("tr", has_text="政企专线方案（e2e）")).to_contain_text("v1 · scheme-v1.pdf")
    stored = api.get("gd-gz", DOCUMENTS, params={"relatedParty.id": cid, "title": "政企专线方案（e2e）"}).json()
    assert len(stored) == 1, stored
    doc = stored[0]
    assert doc["currentVersion"] == 1 and [v["number"] for v in doc["versions"]] == [1]
    assert doc["versions"][0]["sha256"] == hashlib.sha256(first).hexdigest()
    assert doc["versions"][0]["contentType"] == "application/pdf" and doc["versions"][0]["size"] == len(first)
    expect()(page.get_by_test_id("c360-documents-count")).to_have_text(
        str(total(api, DOCUMENTS, {"relatedParty.id": cid}))
    )

    # its preview: a frame on a blob URL that holds exactly the uploaded bytes
    page.get_by_test_id(f"c360-doc-preview-{doc['id']}").click()
    frame = page.get_by_test_id("c360-preview-pdf")
    expect()(frame).to_be_visible()
    src = frame.get_attribute("src")
    assert src and src.startswith("blob:"), src
    shown = page.evaluate("""async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))""", src)
    assert hashlib.sha256(bytes(shown)).hexdigest() == hashlib.sha256(first).hexdigest()
    console.shot("50-customer-360-pdf-preview")
    page.keyboard.press("Escape")
    expect()(frame).to_have_count(0)

    # a new version uploaded in the browser is version 2
    second = tiny_pdf("KAM 360 e2e v2 revised")
    pdf2 = tmp_path / "scheme-v2.pdf"
    pdf2.write_bytes(second)
    page.get_by_test_id(f"c360-doc-upload-{doc['id']}").locator("input[type=file]").set_input_files(str(pdf2))
    expect()(page.get_by_test_id(f"c360-doc-version-{doc['id']}")).to_have_attribute("data-version", "2")
    expect()(page.get_by_test_id(f"c360-doc-version-{doc['id']}")).to_contain_text("v2 · scheme-v2.pdf")
    after = api.get("gd-gz", f"{DOCUMENTS}/{doc['id']}").json()
    assert after["currentVersion"] == 2, after
    assert [v["number"] for v in after["versions"]] == [1, 2]
    assert after["versions"][1]["sha256"] == hashlib.sha256(second).hexdigest()
    console.shot("51-customer-360")
