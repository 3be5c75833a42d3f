"""A quote as a document for the customer (报价单): XLSX (xlsxwriter) and PDF (`kam_sales.pdf`)."""

from __future__ import annotations

import io
from decimal import Decimal

import xlsxwriter

from kam_sales.models import Quote
from kam_sales.pdf import A4, Document, width

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
HEAD = ("序号 No.", "产品 Offering", "数量 Qty", "单价 Unit price", "折扣 Discount %", "金额 Amount")
STATE = {
    "inProgress": "编制中",
    "pending": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "accepted": "已接受",
    "cancelled": "已作废",
    "superseded": "已被新版本取代",
}


def _header(q: Quote) -> list[tuple[str, str]]:
    return [
        ("报价单号 Quote", f"{q.number} v{q.quote_version}"),
        ("名称 Name", q.name),
        ("客户 Customer", str(q.customer_id)),
        ("客户经理 Account manager", q.account_manager),
        ("状态 State", f"{STATE.get(q.status, q.status)} ({q.status})"),
        ("有效期至 Valid until", q.valid_until.isoformat() if q.valid_until else "—"),
        ("币种 Currency", q.currency),
    ]


def file_name(q: Quote, ext: str) -> str:
    return f"quote-{q.number}-v{q.quote_version}.{ext}"


def xlsx(q: Quote) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("报价单")
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 5, 16)
    row = 0
    for label, value in _header(q):
        sheet.write_string(row, 0, label, bold)
        sheet.write_string(row, 1, value)
        row += 1
    row += 1
    for col, h in enumerate(HEAD):
        sheet.write_string(row, col, h, bold)
    for it in q.items:
        row += 1
        sheet.write_string(row, 0, str(it["id"]))
        sheet.write_string(row, 1, str(it["productOffering"]["name"]))
        sheet.write_number(row, 2, int(it["quantity"]))
        # numbers in cells (so the customer can sum them); the decimal strings stay exact to the cent
        sheet.write_number(row, 3, float(Decimal(it["unitPrice"]["value"])), money)
        sheet.write_number(row, 4, float(Decimal(it["discountPercent"])))
        sheet.write_number(row, 5, float(Decimal(it["amount"]["value"])), money)
    row += 2
    sheet.write_string(row, 4, "小计 Subtotal", bold)
    sheet.write_number(row, 5, float(q.subtotal), money)
    sheet.write_string(row + 1, 4, "合计 Total", bold)
    sheet.write_number(row + 1, 5, float(q.total), money)
    book.close()
    return buf.getvalue()


def _fit(text: str, size: float, room: float) -> str:
    while text and width(text, size) > room:
        text = text[:-1]
    return text


def pdf(q: Quote) -> bytes:
    doc = Document(title=f"报价单 {q.number} v{q.quote_version}")
    cols = (40.0, 75.0, 285.0, 325.0, 415.0, 475.0)  # x of each column
    margin, line = 60.0, 16.0
    page = doc.page()
    y = A4[1] - margin
    page.text(cols[0], y, "报价单 Quotation", size=18)
    y -= 2 * line
    for label, value in _header(q):
        page.text(cols[0], y, label, size=10)
        page.text(cols[2] - 90, y, _fit(value, 10, A4[0] - cols[2] + 40), size=10)
        y -= line
    y -= line

    def head() -> None:
        nonlocal y
        for x, h in zip(cols, HEAD, strict=True):
            page.text(x, y, h.split(" ")[0], size=10)
        page.line(cols[0], y - 4, A4[0] - 40, y - 4)
        y -= line

    head()
    for it in q.items:
        if y < margin + 3 * line:
            page = doc.page()
            y = A4[1] - margin
            head()
        cells = (
            str(it["id"]),
            _fit(str(it["productOffering"]["name"]), 9, cols[2] - cols[1] - 6),
            str(it["quantity"]),
            str(it["unitPrice"]["value"]),
            str(it["discountPercent"]),
            str(it["amount"]["value"]),
        )
        for x, c in zip(cols, cells, strict=True):
            page.text(x, y, c, size=9)
        y -= line
    page.line(cols[0], y + 8, A4[0] - 40, y + 8)
    y -= line / 2
    page.text(cols[4], y, f"小计 Subtotal  {q.subtotal} {q.currency}", size=10)
    page.text(cols[4], y - line, f"合计 Total  {q.total} {q.currency}", size=10)
    return doc.render()
