"""The daily report as an HTML fragment or document, Markdown, or PDF, in French or English."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fpdf import FPDF

from app.alerts.models import Alert
from app.reports.service import NO_TERRITOIRE, DailyReport
from app.stats.schemas import DurationsRead

Lang = Literal["fr", "en"]

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
STYLE = STATIC / "report.css"
LAKE_FILL, LAKE_LINE = "#bcd5ea", "#8fb3d6"
# Lines under the alerts, as on the operations page: colour, width (px), dashes.
LINES = {"border": ("#7a7f87", 1.2, "6 3 2 3"), "province": ("#a58fae", 1.0, "")}
SEVERITY_COLOURS = {"critical": "#c0392b", "high": "#e67e22", "medium": "#b7950b", "low": "#5d7ea6"}

WORDS: dict[Lang, dict[str, str]] = {
    "fr": {
        "title": "Rapport de situation quotidien",
        "day": "Journée du {day} (heure locale, {tz})",
        "generated": "Établi le {at}",
        "summary": "Résumé",
        "summary.line": "{n} alertes reçues : {sev}. Prises en charge : {ack}.",
        "summary.none": "Aucune alerte reçue ce jour.",
        "by_territoire": "Alertes par territoire et catégorie",
        "territoire": "Territoire",
        "unknown": "lieu inconnu",
        "total": "Total",
        "map": "Carte des alertes du jour",
        "map.none": "Aucune alerte localisée ce jour.",
        "times": "Délais de réponse",
        "to_ack": "Réception → prise en charge",
        "to_resolve": "Réception → clôture",
        "median": "médiane",
        "p90": "90 %",
        "count": "alertes",
        "open": "Alertes ouvertes en fin de journée",
        "open.none": "Aucune alerte ouverte.",
        "alerts": "Alertes du jour",
        "ref": "Réf.",
        "received": "Reçue",
        "severity": "Gravité",
        "category": "Catégorie",
        "place": "Lieu",
        "status": "Statut",
        "message": "Message",
        "sev.critical": "critique",
        "sev.high": "élevée",
        "sev.medium": "moyenne",
        "sev.low": "faible",
        "st.new": "nouvelle",
        "st.acknowledged": "prise en charge",
        "st.verified": "vérifiée",
        "st.resolved": "résolue",
        "st.false_alarm": "fausse alerte",
        "cat.ATTACK": "Attaque",
        "cat.ABDUCTION": "Enlèvement",
        "cat.SEXUAL_VIOLENCE": "Violences sexuelles",
        "cat.CLASH": "Affrontements",
        "cat.ARSON": "Incendie",
        "cat.LOOTING": "Pillage",
        "cat.ARMED_PRESENCE": "Présence armée",
        "cat.DISPLACEMENT": "Déplacement",
        "cat.THREAT": "Menace",
        "cat.OTHER": "Autre",
        "cat.FLASH": "Appel manqué",
    },
    "en": {
        "title": "Daily situation report",
        "day": "{day} (local time, {tz})",
        "generated": "Generated {at}",
        "summary": "Summary",
        "summary.line": "{n} alerts received: {sev}. Acknowledged: {ack}.",
        "summary.none": "No alert received that day.",
        "by_territoire": "Alerts by territoire and category",
        "territoire": "Territoire",
        "unknown": "place unknown",
        "total": "Total",
        "map": "Map of the day's alerts",
        "map.none": "No alert with a place that day.",
        "times": "Response times",
        "to_ack": "Received → acknowledged",
        "to_resolve": "Received → resolved",
        "median": "median",
        "p90": "90th percentile",
        "count": "alerts",
        "open": "Alerts open at the end of the day",
        "open.none": "No open alert.",
        "alerts": "Alerts of the day",
        "ref": "Ref.",
        "received": "Received",
        "severity": "Severity",
        "category": "Category",
        "place": "Place",
        "status": "Status",
        "message": "Message",
        "sev.critical": "critical",
        "sev.high": "high",
        "sev.medium": "medium",
        "sev.low": "low",
        "st.new": "new",
        "st.acknowledged": "acknowledged",
        "st.verified": "verified",
        "st.resolved": "resolved",
        "st.false_alarm": "false alarm",
        "cat.ATTACK": "Attack",
        "cat.ABDUCTION": "Abduction",
        "cat.SEXUAL_VIOLENCE": "Sexual violence",
        "cat.CLASH": "Clash",
        "cat.ARSON": "Arson",
        "cat.LOOTING": "Looting",
        "cat.ARMED_PRESENCE": "Armed presence",
        "cat.DISPLACEMENT": "Displacement",
        "cat.THREAT": "Threat",
        "cat.OTHER": "Other",
        "cat.FLASH": "Missed call",
    },
}


class Words:
    """The report's words in one language."""

    def __init__(self, lang: Lang, timezone: str) -> None:
        self.lang = lang
        self.words = WORDS[lang]
        self.zone = ZoneInfo(timezone)

    def __call__(self, key: str, **values: object) -> str:
        """The text of `key` (the key itself when unknown), with its {values}."""
        return self.words.get(key, key.split(".", 1)[-1]).format(**values)

    def local(self, moment: datetime, with_day: bool = False) -> str:
        """A time (and day) in the gateway's zone."""
        return moment.astimezone(self.zone).strftime("%d/%m %H:%M" if with_day else "%H:%M")

    def duration(self, seconds: float | None) -> str:
        """12 min, 1 h 05, or a dash."""
        if seconds is None:
            return "-"
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min"
        return f"{minutes // 60} h {minutes % 60:02d}"

    def place(self, alert: Alert) -> str:
        """Place (territoire), or that it is unknown."""
        if not alert.place_name:
            return self("unknown")
        if alert.admin2 and alert.admin2 != alert.place_name:
            return f"{alert.place_name} ({alert.admin2})"
        return alert.place_name


def _subtitle(report: DailyReport, w: Words) -> str:
    day = w("day", day=report.day.strftime("%d/%m/%Y"), tz=report.timezone)
    return f"{day} · {w('generated', at=w.local(report.generated_at, True))}"


def _summary(report: DailyReport, w: Words) -> str:
    if not report.total:
        return w("summary.none")
    sev = ", ".join(
        f"{report.by_severity[s]} {w('sev.' + s)}"
        for s in ("critical", "high", "medium", "low")
        if report.by_severity[s]
    )
    share = report.acknowledged.share
    ack = f"{report.acknowledged.count} ({round(100 * share)} %)" if share is not None else "-"
    return w("summary.line", n=report.total, sev=sev, ack=ack)


def _territoire_rows(report: DailyReport, w: Words) -> tuple[list[str], list[list[str]]]:
    header = [w("territoire"), *(w("cat." + c) for c in report.categories), w("total")]
    rows = [
        [
            name if name != NO_TERRITOIRE else w("unknown"),
            *(str(counts[c]) if counts[c] else "" for c in report.categories),
            str(sum(counts.values())),
        ]
        for name, counts in report.by_territoire.items()
    ]
    if rows:
        rows.append(
            [
                w("total"),
                *(
                    str(sum(c[cat] for c in report.by_territoire.values()))
                    for cat in report.categories
                ),
                str(report.total),
            ]
        )
    return header, rows


def _time_rows(report: DailyReport, w: Words) -> tuple[list[str], list[list[str]]]:
    def row(label: str, d: DurationsRead) -> list[str]:
        return [label, str(d.count), w.duration(d.median_seconds), w.duration(d.p90_seconds)]

    header = ["", w("count"), w("median"), w("p90")]
    return header, [
        row(w("to_ack"), report.time_to_acknowledge),
        row(w("to_resolve"), report.time_to_resolve),
    ]


def _alert_rows(
    alerts: Sequence[Alert], w: Words, with_day: bool, numbered: bool
) -> tuple[list[str], list[list[str]]]:
    header = [
        *(["#"] if numbered else []),
        w("ref"),
        w("received"),
        w("severity"),
        w("category"),
        w("place"),
        w("status"),
    ]
    rows = [
        [
            *([str(i)] if numbered else []),
            a.ref,
            w.local(a.received_at, with_day),
            w("sev." + a.severity),
            w("cat." + a.category),
            w.place(a),
            w("st." + a.status),
        ]
        for i, a in enumerate(alerts, start=1)
    ]
    return header, rows


# --- the map -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapPoint:
    """An alert on the map: where, its number in the day's list, its severity."""

    x: float
    y: float
    number: int
    severity: str


@dataclass(frozen=True)
class MapLayout:
    """The map drawn in a width x height box: gazetteer places and the day's alerts."""

    width: float
    height: float
    places: list[tuple[float, float]]
    points: list[MapPoint]
    lakes: list[list[tuple[float, float]]]
    lines: list[tuple[str, list[tuple[float, float]]]]  # (kind of LINES, points)


@lru_cache(maxsize=1)
def _landmarks() -> dict[str, Any]:
    """The landmarks the operations page draws too (landmarks.json)."""
    data: dict[str, Any] = json.loads((STATIC / "landmarks.json").read_text(encoding="utf-8"))
    return data


def _lakes() -> list[list[tuple[float, float]]]:
    """Rings (lon, lat) of the lakes."""
    return [[(float(x), float(y)) for x, y in lake["ring"]] for lake in _landmarks()["lakes"]]


def _lines() -> list[tuple[str, list[tuple[float, float]]]]:
    """National borders and province lines, (kind, [(lon, lat), ...])."""
    data = _landmarks()
    return [("border", [(float(x), float(y)) for x, y in b]) for b in data["borders"]] + [
        ("province", [(float(x), float(y)) for x, y in line])
        for line in data.get("provinces", {}).get("lines", [])
    ]


def _spread(values: list[float]) -> tuple[float, float]:
    # A few far-away gazetteer entries must not shrink the region to a corner.
    ordered = sorted(values)
    if len(ordered) >= 20:
        return ordered[len(ordered) // 50], ordered[-1 - len(ordered) // 50]
    return ordered[0], ordered[-1]


def layout(report: DailyReport, width: float, max_height: float) -> MapLayout | None:
    """Equirectangular projection of the region (places and alerts) into the box."""
    located = [
        (i, a)
        for i, a in enumerate(report.alerts, start=1)
        if a.lat is not None and a.lon is not None
    ]
    if not located:
        return None
    lats = [a.lat for _, a in located if a.lat is not None]
    lons = [a.lon for _, a in located if a.lon is not None]
    if report.places:
        lat0, lat1 = _spread([p[0] for p in report.places])
        lon0, lon1 = _spread([p[1] for p in report.places])
        lats += [lat0, lat1]
        lons += [lon0, lon1]
    south, north = min(lats) - 0.2, max(lats) + 0.2
    west, east = min(lons) - 0.2, max(lons) + 0.2
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x, span_y = (east - west) * squeeze, north - south
    scale = min(width / span_x, max_height / span_y)
    height = span_y * scale

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - west) * squeeze * scale, (north - lat) * scale

    places = [
        xy(lat, lon) for lat, lon in report.places if south <= lat <= north and west <= lon <= east
    ]
    lakes = [
        [xy(lat, lon) for lon, lat in ring]
        for ring in _lakes()
        if any(south <= lat <= north and west <= lon <= east for lon, lat in ring)
    ]
    lines = [
        (kind, [xy(lat, lon) for lon, lat in line])
        for kind, line in _lines()
        if any(south <= lat <= north and west <= lon <= east for lon, lat in line)
    ]
    points = [
        MapPoint(*xy(a.lat, a.lon), number=i, severity=a.severity)
        for i, a in located
        if a.lat is not None and a.lon is not None
    ]
    return MapLayout(
        width=span_x * scale, height=height, places=places, points=points, lakes=lakes, lines=lines
    )


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
        f'<p class="sub">{escape(_subtitle(report, w))}</p>',
        f"<h2>{escape(w('summary'))}</h2><p>{escape(_summary(report, w))}</p>",
        f"<h2>{escape(w('by_territoire'))}</h2>",
    ]
    header, rows = _territoire_rows(report, w)
    out.append(
        _html_table(header, rows, "counts") if rows else f"<p>{escape(w('summary.none'))}</p>"
    )
    out += [f"<h2>{escape(w('map'))}</h2>", map_svg(report, w)]
    out += [f"<h2>{escape(w('times'))}</h2>", _html_table(*_time_rows(report, w), "times")]
    out.append(f"<h2>{escape(w('open'))}</h2>")
    if report.open_alerts:
        out.append(_html_table(*_alert_rows(report.open_alerts, w, True, False), "alerts"))
    else:
        out.append(f"<p>{escape(w('open.none'))}</p>")
    if report.alerts:
        out.append(f"<h2>{escape(w('alerts'))}</h2>")
        out.append(_html_table(*_alert_rows(report.alerts, w, False, True), "alerts"))
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
        _subtitle(report, w),
        "",
        f"## {w('summary')}",
        "",
        _summary(report, w),
        "",
        f"## {w('by_territoire')}",
        "",
    ]
    header, rows = _territoire_rows(report, w)
    lines += _md_table(header, rows) if rows else [w("summary.none"), ""]
    lines += [f"## {w('times')}", "", *_md_table(*_time_rows(report, w))]
    lines += [f"## {w('open')}", ""]
    if report.open_alerts:
        lines += _md_table(*_alert_rows(report.open_alerts, w, True, False))
    else:
        lines += [w("open.none"), ""]
    if report.alerts:
        lines += [f"## {w('alerts')}", "", *_md_table(*_alert_rows(report.alerts, w, False, True))]
    return "\n".join(lines)


# --- PDF -----------------------------------------------------------------------------------

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


def pdf(report: DailyReport, lang: Lang) -> bytes:
    """The report as a PDF (A4)."""
    w = Words(lang, report.timezone)
    doc = FPDF(format="A4")
    doc.set_title(_latin1(f"{w('title')} {report.day.isoformat()}"))
    doc.set_creation_date(report.generated_at)
    doc.add_page()
    doc.set_font("helvetica", style="B", size=16)
    doc.cell(0, 10, _latin1(w("title")), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", size=9)
    doc.cell(0, 6, _latin1(_subtitle(report, w)), new_x="LMARGIN", new_y="NEXT")
    _heading(doc, w("summary"))
    doc.set_font("helvetica", size=9)
    doc.multi_cell(0, 5, _latin1(_summary(report, w)), new_x="LMARGIN", new_y="NEXT")
    _heading(doc, w("by_territoire"))
    header, rows = _territoire_rows(report, w)
    if rows:
        _pdf_table(doc, header, rows)
    _heading(doc, w("map"))
    _pdf_map(doc, report, w)
    _heading(doc, w("times"))
    _pdf_table(doc, *_time_rows(report, w))
    _heading(doc, w("open"))
    if report.open_alerts:
        _pdf_table(doc, *_alert_rows(report.open_alerts, w, True, False))
    else:
        doc.set_font("helvetica", size=9)
        doc.cell(0, 6, _latin1(w("open.none")), new_x="LMARGIN", new_y="NEXT")
    if report.alerts:
        _heading(doc, w("alerts"))
        _pdf_table(doc, *_alert_rows(report.alerts, w, False, True))
    return bytes(doc.output())
