"""A streaming reader of an XLSX upload's first worksheet with every size bounded while it reads.

A few kilobytes of XLSX can inflate to gigabytes (a million one-character shared strings, a row of a
million cells, `<row r="999999999">`), and a general-purpose reader materialises them: openpyxl held
125 MB for a 115 KB file. Here the archive's declared sizes are checked before anything is inflated,
the shared strings are counted and sized while they are read, and rows and cells are counted and
dropped as they stream; the first bound crossed refuses the file (`XlsxTooLarge`, 413), and XML or
archive damage is `XlsxMalformed` (422).

Values are what the sheet shows, not what a float would make of them:
- a number cell formatted with zeros (`000000`, Excel's way to keep leading zeros of a code) is read as
  the zero-padded text; a number Excel stored with more than 15 significant digits (an 18-digit ID or
  credit code typed into a General cell) has already lost digits in Excel, and is read as
  `ImpreciseNumber` so the import can say so instead of storing the wrong digits;
- a formula cell is read as its cached result (what Excel shows); a formula without one (written by a
  program that does not calculate) is `UncalculatedFormula`, which the import reports;
- every worksheet is read (`read_sheets`), so an export that spilled past 1,048,575 rows into further
  sheets imports whole.
"""

from __future__ import annotations

import contextlib
import functools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_ZERO_FORMAT = re.compile(r'^"?0+"?$')  # a number format that only pads with zeros: 000000
_EXACT_DIGITS = 15  # significant decimal digits an Excel (IEEE double) number keeps exactly
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # OOXML's escape of characters XML cannot carry
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
# _XML_SAFETY: ElementTree never fetches external entities or DTDs, and the expat it runs on (>= 2.4)
# stops entity-expansion bombs; what is left — decompression and size amplification — is bounded here.
_MIN_CELL_XML = 12  # bytes of worksheet XML one cell needs at the least (`<c t="s"><v>`…)


@dataclass(frozen=True)
class XlsxLimits:
    """What one import may inflate to; the defaults allow a full Excel sheet of the import's columns."""

    max_uncompressed: int = 2 << 30  # every part of the archive together, as declared
    max_parts: int = 10_000
    max_metadata: int = 16 << 20  # workbook.xml and its relationships
    max_shared_strings: int = 2_000_000
    max_shared_chars: int = 256 << 20
    max_rows: int = 1_048_576  # Excel's own worksheet limit
    max_columns: int = 256  # the import has 17 columns; a wider row is not a customer list
    max_cells: int = 40_000_000


class XlsxTooLarge(Exception):
    """The file crosses one of the XlsxLimits; the message names the bound."""


class XlsxMalformed(Exception):
    """The archive or its XML is damaged or not a workbook."""


class NotAnArchive(XlsxMalformed):
    """The file is not a ZIP archive at all (so not XLSX, whatever its Content-Type said)."""


class ImpreciseNumber(float):
    """A number cell whose stored value has more than 15 significant digits: Excel kept only 15, so the
    digits the user typed are gone (`raw` is the text the file holds)."""

    raw: str

    def __new__(cls, raw: str) -> ImpreciseNumber:
        obj = super().__new__(cls, float(raw))
        obj.raw = raw
        return obj


@dataclass(frozen=True)
class UncalculatedFormula:
    """A formula cell the file holds no result for (`formula` is its text)."""

    formula: str


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name and its rows (as `read_rows` gives them)."""

    name: str
    rows: Iterator[list[Any]]


def read_rows(path: Path, limits: XlsxLimits | None = None) -> Iterator[list[Any]]:
    """The rows of the first worksheet as lists of cell values (str, int, float, bool, None,
    ImpreciseNumber or UncalculatedFormula); a row missing from the file comes out empty, so positions
    are the sheet's row numbers."""
    for sheet in read_sheets(path, limits):
        yield from sheet.rows
        return


def read_sheets(path: Path, limits: XlsxLimits | None = None) -> Iterator[Sheet]:
    """Every worksheet in workbook order; each sheet's rows must be consumed before the next is
    asked for. The limits on rows are per sheet, those on cells for the whole workbook."""
    limits = limits or XlsxLimits()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotAnArchive(f"not a readable XLSX workbook: {exc}") from None
    with zf, _malformed_as_422():
        yield from _read(zf, limits)


_MALFORMED = (
    ET.ParseError,
    expat.ExpatError,
    zipfile.BadZipFile,
    KeyError,
    NotImplementedError,
    RuntimeError,
    EOFError,
)


@contextlib.contextmanager
def _malformed_as_422() -> Iterator[None]:
    try:
        yield
    except _MALFORMED as exc:
        # RuntimeError/NotImplementedError: an encrypted part or an unsupported compression method
        raise XlsxMalformed(f"malformed XLSX: {type(exc).__name__}: {exc}") from None


def _read(zf: zipfile.ZipFile, limits: XlsxLimits) -> Iterator[Sheet]:
    infos = zf.infolist()
    if len(infos) > limits.max_parts:
        raise XlsxTooLarge(f"the archive has more than {limits.max_parts} parts")
    inflated = sum(i.file_size for i in infos)
    if inflated > limits.max_uncompressed:
        raise XlsxTooLarge(
            f"the workbook decompresses to {inflated} bytes, more than the limit of {limits.max_uncompressed}"
        )
    sizes = {i.filename: i.file_size for i in infos}
    sheets, strings_part, styles_part = _locate(zf, sizes, limits)
    for name, part in sheets:
        if part not in sizes:
            raise XlsxMalformed(f"the worksheet {name!r} ({part}) is missing from the archive")
    padding = _zero_padding(_small_xml(zf, styles_part, sizes, limits)) if styles_part in sizes else {}
    strings: list[str] = []
    if strings_part is not None and strings_part in sizes:
        # every shared string is there to be used by a cell, and a cell takes bytes of worksheet XML:
        # a table larger than the sheets could reference is padding meant to inflate, not data
        sheet_bytes = sum(n for name, n in sizes.items() if name.startswith("xl/worksheets/"))
        usable = min(limits.max_shared_strings, sheet_bytes // _MIN_CELL_XML + 1000)
        with zf.open(strings_part) as fh:
            strings = _shared_strings(fh, usable, limits)
    cells = _CellCount(limits.max_cells)

    def rows_of(part: str) -> Iterator[list[Any]]:
        # a sheet's rows are read by the caller, outside read_sheets' frame: translate here too
        with _malformed_as_422(), zf.open(part) as fh:
            yield from _rows(fh, strings, padding, cells, limits)

    for name, part in sheets:
        yield Sheet(name, rows_of(part))


@dataclass
class _CellCount:
    limit: int
    seen: int = 0

    def add(self) -> None:
        self.seen += 1
        if self.seen > self.limit:
            raise XlsxTooLarge(f"the workbook has more than {self.limit} cells")


def _zero_padding(styles: ET.Element) -> dict[int, int]:
    """Cell style index → width, for the styles whose number format pads with zeros (`000000`)."""
    formats: dict[str, int] = {}
    for e in styles.iter():
        if _local(e.tag) == "numFmt":
            code = e.get("formatCode", "")
            if _ZERO_FORMAT.match(code):
                formats[e.get("numFmtId", "")] = code.count("0")
    if not formats:
        return {}
    xfs = next((e for e in styles.iter() if _local(e.tag) == "cellXfs"), None)
    if xfs is None:
        return {}
    out: dict[int, int] = {}
    for i, xf in enumerate(x for x in xfs if _local(x.tag) == "xf"):
        width = formats.get(xf.get("numFmtId", ""))
        if width is not None:
            out[i] = width
    return out


@functools.lru_cache(maxsize=256)  # a sheet has a handful of tag names, asked for on every XML event
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _small_xml(zf: zipfile.ZipFile, name: str, sizes: dict[str, int], limits: XlsxLimits) -> ET.Element:
    if name not in sizes:
        raise XlsxMalformed(f"not an XLSX workbook: {name} is missing")
    if sizes[name] > limits.max_metadata:
        raise XlsxTooLarge(f"{name} is larger than {limits.max_metadata} bytes")
    return ET.fromstring(zf.read(name))  # noqa: S314 (see _XML_SAFETY)


def _locate(
    zf: zipfile.ZipFile, sizes: dict[str, int], limits: XlsxLimits
) -> tuple[list[tuple[str, str]], str | None, str | None]:
    """(name, part) of every worksheet in workbook order, and the parts of the shared-strings table and
    of the styles (if any)."""
    workbook = _small_xml(zf, _WORKBOOK, sizes, limits)
    listed = [e for e in workbook.iter() if _local(e.tag) == "sheet"]
    if not listed:
        raise XlsxMalformed("the workbook has no worksheet")
    targets: dict[str, str] = {}
    strings: str | None = None
    styles: str | None = None
    for rel in _small_xml(zf, _WORKBOOK_RELS, sizes, limits).iter():
        if _local(rel.tag) != "Relationship":
            continue
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[rel.get("Id", "")] = part
        if rel.get("Type", "").endswith("/sharedStrings"):
            strings = part
        elif rel.get("Type", "").endswith("/styles"):
            styles = part
    sheets: list[tuple[str, str]] = []
    for e in listed:
        rid = next((v for k, v in e.attrib.items() if _local(k) == "id" and k.startswith("{")), None)
        if rid is None or rid not in targets:
            raise XlsxMalformed(f"the workbook does not say where its worksheet {e.get('name', '?')!r} is")
        sheets.append((e.get("name", ""), targets[rid]))
    return sheets, strings, styles


def _shared_strings(fh: IO[bytes], usable: int, limits: XlsxLimits) -> list[str]:
    """The shared-strings table, read as the worksheets are (`_SheetReader`, on expat's callbacks): each
    item's `<t>` and rich text runs' `<t>` (phonetic hints are not part of the value), bounded while read."""
    strings: list[str] = []
    chars = 0
    path: list[str] = []  # element names from the <si> being read down
    parts: list[str] = []
    capture = False

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal capture
        name = _NAMES.get(tag) or _name(tag)
        if path or name == "si":
            path.append(name)
            capture = tuple(path) in _ITEM_TEXT

    def data(text: str) -> None:
        if capture:
            parts.append(text)

    def end(_tag: str) -> None:
        nonlocal capture, chars
        if not path:
            return
        path.pop()
        capture = False
        if path:
            return
        if len(strings) >= usable:
            raise XlsxTooLarge(
                f"the shared-strings table holds more than {usable} strings, more than this workbook's "
                f"worksheets could use (at most {limits.max_shared_strings})"
            )
        text = _unescape("".join(parts))
        parts.clear()
        chars += len(text)
        if chars > limits.max_shared_chars:
            raise XlsxTooLarge(f"the shared strings hold more than {limits.max_shared_chars} characters")
        strings.append(text)

    for _ in _parse(fh, start, end, data):
        pass
    return strings


# where a shared string's text is: the element path from its <si>
_ITEM_TEXT = {("si", "t"), ("si", "r", "t")}


def _column(ref: str | None, default: int) -> tuple[int, int | None]:
    """0-based column and 1-based row of a cell reference like `AB12` (the default column when absent)."""
    if not ref:
        return default, None
    m = _CELL_REF.fullmatch(ref.upper())
    if m is None:
        raise XlsxMalformed(f"malformed cell reference {ref[:20]!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return col - 1, int(m.group(2))


def _value(
    kind: str,
    v: str | None,
    formula: str | None,
    inline: str | None,
    ref: str | None,
    style: str | None,
    strings: list[str],
    padding: dict[int, int],
) -> Any:
    """A cell's value from what it holds: its type (`t`), its `<v>` text, its formula's text, its inline
    string (`<is>`), its reference and its style."""
    if kind == "inlineStr":
        return inline
    if v is None:
        return UncalculatedFormula(formula) if formula is not None else None
    if kind == "s":
        try:
            return strings[int(v)]
        except (ValueError, IndexError):
            raise XlsxMalformed(f"cell {ref or '?'} refers to shared string {v[:20]!r}, which does not exist") from None
    if kind == "b":
        return v.strip() == "1"
    if kind in ("str", "e", "d"):
        return _unescape(v)
    return _number(v.strip(), ref, style, padding)


def _unescape(text: str) -> str:
    """OOXML's `_xHHHH_` escapes of characters XML cannot carry, undone."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _number(v: str, ref: str | None, style: str | None, padding: dict[int, int]) -> Any:
    try:
        number: Any = int(v)
    except ValueError:
        try:
            number = float(v)
        except ValueError:
            raise XlsxMalformed(f"cell {ref or '?'} holds {v[:20]!r}, not a number") from None
        if number.is_integer() and abs(number) < 1e300:
            number = int(number)
    if isinstance(number, int) and abs(number) >= 10**_EXACT_DIGITS:
        # more than 15 digits: Excel kept 15 (1.23456789012346E+17), the rest are not the user's
        return ImpreciseNumber(v)
    width = padding.get(int(style)) if style and style.isdigit() else None
    if width is not None and isinstance(number, int) and number >= 0:
        return str(number).zfill(width)
    return number


# a worksheet's XML is fed to expat in blocks of this many bytes; the rows each block completes are given
# out before the next block is read
_BLOCK = 1 << 16
# where a cell's text is: the element path from its <c> → the part of the cell it makes
_CELL_TEXT = {("v",): "v", ("f",): "f", ("is", "t"): "is", ("is", "r", "t"): "is"}


class _SheetReader:
    """The rows of one worksheet as expat's callbacks read them (`_rows`): no element tree and no event
    queue, one Python call per tag and per run of text. ElementTree's `iterparse` built an element and
    queued an event for every tag, about twice the CPU (docs/benchmarks.md). What is read, and every
    bound, is as before: a cell's value from its direct `<v>`, `<f>` and `<is>` (whose `<t>` and rich
    text runs' `<t>` make the string; phonetic hints do not), cells outside a row are not read."""

    def __init__(self, strings: list[str], padding: dict[int, int], cells: _CellCount, limits: XlsxLimits):
        self.strings, self.padding, self.cells, self.limits = strings, padding, cells, limits
        self.done: list[list[Any]] = []  # rows complete, not yet given out
        self.row_no = 0  # the last row number given out
        self.in_row = False
        self.current: dict[int, Any] = {}
        self.next_col = 0
        self.declared_row: int | None = None
        self.cell: dict[str, str] | None = None  # the attributes of the cell being read
        self.path: list[str] = []  # the element names from that cell down to the one being read
        self.texts: dict[str, list[str]] = {}  # the cell's text parts (v, f, is) read so far
        self.capture: list[str] | None = None  # where the text being read goes

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = _NAMES.get(tag) or _name(tag)
        if self.cell is not None:
            self.path.append(name)
            part = _CELL_TEXT.get(tuple(self.path))
            if part is not None:
                self.capture = self.texts.setdefault(part, [])
                if part != "is":  # a cell's last <v> (or <f>) is the one it holds
                    self.capture.clear()
            elif name == "is" and len(self.path) == 1:
                self.texts["is"] = []  # a cell's last <is> is the one it holds
            else:
                self.capture = None
            return
        if name == "row":
            self.in_row, self.current, self.next_col = True, {}, 0
            r = attrs.get("r")
            self.declared_row = int(r) if r and r.isdigit() else None
        elif name == "c" and self.in_row:
            self.cell, self.path, self.texts, self.capture = attrs, [], {}, None

    def data(self, text: str) -> None:
        if self.capture is not None:
            self.capture.append(text)

    def end(self, tag: str) -> None:
        if self.cell is not None:
            if self.path:
                self.path.pop()
                self.capture = None
                return
            self._end_cell(self.cell)
            self.cell = None
        elif self.in_row and (_NAMES.get(tag) or _name(tag)) == "row":
            self._end_row()

    def _end_cell(self, attrs: dict[str, str]) -> None:
        limits = self.limits
        ref = attrs.get("r")
        col = _column_of(ref) if ref else self.next_col
        if col >= limits.max_columns or len(self.current) >= limits.max_columns:
            raise XlsxTooLarge(f"a row has cells beyond column {limits.max_columns}")
        self.cells.add()
        texts = self.texts
        v = "".join(texts["v"]) if texts.get("v") else None
        formula = "".join(texts["f"]) if "f" in texts else None
        inline = _unescape("".join(texts["is"])) if "is" in texts else None
        value = _value(attrs.get("t", "n"), v, formula, inline, ref, attrs.get("s"), self.strings, self.padding)
        if value is not None:
            self.current[col] = value
        self.next_col = col + 1

    def _end_row(self) -> None:
        declared = self.declared_row
        number = declared if declared is not None and declared > self.row_no else self.row_no + 1
        if number > self.limits.max_rows:
            raise XlsxTooLarge(f"the worksheet has more than {self.limits.max_rows} rows")
        while self.row_no < number - 1:  # rows the file leaves out are empty
            self.row_no += 1
            self.done.append([])
        self.row_no = number
        current = self.current
        width = max(current) + 1 if current else 0
        self.done.append([current.get(i) for i in range(width)])
        self.in_row = False


def _rows(
    fh: IO[bytes], strings: list[str], padding: dict[int, int], cells: _CellCount, limits: XlsxLimits
) -> Iterator[list[Any]]:
    reader = _SheetReader(strings, padding, cells, limits)
    for _ in _parse(fh, reader.start, reader.end, reader.data):
        yield from reader.done
        reader.done.clear()


def _parse(
    fh: IO[bytes],
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    data: Callable[[str], None],
) -> Iterator[None]:
    """Feed `fh` to expat block by block (`_BLOCK`), calling back `start`, `end` and `data`; yields
    after each block and after the end of the document, so a caller can give out what it has read."""
    parser = expat.ParserCreate()  # no namespace processing: a tag's local name follows its prefix
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    while block := fh.read(_BLOCK):
        parser.Parse(block, False)
        yield
    parser.Parse(b"", True)
    yield


_NAMES: dict[str, str] = {}  # a sheet has a handful of tag names, asked for on every tag


def _name(tag: str) -> str:
    """A tag's local name as expat gives it without namespace processing (`x:row` → `row`)."""
    name = tag.rpartition(":")[2]
    if len(_NAMES) < 256:
        _NAMES[tag] = name
    return name


_COLUMNS: dict[str, int] = {}  # the column of each cell reference's letters seen (`AB` → 27)


def _column_of(ref: str) -> int:
    """The 0-based column of a cell reference (`AB12` → 27), as `_column` reads it; the letters of a
    sheet's references repeat row after row, so each one's column is worked out once."""
    letters = ref.rstrip("0123456789")
    col = _COLUMNS.get(letters)
    if col is None or not ref[len(letters) :].isdecimal():
        col, _ = _column(ref, 0)
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = col
    return col
