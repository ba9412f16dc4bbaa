"""Statements as PDF, drawn with reportlab in its built-in CJK font STSong-Light (Adobe's
CID font: nothing to embed or install, and the text reads back as text, e.g. with pypdf).

Drawn on the canvas page by page, so a long statement never builds a document tree in
memory; the file is written to a spooled temporary file (memory for a small one, disk
for a large one)."""

import tempfile
from collections.abc import Iterable
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from . import files
from .selectors import Rollup, StatementData

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

PAGE = landscape(A4)


def max_entries() -> int:
    """Rows of detail a PDF lists (20,000: about 400 pages); the totals always cover every
    row, and the CSV lists them all (a PDF of a million rows would take minutes and much
    memory to draw: reportlab keeps a document's pages until it is saved)."""
    return int(getattr(settings, "STATEMENT_PDF_MAX_ENTRIES", 20_000))


MARGIN = 36.0


class _Writer:
    """Rows of text at fixed column positions, a new page when the page is full."""

    def __init__(self, out: IO[bytes], title: str) -> None:
        self.canvas = Canvas(out, pagesize=PAGE, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("信游 Xinyou")
        self.page = 1
        self.y = PAGE[1] - MARGIN
        self.size = 10.0
        self.repeat: tuple[list[float], list[str]] | None = None

    def _footer(self) -> None:
        self.canvas.setFont(FONT, 8)
        self.canvas.drawRightString(
            PAGE[0] - MARGIN, MARGIN / 2, _("第 %(page)d 页") % {"page": self.page}
        )

    def _room(self, height: float) -> None:
        if self.y - height >= MARGIN:
            return
        self._footer()
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE[1] - MARGIN
        if self.repeat is not None:
            columns, headings = self.repeat
            self.row(columns, headings, repeat_headings=False)

    def text(self, value: str, size: float = 10.0) -> None:
        self._room(size * 1.5)
        self.canvas.setFont(FONT, size)
        self.canvas.drawString(MARGIN, self.y - size, value)
        self.y -= size * 1.5

    def gap(self, height: float = 8.0) -> None:
        self.y -= height

    def row(
        self,
        columns: list[float],
        cells: Iterable[Any],
        size: float | None = None,
        *,
        repeat_headings: bool = False,
    ) -> None:
        size = size or self.size
        self._room(size * 1.4)
        self.canvas.setFont(FONT, size)
        edges = [*columns[1:], PAGE[0] - MARGIN]
        for x, right, cell in zip(columns, edges, cells, strict=False):
            text = _fit("" if cell is None else str(cell), right - x - 4, size)
            self.canvas.drawString(x, self.y - size, text)
        self.y -= size * 1.4

    def table(self, section: files.Section, widths: list[float], size: float = 9.0) -> None:
        columns = _columns(widths)
        self.text(section.title, 11)
        self.row(columns, section.headings, size)
        for cells in section.rows:
            self.row(columns, cells, size)
        if section.total is not None:
            self.row(columns, section.total, size)

    def save(self) -> None:
        self._footer()
        self.canvas.save()


def _columns(widths: list[float]) -> list[float]:
    """The x of each column, the widths given as shares of the printable width."""
    usable = PAGE[0] - 2 * MARGIN
    total = sum(widths)
    xs, x = [], MARGIN
    for width in widths:
        xs.append(x)
        x += usable * width / total
    return xs


def _fit(text: str, width: float, size: float) -> str:
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


def _spooled() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


def statement_pdf(data: StatementData) -> IO[bytes]:
    """The statement as a PDF file (positioned at its start)."""
    out = _spooled()
    writer = _Writer(out, files.statement_title())
    writer.text(files.statement_title(), 16)
    for label, value in files.statement_header(data):
        writer.text(f"{label}: {value}", 10)
    for section in files.statement_sections(data):
        writer.gap()
        widths = [4, 1, 1, 1, 1.3] if len(section.headings) == 5 else [1.2, 4, 1, 1, 1, 1.3]
        writer.table(section, widths)
    writer.gap()
    writer.text(_("明细"), 11)
    columns = _columns([1, 1.6, 3, 0.8, 1.2, 0.7, 1.6, 1])
    headings = files.entry_headings()
    writer.row(columns, headings, 8)
    writer.repeat = (columns, headings)
    writer.size = 8
    listed, limit = 0, max_entries()
    for cells in files.entry_rows(data):
        if listed == limit:
            break
        writer.row(columns, cells, 8)
        listed += 1
    writer.repeat = None
    totals = data.totals
    count = totals.redemptions + totals.entitlement_uses + totals.conflicts
    if count > listed:
        writer.gap()
        writer.text(
            _("明细共 %(count)d 条，此处列出前 %(listed)d 条；完整明细见 CSV 文件。")
            % {"count": count, "listed": listed},
            9,
        )
    writer.save()
    out.seek(0)
    return out


def rollup_pdf(rollup: Rollup) -> IO[bytes]:
    out = _spooled()
    writer = _Writer(out, files.rollup_title())
    writer.text(files.rollup_title(), 16)
    for label, value in files.rollup_header(rollup):
        writer.text(f"{label}: {value}", 10)
    writer.gap()
    writer.table(files.rollup_section(rollup), [3, 1.8, 1, 1, 1, 1.2, 1, 1, 1, 1.2], 8)
    writer.save()
    out.seek(0)
    return out
