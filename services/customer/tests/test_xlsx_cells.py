"""XLSX cells read as the sheet shows them: long numbers, zero-padded codes, formulas, and exports that
continue on further worksheets (issue 7: "XLSX numeric cells, formula cells, exports beyond 1,048,575
rows"). Workbooks are written by xlsxwriter (what our export and many tools use) and openpyxl (which
writes formulas without calculated values), imported through the real API into real PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from sqlalchemy import text

from kam_customer.importexport import service as ie_service
from kam_customer.importexport import xlsx
from kam_customer.importexport.schemas import EXPORT_HEADER, XLSX_TYPE

from .test_importexport import csv_body, post_csv
from .test_importexport import ie as ie

EXPORTS = "/api/v1/customer/exports"


def workbook(
    tmp_path: Path, sheets: dict[str, list[list[Any]]], formats: dict[tuple[str, int, int], str] | None = None
) -> Path:
    """An XLSX written by xlsxwriter; `formats` gives a number format per (sheet, row, col)."""
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    cache: dict[str, Any] = {}
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                code = (formats or {}).get((name, r, c))
                fmt = cache.setdefault(code, wb.add_format({"num_format": code})) if code else None
                if isinstance(value, tuple):  # ("=formula", cached result)
                    ws.write_formula(r, c, value[0], fmt, value[1])
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, fmt)
                elif value is not None:
                    ws.write_string(r, c, value, fmt)
    wb.close()
    return path


def test_an_18_digit_number_cell_is_flagged_not_rounded(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"s": [["code"], [123456789012345678], [123456789012345]]})
    rows = list(xlsx.read_rows(path))
    flagged = rows[1][0]
    assert isinstance(flagged, xlsx.ImpreciseNumber)
    assert flagged.raw.upper().startswith("1.2345678901234") and "E+17" in flagged.raw.upper()
    assert rows[2][0] == 123456789012345  # 15 digits are exact in Excel, and stay a number


def test_a_zero_padded_number_format_keeps_the_leading_zeros(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"s": [["code", "n"], [1234, 1234]]}, formats={("s", 1, 0): "00000000"})
    assert list(xlsx.read_rows(path))[1] == ["00001234", 1234]


def test_formula_cells_read_their_result_or_say_there_is_none(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"s": [["a", "b", "c"], [("=1+1", 2), ('="KA"&"0001"', "KA0001"), 3]]})
    assert list(xlsx.read_rows(path))[1] == [2, "KA0001", 3]
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    wb.active.append(["=A1&B1", "x"])  # openpyxl stores the formula and no result
    uncalculated = tmp_path / "openpyxl.xlsx"
    wb.save(uncalculated)
    row = list(xlsx.read_rows(uncalculated))[1]
    assert row[0] == xlsx.UncalculatedFormula("A1&B1") and row[1] == "x"


def test_every_worksheet_is_read_in_order(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"one": [["h"], ["a"]], "two": [["h"], ["b"]], "three": []})
    sheets = [(s.name, list(s.rows)) for s in xlsx.read_sheets(path)]
    assert sheets == [("one", [["h"], ["a"]]), ("two", [["h"], ["b"]]), ("three", [])]


def test_the_cell_limit_counts_the_whole_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"one": [["a", "b"]], "two": [["c", "d"]]})
    limits = xlsx.XlsxLimits(max_cells=3)
    read: list[list[Any]] = []

    def read_all() -> None:
        for sheet in xlsx.read_sheets(path, limits):
            read.extend(sheet.rows)

    with pytest.raises(xlsx.XlsxTooLarge, match="more than 3 cells"):
        read_all()
    assert read == [["a", "b"]]  # the first sheet's two cells passed; the second sheet crossed the bound


HEADER = ["customerCode", "name", "industry", "creditCode"]


async def test_import_refuses_a_credit_code_excel_rounded_and_keeps_zero_padded_staff_numbers(
    ie, auth, rollback_conn, tmp_path: Path
) -> None:
    header = [*HEADER, "accountManager"]
    path = workbook(
        tmp_path,
        {
            "customers": [
                header,
                ["KAGDGZNUM0001", "广州甲公司", "FINANCE", 124401004550000001, None],
                ["KAGDGZNUM0002", "广州乙公司", "FINANCE", None, 123],
            ]
        },
        formats={("customers", 2, 4): "00000"},
    )
    r = await post_csv(ie, auth("gd-gz"), path.read_bytes(), XLSX_TYPE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["rejected"]) == (1, 1), body
    (error,) = body["errors"]
    assert (error["row"], error["column"]) == (2, "creditCode")
    assert "more than 15 digits" in error["message"] and "文本" in error["message"]
    rows = (
        await rollback_conn.execute(
            text("SELECT customer_code, account_manager FROM customer.customer WHERE customer_code LIKE 'KAGDGZNUM%'")
        )
    ).all()
    assert [tuple(r) for r in rows] == [("KAGDGZNUM0002", "00123")]


async def test_import_reports_a_formula_without_a_value(ie, auth, rollback_conn, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(["KAGDGZFML0001", '="广州"&"丙公司"', "FINANCE", None])
    buf = io.BytesIO()
    wb.save(buf)
    body = (await post_csv(ie, auth("gd-gz"), buf.getvalue(), XLSX_TYPE)).json()
    assert (body["created"], body["rejected"]) == (0, 1), body
    assert body["errors"][0]["column"] == "name" and "without a calculated value" in body["errors"][0]["message"]


async def test_import_reads_continuation_sheets_and_passes_over_other_sheets(ie, auth, rollback_conn, tmp_path) -> None:
    path = workbook(
        tmp_path,
        {
            "customers": [HEADER, ["KAGDGZSHT0001", "广州一号公司", "FINANCE", None]],
            "customers2": [
                HEADER,
                ["KAGDGZSHT0002", "广州二号公司", "FINANCE", None],
                ["KAGDGZSHT0003", "", "NOPE", None],
            ],
            "说明": [["填写说明"], ["客户编码必填"]],
        },
    )
    body = (await post_csv(ie, auth("gd-gz"), path.read_bytes(), XLSX_TYPE)).json()
    assert (body["received"], body["created"], body["rejected"]) == (3, 2, 1), body
    assert {(e["sheet"], e["row"]) for e in body["errors"]} == {("customers2", 3)}
    codes = (
        (
            await rollback_conn.execute(
                text("SELECT customer_code FROM customer.customer WHERE customer_code LIKE 'KAGDGZSHT%' ORDER BY 1")
            )
        )
        .scalars()
        .all()
    )
    assert codes == ["KAGDGZSHT0001", "KAGDGZSHT0002"]


async def test_an_export_that_spills_into_more_sheets_re_imports_whole(
    ie, auth, rollback_conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the sheet size is Excel's 1,048,576 rows; a small one exercises the same spill with 7 customers
    rows = [f"KAGDGZSPL{i:04d},广州溢出{i}号公司,SINGLE,FINANCE,B,ACTIVE,,,," for i in range(7)]
    assert (await post_csv(ie, auth("gd-gz"), csv_body(*rows))).json()["created"] == 7
    monkeypatch.setattr(ie_service, "XLSX_MAX_ROWS", 4)  # a header and 3 customers per sheet
    r = await ie.get(EXPORTS, params={"format": "xlsx", "q": "广州溢出"}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert [len(list(ws.iter_rows())) for ws in wb.worksheets] == [4, 4, 2]
    assert all(next(ws.iter_rows(values_only=True)) == tuple(EXPORT_HEADER) for ws in wb.worksheets)
    await rollback_conn.execute(text("UPDATE customer.customer SET grade = 'C' WHERE customer_code LIKE 'KAGDGZSPL%'"))
    again = (await post_csv(ie, auth("gd-gz"), r.content, XLSX_TYPE)).json()
    assert (again["received"], again["updated"], again["rejected"]) == (7, 7, 0), again
    grades = (
        (
            await rollback_conn.execute(
                text("SELECT DISTINCT grade FROM customer.customer WHERE customer_code LIKE 'KAGDGZSPL%'")
            )
        )
        .scalars()
        .all()
    )
    assert grades == ["B"]
