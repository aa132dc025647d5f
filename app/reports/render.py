"""The daily report as an HTML fragment or document (with its map in SVG), or Markdown."""

from __future__ import annotations

from functools import lru_cache
from html import escape

from app.reports.map import LAKE_FILL, LAKE_LINE, LINES, SEVERITY_COLOURS, STATIC, layout
from app.reports.sections import alert_rows, subtitle, summary, territoire_rows, time_rows
from app.reports.service import DailyReport
from app.reports.words import Lang, Words

STYLE = STATIC / "report.css"


def map_svg(report: DailyReport, w: Words) -> str:
    """The map as inline SVG (no style sheet needed, no request)."""
    box = layout(report, 640, 520)
    if box is None:
        return f"<p>{escape(w('map.none'))}</p>"
    parts = [
        f'<svg class="sitrep-map" viewBox="0 0 {box.width:.0f} {box.height:.0f}" '
        f'width="{box.width:.0f}" height="{box.height:.0f}" role="img" '
        f'aria-label="{escape(w("map"))}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect width="{box.width:.0f}" height="{box.height:.0f}" fill="#f7f5ef"/>',
    ]
    parts += [
        f'<path d="M{"L".join(f"{x:.1f},{y:.1f}" for x, y in ring)}Z" fill="{LAKE_FILL}" '
        f'stroke="{LAKE_LINE}" stroke-width="0.8"/>'
        for ring in box.lakes
    ]
    for kind, line in box.lines:
        colour, width, dashes = LINES[kind]
        parts.append(
            f'<path d="M{"L".join(f"{x:.1f},{y:.1f}" for x, y in line)}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}"'
            + (f' stroke-dasharray="{dashes}"/>' if dashes else "/>")
        )
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6" fill="#a0a6ae"/>' for x, y in box.places]
    for p in sorted(
        box.points, key=lambda p: ("low", "medium", "high", "critical").index(p.severity)
    ):
        colour = SEVERITY_COLOURS.get(p.severity, "#555")
        parts.append(
            f'<circle cx="{p.x:.1f}" cy="{p.y:.1f}" r="6" fill="{colour}" '
            'stroke="#fff" stroke-width="1.5"/>'
        )
        parts.append(
            f'<text x="{p.x + 8:.1f}" y="{p.y + 4:.1f}" font-size="11" font-family="sans-serif" '
            f'fill="#1b2430">{p.number}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --- HTML ----------------------------------------------------------------------------------


def _html_table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def html_fragment(report: DailyReport, lang: Lang) -> str:
    """The report as an <article>, for the operations page (styled by report.css)."""
    w = Words(lang, report.timezone)
    out = [
        f'<article class="sitrep" lang="{lang}" data-day="{report.day.isoformat()}">',
        f"<h1>{escape(w('title'))}</h1>",
        f'<p class="sub">{escape(subtitle(report, w))}</p>',
        f"<h2>{escape(w('summary'))}</h2><p>{escape(summary(report, w))}</p>",
        f"<h2>{escape(w('by_territoire'))}</h2>",
    ]
    header, rows = territoire_rows(report, w)
    out.append(
        _html_table(header, rows, "counts") if rows else f"<p>{escape(w('summary.none'))}</p>"
    )
    out += [f"<h2>{escape(w('map'))}</h2>", map_svg(report, w)]
    out += [f"<h2>{escape(w('times'))}</h2>", _html_table(*time_rows(report, w), "times")]
    out.append(f"<h2>{escape(w('open'))}</h2>")
    if report.open_alerts:
        out.append(_html_table(*alert_rows(report.open_alerts, w, True, False), "alerts"))
    else:
        out.append(f"<p>{escape(w('open.none'))}</p>")
    if report.alerts:
        out.append(f"<h2>{escape(w('alerts'))}</h2>")
        out.append(_html_table(*alert_rows(report.alerts, w, False, True), "alerts"))
    out.append("</article>")
    return "".join(out)


@lru_cache(maxsize=1)
def _style() -> str:
    return STYLE.read_text(encoding="utf-8")


def html_document(report: DailyReport, lang: Lang) -> str:
    """A whole printable page (its style inlined: it is opened on its own)."""
    w = Words(lang, report.timezone)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(w('title'))} {report.day.isoformat()}</title>"
        f"<style>{_style()}</style></head><body>{html_fragment(report, lang)}</body></html>"
    )


# --- Markdown ------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) or " " for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(report: DailyReport, lang: Lang) -> str:
    """The report in Markdown, to paste into a sitrep (the map is the HTML or PDF's)."""
    w = Words(lang, report.timezone)
    lines = [
        f"# {w('title')}",
        "",
        subtitle(report, w),
        "",
        f"## {w('summary')}",
        "",
        summary(report, w),
        "",
        f"## {w('by_territoire')}",
        "",
    ]
    header, rows = territoire_rows(report, w)
    lines += _md_table(header, rows) if rows else [w("summary.none"), ""]
    lines += [f"## {w('times')}", "", *_md_table(*time_rows(report, w))]
    lines += [f"## {w('open')}", ""]
    if report.open_alerts:
        lines += _md_table(*alert_rows(report.open_alerts, w, True, False))
    else:
        lines += [w("open.none"), ""]
    if report.alerts:
        lines += [f"## {w('alerts')}", "", *_md_table(*alert_rows(report.alerts, w, False, True))]
    return "\n".join(lines)
