"""Human-verified alerts as labels for triage: the JSONL of `kengele triage export-labels`,
and how often humans left triage's answer unchanged (statistics)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.alerts import repository as repo
from app.alerts.models import Alert
from app.kit.config import Settings
from app.kit.db import create_engine, create_sessionmaker
from app.kit.migrate import upgrade
from app.kit.phones import mask_in_text

JUDGED = ("category", "severity", "place")


def text_of(alert: Alert) -> str:
    """The words triage read: the SMS, or what the call-back told of a FLASH."""
    return alert.body.strip() or (alert.summary or "").strip()


def label(alert: Alert) -> dict[str, Any] | None:
    """One labelled line in the format of tests/data/alerts_dev.jsonl, or None when the alert
    cannot be one (no words; a place given only as coordinates, with no gazetteer id).

    No phone number (masked in the text), no sender, no name: the file leaves the gateway.
    """
    text = text_of(alert)
    if not text or (alert.place_id is None and alert.lat is not None):
        return None
    return {
        "id": alert.ref,
        "body": mask_in_text(text),
        "lang": alert.language,
        "received_at": alert.received_at.isoformat(),
        "expect": {
            "category": alert.category,
            "severity": alert.severity,
            "place": alert.place_id,
        },
    }


def unchanged(alert: Alert) -> dict[str, bool] | None:
    """Per judged field, whether humans left triage's answer as it was (None: a FLASH, which
    triage had no words to judge)."""
    original = (alert.correction or {}).get("original") or {}
    if original.get("category", alert.category) == "FLASH":
        return None
    changed = set((alert.correction or {}).get("fields", ()))
    return {field: field not in changed for field in JUDGED}


@dataclass(frozen=True)
class Agreement:
    """Verified alerts of one month and how many kept triage's answer, per field and in all."""

    month: str
    verified: int
    kept: dict[str, int]


def agreement(alerts: Iterable[Alert]) -> list[Agreement]:
    """Triage agreement per month of receipt, oldest first."""
    months: dict[str, list[dict[str, bool]]] = {}
    for alert in alerts:
        judged = unchanged(alert)
        if judged is not None:
            months.setdefault(alert.received_at.strftime("%Y-%m"), []).append(judged)
    out = []
    for month in sorted(months):
        rows = months[month]
        kept = {field: sum(r[field] for r in rows) for field in JUDGED}
        kept["all"] = sum(all(r.values()) for r in rows)
        out.append(Agreement(month, len(rows), kept))
    return out


def lines(alerts: Sequence[Alert]) -> tuple[list[str], int]:
    """The JSONL lines of the alerts that make labels, and how many could not."""
    out = []
    for alert in alerts:
        item = label(alert)
        if item is not None:
            out.append(json.dumps(item, ensure_ascii=False))
    return out, len(alerts) - len(out)


async def run_export(settings: Settings, since: datetime | None) -> int:
    """Print the labelled JSONL of the database's human-verified alerts; returns the exit code."""
    engine = create_engine(settings)
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            alerts = await repo.human_verified(session, since=since)
    finally:
        await engine.dispose()
    out, skipped = lines(alerts)
    for line in out:
        print(line)
    print(
        f"{len(out)} labelled alert(s) exported; {skipped} left out "
        "(no text, or a place given only as coordinates)",
        file=sys.stderr,
    )
    return 0
