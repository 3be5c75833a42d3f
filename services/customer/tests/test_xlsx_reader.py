"""The worksheet reader on expat's callbacks (`importexport.xlsx._rows`, issue 13) reads every cell as the
ElementTree `iterparse` reader before it did — kept here as the reference — on workbooks written by
xlsxwriter (inline and shared strings), openpyxl (formulas without results) and by hand (prefixed tags,
rich text with phonetic hints, escapes, cells without references, rows left out, several `<v>`), block
boundaries falling anywhere; and its bounds and damage answers are the same."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter

from kam_customer.importexport import xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _reference_text(element: ET.Element) -> str:
    parts: list[str] = []
    for child in element:
        name = xlsx._local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if xlsx._local(t.tag) == "t")
    return xlsx._unescape("".join(parts))


def reference_shared_strings(fh: IO[bytes], usable: int, limits: xlsx.XlsxLimits) -> list[str]:
    """The shared-strings reader before (ElementTree's iterparse), as it was."""
    strings: list[str] = []
    chars = 0
    root: ET.Element | None = None
    for event, element in ET.iterparse(fh, events=("start", "end")):
        if root is None:
            root = element
        if event != "end" or xlsx._local(element.tag) != "si":
            continue
        if len(strings) >= usable:
            raise xlsx.XlsxTooLarge("too many shared strings")
        text = _reference_text(element)
        chars += len(text)
        if chars > limits.max_shared_chars:
            raise xlsx.XlsxTooLarge("too many shared characters")
        strings.append(text)
        root.clear()
    return strings


def _reference_value(cell: ET.Element, strings: list[str], padding: dict[int, int]) -> Any:
    kind = cell.get("t", "n")
    v: str | None = None
    formula: str | None = None
    inline: ET.Element | None = None
    for child in cell:
        name = xlsx._local(child.tag)
        if name == "v":
            v = child.text
        elif name == "is":
            inline = child
        elif name == "f":
            formula = child.text or ""
    if kind == "inlineStr":
        return _reference_text(inline) if inline is not None else None
    if v is None:
        return xlsx.UncalculatedFormula(formula) if formula is not None else None
    if kind == "s":
        return strings[int(v)]
    if kind == "b":
        return v.strip() == "1"
    if kind in ("str", "e", "d"):
        return xlsx._unescape(v)
    return xlsx._number(v.strip(), cell.get("r"), cell.get("s"), padding)


def reference_rows(
    fh: IO[bytes], strings: list[str], padding: dict[int, int], cells: Any, limits: xlsx.XlsxLimits
) -> Iterator[list[Any]]:
    """The reader before (ElementTree's iterparse), as it was."""
    row_no = 0
    current: dict[int, Any] = {}
    next_col = 0
    row_element: ET.Element | None = None
    declared_row: int | None = None
    for event, element in ET.iterparse(fh, events=("start", "end")):
        name = xlsx._local(element.tag)
        if event == "start":
            if name == "row":
                row_element, current, next_col = element, {}, 0
                r = element.get("r")
                declared_row = int(r) if r and r.isdigit() else None
            continue
        if name == "c" and row_element is not None:
            col, _ = xlsx._column(element.get("r"), next_col)
            if col >= limits.max_columns or len(current) >= limits.max_columns:
                raise xlsx.XlsxTooLarge(f"a row has cells beyond column {limits.max_columns}")
            cells.add()
            value = _reference_value(element, strings, padding)
            if value is not None:
                current[col] = value
            next_col = col + 1
        elif name == "row":
            number = declared_row if declared_row is not None and declared_row > row_no else row_no + 1
            if number > limits.max_rows:
                raise xlsx.XlsxTooLarge(f"the worksheet has more than {limits.max_rows} rows")
            while row_no < number - 1:
                row_no += 1
                yield []
            row_no = number
            width = max(current) + 1 if current else 0
            yield [current.get(i) for i in range(width)]
            row_element = None


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, rows: Any, strings: Any) -> list[tuple[str, list[list[Any]]]]:
    with monkeypatch.context() as m:
        m.setattr(xlsx, "_rows", rows)
        m.setattr(xlsx, "_shared_strings", strings)
        return [(sheet.name, [_plain(r) for r in sheet.rows]) for sheet in xlsx.read_sheets(path)]


def _plain(row: list[Any]) -> list[Any]:
    # the value and its type: 1 and 1.0 and True are not the same cell
    return [(type(v).__name__, getattr(v, "raw", v)) for v in row]


def _same_as_before(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[list[Any]]]]:
    before = _read(path, monkeypatch, reference_rows, reference_shared_strings)
    for block in (1 << 16, 7, 1):  # block boundaries anywhere: inside tags, text and multi-byte characters
        with monkeypatch.context() as m:
            m.setattr(xlsx, "_BLOCK", block)
            assert _read(path, monkeypatch, xlsx._rows, xlsx._shared_strings) == before, block
    return before


def _xlsxwriter_book(path: Path, *, constant_memory: bool) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    zeros = wb.add_format({"num_format": "000000"})
    ws = wb.add_worksheet("customers")
    ws.write_row(0, 0, ["客户编码", "客户名称", "数字", "布尔", "公式"])
    for r in range(1, 40):
        ws.write_string(r, 0, f"KAGDGZ{r:06d}")
        ws.write_string(r, 1, f"广州{r}号银行有限公司\r\n第二行 _x000D_ & <tag>")
        ws.write_number(r, 2, r * 1.5)
        ws.write_boolean(r, 3, r % 2 == 0)
        ws.write_formula(r, 4, f"=C{r + 1}*2", None, r * 3)
        ws.write_number(r, 5, 123, zeros)
        ws.write_number(r, 6, 123456789012345678)
    ws.write_string(60, 1, "a row after rows left out")
    other = wb.add_worksheet("说明")
    other.write_string(0, 0, "notes")
    wb.close()
    return path


def test_xlsxwriter_workbooks_inline_and_shared_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for memory in (True, False):
        rows = _same_as_before(_xlsxwriter_book(tmp_path / f"w{memory}.xlsx", constant_memory=memory), monkeypatch)
        assert rows[0][1][1][1] == ("str", "广州1号银行有限公司\r\n第二行 _x000D_ & <tag>")
        assert len(rows[0][1]) == 61 and rows[0][1][59] == []


def test_openpyxl_workbook_with_formulas_without_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "值", "公式"])
    for r in range(2, 20):
        ws.append([f"客户{r}", r, f"=B{r}*2"])
    path = tmp_path / "openpyxl.xlsx"
    wb.save(path)
    rows = _same_as_before(path, monkeypatch)
    assert rows[0][1][1][2] == ("UncalculatedFormula", xlsx.UncalculatedFormula("B2*2"))


def _handmade(path: Path, sheet: str, strings: str | None = None) -> Path:
    rels = f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    if strings is not None:
        rels += f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            z.writestr("xl/sharedStrings.xml", strings)
    return path


HANDMADE = f"""<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="{MAIN}"><x:sheetData>
<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:r><x:t>富</x:t></x:r><x:r><x:t xml:space="preserve"> 文本</x:t></x:r><x:rPh><x:t>フリガナ</x:t></x:rPh></x:is></x:c>
<x:c t="s"><x:v>1</x:v></x:c><x:c r="D1"><x:v>1.0</x:v></x:c><x:c r="e1" t="str"><x:f>A1</x:f><x:v>结果_x0009_值</x:v></x:c></x:row>
<x:row r="3"><x:c r="B3" t="b"><x:v>0</x:v></x:c><x:c r="C3" t="e"><x:v>#DIV/0!</x:v></x:c><x:c r="D3"><x:v>7</x:v><x:v>8</x:v></x:c>
<x:c r="E3" t="inlineStr"/><x:c r="F3"><x:f>SUM(A1:A2)</x:f></x:c><x:c r="G3"/><x:c r="H3"><x:v> 42 </x:v></x:c><x:c r="I3" t="d"><x:v>2026-12-08</x:v></x:c></x:row>
<x:row><x:c><x:v>-0</x:v></x:c><x:c><x:v>1E+20</x:v></x:c><x:c><x:v>3.25</x:v></x:c></x:row>
<x:row r="2"><x:c r="A2"><x:v>5</x:v></x:c><x:c t="s"><x:v>2</x:v></x:c><x:c t="s"><x:v>3</x:v></x:c><x:c t="s"><x:v>0</x:v></x:c></x:row>
</x:sheetData></x:worksheet>"""
STRINGS = (
    f'<sst xmlns="{MAIN}"><si><t>零</t></si><si><r><t>一</t></r><r><t>二</t></r><rPh><t>に</t></rPh></si>'
    "<si><t>_x000A_换行</t></si><si/></sst>"
)


def test_a_handmade_sheet_with_prefixes_rich_text_and_odd_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _same_as_before(_handmade(tmp_path / "hand.xlsx", HANDMADE, STRINGS), monkeypatch)
    first = rows[0][1][0]
    assert first[0] == ("str", "富 文本") and first[1] == ("str", "一二") and first[4] == ("str", "结果\t值")


@pytest.mark.parametrize(
    ("sheet", "error"),
    [
        (f'<worksheet xmlns="{MAIN}"><sheetData><row><c r="A1"><v>1</v></c></row>', xlsx.XlsxMalformed),
        (
            f'<worksheet xmlns="{MAIN}"><sheetData><row><c r="1A"><v>1</v></c></row></sheetData></worksheet>',
            xlsx.XlsxMalformed,
        ),
        (
            f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="s"><v>9</v></c></row></sheetData></worksheet>',
            xlsx.XlsxMalformed,
        ),
        (
            f'<worksheet xmlns="{MAIN}"><sheetData><row><c><v>abc</v></c></row></sheetData></worksheet>',
            xlsx.XlsxMalformed,
        ),
        (
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1048577"><c><v>1</v></c></row></sheetData></worksheet>',
            xlsx.XlsxTooLarge,
        ),
        (
            f'<worksheet xmlns="{MAIN}"><sheetData><row><c r="IW1"><v>1</v></c></row></sheetData></worksheet>',
            xlsx.XlsxTooLarge,
        ),
    ],
)
def test_damage_and_bounds_answer_as_before(tmp_path: Path, sheet: str, error: type[Exception]) -> None:
    path = _handmade(tmp_path / "bad.xlsx", sheet, STRINGS)
    with pytest.raises(error):
        list(xlsx.read_rows(path))


def test_rows_are_given_out_as_the_sheet_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worksheet is not read whole before its first row comes out (a million rows stay a block's worth)."""
    path = _xlsxwriter_book(tmp_path / "stream.xlsx", constant_memory=True)
    read: list[int] = []
    with zipfile.ZipFile(path) as z:
        data = z.read("xl/worksheets/sheet1.xml")

    class Counting(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            block = super().read(n)
            read.append(len(block))
            return block

    monkeypatch.setattr(xlsx, "_BLOCK", 256)
    rows = xlsx._rows(Counting(data), [], {}, xlsx._CellCount(10**6), xlsx.XlsxLimits())
    next(rows)
    assert sum(read) < len(data) / 4
