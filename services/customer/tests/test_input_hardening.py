"""Hostile input against the real customer app and PostgreSQL never reaches a 500 (issue 6, findings 8,
9, 10, 14 and the import part of 15): NUL characters, int64 overflow and deep JSON on every path that
takes them, the body limit, bounded XLSX, formula cells in exports, and import errors that never name
what lies outside the token's scope."""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_customer.importexport.schemas import CSV_TYPE, XLSX_TYPE
from kam_platform.db.engine import get_read_session

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
CONTACTS = "/tmf-api/party/v4/individual"
ORGANIZATIONS = "/tmf-api/party/v4/organization"
DESIGNATIONS = "/api/v1/customer/designations"
IMPORTS = "/api/v1/customer/imports"
EXPORTS = "/api/v1/customer/exports"
HEADER = "customerCode,name,industry,grade,parentCustomerCode"


@pytest.fixture
def ie(customer_app: FastAPI, client: httpx.AsyncClient, rollback_conn: AsyncConnection) -> httpx.AsyncClient:
    """The client, with exports (ReadSession) also reading inside the test's transaction."""

    async def read_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(
            bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        ) as session:
            yield session

    customer_app.dependency_overrides[get_read_session] = read_session  # cleared by the client fixture
    return client


@pytest.fixture
async def seeded(ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], customer_body: Any) -> dict[str, str]:
    """A customer and a contact of it, owned by gd-gz."""
    r = await ie.post(CUSTOMERS, json=customer_body(), headers=auth())
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = await ie.post(CONTACTS, json={"givenName": "伟", "familyName": "张", "customer": {"id": cid}}, headers=auth())
    assert r.status_code == 201, r.text
    return {"customer": cid, "contact": r.json()["id"]}


def _assert_refused(r: httpx.Response, *words: str) -> None:
    assert r.status_code in (400, 422), (r.status_code, r.text)
    body = r.json()
    assert body["@type"] == "Error" and body["status"] == str(r.status_code) and body["code"] and body["reason"]
    for w in words:
        assert w in body["message"], body["message"]


async def _count(conn: AsyncConnection, where: str = "true") -> int:
    return int((await conn.execute(text(f"SELECT count(*) FROM customer.customer WHERE {where}"))).scalar_one())


# --- finding 10: NUL characters ------------------------------------------------------------------

NUL_REQUESTS: list[tuple[str, str, dict[str, Any], str]] = [
    # (method, path ({customer}/{contact} filled in), request keyword arguments, parameter named in the error)
    ("GET", CUSTOMERS, {"params": {"q": "银行\x00"}}, "'q'"),
    ("GET", CUSTOMERS, {"params": {"name": "a\x00b"}}, "'name'"),
    ("GET", CUSTOMERS, {"params": {"customerCode": "\x00"}}, "'customerCode'"),
    ("GET", CUSTOMERS, {"params": {"fields": "name\x00"}}, "'fields'"),
    ("GET", CONTACTS, {"params": {"q": "\x00"}}, "'q'"),
    ("GET", ORGANIZATIONS, {"params": {"name": "\x00"}}, "'name'"),
    ("GET", EXPORTS, {"params": {"q": "\x00"}}, "'q'"),
    ("GET", EXPORTS, {"params": {"q": "\x00", "format": "xlsx"}}, "'q'"),
    ("GET", CUSTOMERS + "/{customer}", {"params": {"fields": "\x00"}}, "'fields'"),
    ("GET", CUSTOMERS + "/%00", {}, "path"),
    ("POST", CUSTOMERS, {"json": {"name": "工商\x00银行", "industry": "FINANCE"}}, "name"),
    ("POST", CUSTOMERS, {"json": {"name": "x", "industry": "FINANCE", "characteristic": [{"v\x00": 1}]}}, "NUL"),
    ("PATCH", CUSTOMERS + "/{customer}", {"json": {"description": "\x00"}}, "description"),
    (
        "PATCH",
        CUSTOMERS + "/{customer}",
        {"content": b'{"address": "\\u0000"}', "headers": {"content-type": "application/merge-patch+json"}},
        "address",
    ),
    (
        "PUT",
        "/api/v1/customer/customers/{customer}/account-manager",
        {"json": {"accountManager": "a\x00"}},
        "accountManager",
    ),
    ("POST", CONTACTS, {"json": {"givenName": "\x00", "familyName": "张", "customer": {"id": "x"}}}, "givenName"),
    ("PATCH", CONTACTS + "/{contact}", {"json": {"title": "\x00"}}, "title"),
    ("POST", ORGANIZATIONS, {"json": {"name": "\x00"}}, "name"),
    ("POST", "/api/v1/customer/customers/{customer}/transfer", {"json": {"toNode": "gd-sz\x00"}}, "toNode"),
    ("PUT", DESIGNATIONS + "/{customer}/response", {"json": {"status": "ACCEPTED", "comment": "\x00"}}, "comment"),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "named"), NUL_REQUESTS, ids=[f"{m} {p} {n}" for m, p, _, n in NUL_REQUESTS]
)
async def test_a_nul_character_anywhere_is_a_400_naming_the_parameter(
    ie: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    seeded: dict[str, str],
    rollback_conn: AsyncConnection,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    named: str,
) -> None:
    before = await _count(rollback_conn)
    kwargs = {**kwargs, "headers": {**auth(), **kwargs.get("headers", {})}}
    r = await ie.request(method, path.format(**seeded), **kwargs)
    _assert_refused(r, named)
    assert await _count(rollback_conn) == before


async def test_an_export_with_a_nul_in_q_answers_400_before_any_byte_is_streamed(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], seeded: dict[str, str]
) -> None:
    async with ie.stream("GET", EXPORTS, params={"q": "\x00"}, headers=auth()) as r:
        body = await r.aread()
    assert r.status_code == 400 and json.loads(body)["@type"] == "Error"


async def test_a_csv_import_with_a_nul_in_a_cell_is_refused_and_loads_nothing(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], rollback_conn: AsyncConnection
) -> None:
    lines = [HEADER] + [f"KAGDGZNUL{i:04d},客户{i},FINANCE,B," for i in range(2000)]
    lines[1500] = "KAGDGZNUL9999,坏\x00客户,FINANCE,B,"
    data = ("\n".join(lines) + "\n").encode()
    r = await ie.post(IMPORTS, content=data, headers={**auth(), "content-type": CSV_TYPE})
    _assert_refused(r, "line 1501", "NUL")
    assert await _count(rollback_conn, "customer_code LIKE 'KAGDGZNUL%'") == 0


async def test_an_xlsx_cell_holding_an_escaped_nul_is_a_row_error(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], rollback_conn: AsyncConnection
) -> None:
    sheet = _sheet_xml(
        ['<c r="A1" t="inlineStr"><is><t>customerCode</t></is></c>', *_inline_row(["name", "industry"], "B", 1)]
    )
    sheet = sheet.replace(
        "</sheetData>",
        '<row r="2">'
        + "".join(_inline_row(["KAGDGZX01", "坏_x0000_客户", "FINANCE"], "A", 2))
        + '</row><row r="3">'
        + "".join(_inline_row(["KAGDGZX02", "好客户", "FINANCE"], "A", 3))
        + "</row></sheetData>",
    )
    r = await ie.post(
        IMPORTS, content=_xlsx({"xl/worksheets/sheet1.xml": sheet}), headers={**auth(), "content-type": XLSX_TYPE}
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["created"], result["rejected"]) == (1, 1), result
    assert result["errors"] == [{"row": 2, "column": "name", "message": "NUL characters are not allowed"}]


# --- finding 10: integers beyond int64, and beyond the int32 LIMIT/OFFSET binds -----------------

BIG = ["9223372036854775808", "100000000000000000000", "2147483648", "9" * 5000]
PAGED = [
    CUSTOMERS,
    CONTACTS,
    ORGANIZATIONS,
    DESIGNATIONS,
    EXPORTS,
    "/api/v1/customer/customers/{customer}/history",
    "/api/v1/customer/customers/{customer}/account-managers",
]
OVERFLOW = (
    [(p, k, v) for p in PAGED for k in ("offset", "limit") for v in BIG]
    + [(CUSTOMERS, "version.gt", v) for v in BIG]
    + [(CONTACTS, "version.lte", BIG[0]), (EXPORTS, "version.gte", BIG[1])]
)


@pytest.mark.parametrize(("path", "param", "value"), OVERFLOW, ids=[f"{p} {k}={v[:12]}" for p, k, v in OVERFLOW])
async def test_an_integer_beyond_int64_in_paging_or_filters_is_a_400(
    ie: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    seeded: dict[str, str],
    path: str,
    param: str,
    value: str,
) -> None:
    r = await ie.get(path.format(**seeded), params={param: value}, headers=auth())
    if value == "2147483648" and r.status_code == 200:
        return  # within int64 (beyond the int32 a LIMIT binds to): an empty page is a fine answer too
    _assert_refused(r, param.split(".")[0])


# --- finding 10: JSON nested beyond the parsers' recursion limit ------------------------------

DEEP = [
    ("POST", CUSTOMERS, b"[" * 1000 + b"]" * 1000),
    ("POST", CUSTOMERS, b'{"name":' * 5000 + b'"x"' + b"}" * 5000),
    ("PATCH", CUSTOMERS + "/{customer}", b'{"characteristic":' + b"[" * 3000 + b"]" * 3000 + b"}"),
    ("POST", CONTACTS, b'{"customer":' * 1000 + b"{}" + b"}" * 1000),
    ("PUT", "/api/v1/customer/customers/{customer}/account-manager", b"[" * 100_000 + b"]" * 100_000),
]


@pytest.mark.parametrize(("method", "path", "body"), DEEP, ids=[f"{m} {p} {len(b)}" for m, p, b in DEEP])
async def test_json_nested_a_thousand_levels_deep_is_a_400(
    ie: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    seeded: dict[str, str],
    method: str,
    path: str,
    body: bytes,
) -> None:
    headers = {**auth(), "content-type": "application/json"}
    _assert_refused(await ie.request(method, path.format(**seeded), content=body, headers=headers), "nested")


# --- finding 8: the body limit by exact media type and route -----------------------------------


async def test_a_json_body_with_a_csv_parameter_keeps_the_json_limit_and_is_not_parsed(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], rollback_conn: AsyncConnection, customer_app: FastAPI
) -> None:
    limit = customer_app.state.settings.max_body_bytes
    body = json.dumps({"name": "超大请求体客户", "industry": "FINANCE", "description": "x" * 10}).encode()
    padded = body[:-1] + b" " * (2 * limit) + b"}"
    for ctype in ("application/json; x=csv", "application/json; charset=spreadsheet", "text/csv"):
        r = await ie.post(CUSTOMERS, content=padded, headers={**auth(), "content-type": ctype})
        assert r.status_code == 413, (ctype, r.text)
        assert r.json()["code"] == "PAYLOAD_TOO_LARGE" and str(limit) in r.json()["message"]
    # the import route takes a large CSV, but not a large JSON body
    r = await ie.post(IMPORTS, content=padded, headers={**auth(), "content-type": "application/json; x=csv"})
    assert r.status_code == 413, r.text
    assert await _count(rollback_conn, "name = '超大请求体客户'") == 0
    rows = [HEADER] + [f"KAGDGZBIG{i:05d},大文件客户{i},FINANCE,B," for i in range(2 * limit // 30)]
    csv_file = ("\n".join(rows) + "\n").encode()
    assert len(csv_file) > limit
    r = await ie.post(IMPORTS, content=csv_file, headers={**auth(), "content-type": "text/csv; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == len(rows) - 1


# --- finding 9: bounded XLSX --------------------------------------------------------------------


def _inline_row(values: list[str], first_col: str, row: int) -> list[str]:
    return [
        f'<c r="{chr(ord(first_col) + i)}{row}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values)
    ]


def _sheet_xml(first_row_cells: list[str]) -> str:
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{"".join(first_row_cells)}</row></sheetData></worksheet>'
    )


def _xlsx(parts: dict[str, str | bytes], *, shared_strings: bool = False) -> bytes:
    """A minimal workbook: workbook.xml, its relationships and the given parts."""
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        + (
            '<Relationship Id="rId2" Target="sharedStrings.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
            if shared_strings
            else ""
        )
        + "</Relationships>"
    )
    workbook = (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="customers" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", rels)
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


HEADER_CELLS = _inline_row(["customerCode", "name", "industry"], "A", 1)


async def test_an_xlsx_with_a_million_shared_strings_is_refused_naming_the_bound(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "<si><t>a</t></si>" * 1_000_000
        + "</sst>"
    )
    data = _xlsx(
        {"xl/worksheets/sheet1.xml": _sheet_xml(HEADER_CELLS), "xl/sharedStrings.xml": strings}, shared_strings=True
    )
    assert len(data) < 200_000  # a small upload that inflates to a million strings
    r = await ie.post(IMPORTS, content=data, headers={**auth(), "content-type": XLSX_TYPE})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE" and "shared-strings" in r.json()["message"]


@pytest.mark.parametrize(
    ("sheet", "bound"),
    [
        (
            _sheet_xml(HEADER_CELLS).replace(
                "</sheetData>",
                '<row r="99999999"><c r="A99999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
            ),
            "rows",
        ),
        (_sheet_xml(HEADER_CELLS + ['<c t="inlineStr"><is><t>x</t></is></c>'] * 300), "column"),
        (_sheet_xml([*HEADER_CELLS, '<c r="XFD1"><v>1</v></c>']), "column"),
    ],
    ids=["row far away", "a row of many cells", "a cell at column XFD"],
)
async def test_an_xlsx_beyond_the_row_or_column_bounds_is_refused(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], sheet: str, bound: str
) -> None:
    r = await ie.post(
        IMPORTS, content=_xlsx({"xl/worksheets/sheet1.xml": sheet}), headers={**auth(), "content-type": XLSX_TYPE}
    )
    assert r.status_code == 413, r.text
    assert r.json()["@type"] == "Error" and bound in r.json()["message"]


@pytest.mark.parametrize(
    "parts",
    [
        {"xl/worksheets/sheet1.xml": "<worksheet><sheetData><row><c>"},
        {"xl/worksheets/sheet1.xml": _sheet_xml(HEADER_CELLS), "xl/workbook.xml": "<workbook><sheets>"},
        {"xl/worksheets/sheet1.xml": _sheet_xml(['<c r="A1" t="s"><v>7</v></c>'])},
        {"xl/worksheets/sheet1.xml": _sheet_xml(['<c r="A1"><v>not a number</v></c>'])},
        {"xl/worksheets/sheet1.xml": _sheet_xml(['<c r="1A"><v>1</v></c>'])},
        {},
    ],
    ids=[
        "truncated sheet XML",
        "truncated workbook XML",
        "missing shared string",
        "bad number",
        "bad cell ref",
        "no sheet",
    ],
)
async def test_a_malformed_xlsx_is_a_422(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], parts: dict[str, str]
) -> None:
    buf = io.BytesIO(_xlsx({}))
    with zipfile.ZipFile(buf) as zf:
        base = {n: zf.read(n) for n in zf.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in {**base, **parts}.items():
            zf.writestr(name, data)
    r = await ie.post(IMPORTS, content=out.getvalue(), headers={**auth(), "content-type": XLSX_TYPE})
    assert r.status_code == 422, r.text
    assert r.json()["@type"] == "Error" and r.json()["details"]["field"] == "file"


# --- finding 14: formula cells in exports ------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "@SUM(A1:A9)", "+86 20 1234", "-1+1", "'=quoted already"]


async def test_formula_cells_are_neutralised_in_csv_and_xlsx_exports_and_import_restores_them(
    ie: httpx.AsyncClient, auth: Callable[..., dict[str, str]], rollback_conn: AsyncConnection
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["customerCode", "name", "industry", "address"])
    for i, value in enumerate(FORMULAS):
        writer.writerow([f"KAGDGZFML{i:04d}", value, "FINANCE", "\t=cmd|' /C calc'!A0"])
    r = await ie.post(IMPORTS, content=buf.getvalue().encode(), headers={**auth(), "content-type": CSV_TYPE})
    assert r.status_code == 200 and r.json()["created"] == len(FORMULAS), r.text
    # a file's leading quote before a formula start is the escape (removed on import), so a value that
    # really starts with one is set directly here: its export gets a second quote
    await rollback_conn.execute(
        text("UPDATE customer.customer SET name = :n WHERE customer_code = 'KAGDGZFML0004'"), {"n": FORMULAS[4]}
    )

    codes = ",".join(f"KAGDGZFML{i:04d}" for i in range(len(FORMULAS)))
    r = await ie.get(EXPORTS, params={"customerCode": codes}, headers=auth())
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == ["'" + v for v in FORMULAS]
    assert {row["address"] for row in rows} == {"'=cmd|' /C calc'!A0"}  # import had stripped the tab
    assert all(not v or v[0] not in "=+-@\t\r" for row in rows for v in row.values())

    x = await ie.get(EXPORTS, params={"customerCode": codes, "format": "xlsx"}, headers=auth())
    ws = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True).worksheets[0]
    cells = [str(c) for row in ws.iter_rows(min_row=2, values_only=True) for c in row if c is not None]
    assert "'" + FORMULAS[0] in cells and all(c[0] not in "=+-@\t\r" for c in cells)

    # both exports import back to the original values (the quote is removed again)
    await rollback_conn.execute(
        text("UPDATE customer.customer SET name = 'changed' WHERE customer_code LIKE 'KAGDGZFML%'")
    )
    for content, ctype in ((r.content, CSV_TYPE), (x.content, XLSX_TYPE)):
        again = await ie.post(IMPORTS, content=content, headers={**auth(), "content-type": ctype})
        assert again.status_code == 200 and again.json()["updated"] == len(FORMULAS), again.text
        names = (
            (
                await rollback_conn.execute(
                    text(
                        "SELECT name FROM customer.customer WHERE customer_code LIKE 'KAGDGZFML%' ORDER BY customer_code"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert names == FORMULAS


# --- finding 15 (import): nothing outside the token's scope is named ----------------------------


async def test_import_row_errors_say_not_found_for_records_outside_the_scope(
    ie: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    insert_customer: Callable[..., Any],
    rollback_conn: AsyncConnection,
) -> None:
    # gd-sz's records (a replica at this database) are outside a gd-gz token's scope
    await insert_customer("gd-sz", "深圳机密客户", customer_code="KASZ0001")
    await insert_customer("gd-sz", "深圳机密集团", customer_code="KASZ0002", customer_type="SINGLE")
    await insert_customer("gd-sz", "深圳机密总部", customer_code="KASZ0003", customer_type="GROUP_CUSTOMER")
    data = csv_text(
        "KASZ0001,想覆盖,FINANCE,B,",
        "KAGDGZ0001,子公司,FINANCE,B,KASZ0002",
        "KAGDGZ0002,子公司二,FINANCE,B,KASZ0003",
    )
    r = await ie.post(IMPORTS, content=data, headers={**auth(), "content-type": CSV_TYPE})
    assert r.status_code == 200, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "customerCode"),
        (3, "parentCustomerCode"),
        (4, "parentCustomerCode"),
    ]
    for e in errors:
        assert "not found" in e["message"], e
        assert "gd-sz" not in e["message"] and "深圳" not in e["message"] and "group" not in e["message"], e
    assert await _count(rollback_conn, "customer_code LIKE 'KAGDGZ0%'") == 0


def csv_text(*rows: str) -> bytes:
    return codecs.BOM_UTF8 + ("\n".join([HEADER, *rows]) + "\n").encode()
