"""A small dependency-free PDF writer for the sales documents (quotes): text on A4 pages in one CJK font.

The font is Adobe's ``STSong-Light`` by reference, never embedded — one of the CJK fonts every PDF
reader supplies (the same choice reportlab's ``UnicodeCIDFont('STSong-Light')`` makes): a Type0 font
with the ``UniGB-UCS2-H`` encoding over the ``Adobe-GB1`` character collection, text written as UTF-16BE
code units. So there are no font files to ship and no dependency, and Chinese renders in any reader.
Characters outside the Basic Multilingual Plane are written as U+FFFD. See docs/sales.md.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

A4 = (595.0, 842.0)  # points
FONT = "STSong-Light"
# Adobe-GB1's half-width glyphs (CIDs 1–95: ASCII) are about half an em; CJK ones a full em (DW 1000)
HALF_WIDTH = 500


def width(text: str, size: float) -> float:
    """The advance of `text` at `size` points, as the reader lays it out."""
    return sum((HALF_WIDTH if ord(ch) < 0x7F else 1000) for ch in text) * size / 1000


def _hex(text: str) -> str:
    units = "".join(ch if ord(ch) <= 0xFFFF else "\ufffd" for ch in text)
    return units.encode("utf-16-be").hex().upper()


@dataclass
class Page:
    ops: list[str] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, *, size: float = 10) -> None:
        """`text` with its baseline at (x, y) from the page's bottom left, in points."""
        self.ops.append(f"BT /F1 {size:g} Tf {x:.2f} {y:.2f} Td <{_hex(text)}> Tj ET")

    def line(self, x1: float, y1: float, x2: float, y2: float, *, w: float = 0.5) -> None:
        self.ops.append(f"{w:g} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")


@dataclass
class Document:
    title: str = ""
    pages: list[Page] = field(default_factory=list)

    def page(self) -> Page:
        p = Page()
        self.pages.append(p)
        return p

    def render(self) -> bytes:
        """The whole file: catalog, page tree, one font, a compressed content stream per page."""
        objs: list[bytes] = []

        def add(body: bytes) -> int:
            objs.append(body)
            return len(objs)

        catalog = add(b"")  # filled below, once the page tree's number is known
        pages_id = add(b"")
        descendant = add(
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /"
            + FONT.encode()
            + b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
            + b" /FontDescriptor "
            + b"%d 0 R" % (len(objs) + 2)
            + b" /DW 1000 /W [1 95 %d] >>" % HALF_WIDTH
        )
        add(
            b"<< /Type /FontDescriptor /FontName /"
            + FONT.encode()
            + b" /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120"
            + b" /CapHeight 880 /StemV 93 >>"
        )
        font = add(
            b"<< /Type /Font /Subtype /Type0 /BaseFont /"
            + FONT.encode()
            + b"-UniGB-UCS2-H /Encoding /UniGB-UCS2-H /DescendantFonts [%d 0 R] >>" % descendant
        )
        kids = []
        for p in self.pages or [Page()]:
            data = zlib.compress("\n".join(p.ops).encode("ascii"))
            content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
            kids.append(
                add(
                    b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %g %g]" % (pages_id, *A4)
                    + b" /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, content)
                )
            )
        objs[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % k for k in kids),
            len(kids),
        )
        objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
        info = add(b"<< /Title <FEFF" + _hex(self.title).encode() + b"> /Producer (KAM) >>")

        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(objs, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objs) + 1,
            catalog,
            info,
            xref,
        )
        return bytes(out)
