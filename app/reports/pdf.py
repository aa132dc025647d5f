"""The daily report as a PDF (A4), its map drawn with the PDF's own lines and shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

from app.reports.map import LAKE_FILL, LAKE_LINE, LINES, SEVERITY_COLOURS, layout
from app.reports.sections import alert_rows, subtitle, summary, territoire_rows, time_rows
from app.reports.service import DailyReport
from app.reports.words import Lang, Words

# The PDF's built-in fonts hold Latin-1: French is there; typographic marks are given plainly.
_PLAIN = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "→": "->",
        "…": "...",
        "·": "-",
        "\u00a0": " ",
        "•": "-",
    }
)


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _pdf_table(pdf: FPDF, header: list[str], rows: list[list[str]]) -> None:
    pdf.set_font("helvetica", size=8)
    with pdf.table(first_row_as_headings=True, line_height=4.5, text_align="LEFT") as table:
        for row in [header, *rows]:
            cells = table.row()
            for cell in row:
                cells.cell(_latin1(cell))
    pdf.ln(3)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("helvetica", style="B", size=12)
    pdf.cell(0, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _pdf_map(pdf: FPDF, report: DailyReport, w: Words) -> None:
    box = layout(report, pdf.epw, 110)
    if box is None:
        pdf.set_font("helvetica", size=9)
        pdf.cell(0, 6, _latin1(w("map.none")), new_x="LMARGIN", new_y="NEXT")
        return
    if pdf.get_y() + box.height > pdf.page_break_trigger:
        pdf.add_page()
    x0, y0 = pdf.l_margin, pdf.get_y()
    pdf.set_fill_color(247, 245, 239)
    pdf.rect(x0, y0, box.width, box.height, style="F")
    with pdf.rect_clip(x0, y0, box.width, box.height):
        pdf.set_fill_color(LAKE_FILL)
        pdf.set_draw_color(LAKE_LINE)
        pdf.set_line_width(0.2)
        for ring in box.lakes:
            pdf.polygon([(x0 + x, y0 + y) for x, y in ring], style="DF")
        for kind, line in box.lines:
            colour, width, dashes = LINES[kind]
            pdf.set_draw_color(colour)
            pdf.set_line_width(width * 0.2)
            if dashes:
                pdf.set_dash_pattern(dash=1.2, gap=0.6)
            else:
                pdf.set_dash_pattern()
            pdf.polyline([(x0 + x, y0 + y) for x, y in line])
        pdf.set_dash_pattern()
        pdf.set_fill_color(160, 166, 174)
        for x, y in box.places:
            pdf.circle(x0 + x, y0 + y, 0.5, style="F")
        pdf.set_font("helvetica", size=7)
        for p in box.points:
            pdf.set_fill_color(SEVERITY_COLOURS.get(p.severity, "#555555"))
            pdf.circle(x0 + p.x, y0 + p.y, 1.6, style="F")
            pdf.text(x0 + p.x + 2.2, y0 + p.y + 1.2, str(p.number))
    pdf.set_y(y0 + box.height + 3)


def render(report: DailyReport, lang: Lang) -> bytes:
    """The report as a PDF (A4)."""
    # Imported here, when a PDF is asked for: fpdf brings numpy, lxml and Pillow, about 35 MB
    # of memory that every serving process would otherwise hold for a rare download.
    from fpdf import FPDF

    w = Words(lang, report.timezone)
    doc = FPDF(format="A4")
    doc.set_title(_latin1(f"{w('title')} {report.day.isoformat()}"))
    doc.set_creation_date(report.generated_at)
    doc.add_page()
    doc.set_font("helvetica", style="B", size=16)
    doc.cell(0, 10, _latin1(w("title")), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", size=9)
    doc.cell(0, 6, _latin1(subtitle(report, w)), new_x="LMARGIN", new_y="NEXT")
    _heading(doc, w("summary"))
    doc.set_font("helvetica", size=9)
    doc.multi_cell(0, 5, _latin1(summary(report, w)), new_x="LMARGIN", new_y="NEXT")
    _heading(doc, w("by_territoire"))
    header, rows = territoire_rows(report, w)
    if rows:
        _pdf_table(doc, header, rows)
    _heading(doc, w("map"))
    _pdf_map(doc, report, w)
    _heading(doc, w("times"))
    _pdf_table(doc, *time_rows(report, w))
    _heading(doc, w("open"))
    if report.open_alerts:
        _pdf_table(doc, *alert_rows(report.open_alerts, w, True, False))
    else:
        doc.set_font("helvetica", size=9)
        doc.cell(0, 6, _latin1(w("open.none")), new_x="LMARGIN", new_y="NEXT")
    if report.alerts:
        _heading(doc, w("alerts"))
        _pdf_table(doc, *alert_rows(report.alerts, w, False, True))
    return bytes(doc.output())
