"""The report's sections as text, shared by every format: the subtitle, the summary line and
the tables (header, rows) of territoires, response times and alerts."""

from __future__ import annotations

from collections.abc import Sequence

from app.alerts.models import Alert
from app.reports.service import NO_TERRITOIRE, DailyReport
from app.reports.words import Words
from app.stats.schemas import DurationsRead


def subtitle(report: DailyReport, w: Words) -> str:
    """The day and when the report was made."""
    day = w("day", day=report.day.strftime("%d/%m/%Y"), tz=report.timezone)
    return f"{day} · {w('generated', at=w.local(report.generated_at, True))}"


def summary(report: DailyReport, w: Words) -> str:
    """One line: how many alerts, of which severities, how many acknowledged."""
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


def territoire_rows(report: DailyReport, w: Words) -> tuple[list[str], list[list[str]]]:
    """Alerts by territoire and category, with a total row (no rows on a day without alerts)."""
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


def time_rows(report: DailyReport, w: Words) -> tuple[list[str], list[list[str]]]:
    """Median and 90th percentile of the times to acknowledge and to resolve."""

    def row(label: str, d: DurationsRead) -> list[str]:
        return [label, str(d.count), w.duration(d.median_seconds), w.duration(d.p90_seconds)]

    header = ["", w("count"), w("median"), w("p90")]
    return header, [
        row(w("to_ack"), report.time_to_acknowledge),
        row(w("to_resolve"), report.time_to_resolve),
    ]


def alert_rows(
    alerts: Sequence[Alert], w: Words, with_day: bool, numbered: bool
) -> tuple[list[str], list[list[str]]]:
    """One row an alert; `numbered` adds its number on the map, `with_day` its day."""
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
