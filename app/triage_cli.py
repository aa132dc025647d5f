"""`kengele triage`: the gateway's triage of messages, printed as JSON lines, nothing stored."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.geo.service import GazetteerCache
from app.kit.phones import try_e164
from app.migrate import upgrade
from app.people.service import identify
from app.triage.engine import triage_message
from app.triage.types import Sender, TriageResult


def result_json(ident: Any, result: TriageResult) -> dict[str, Any]:
    """The CLI contract of DESIGN.md: id, category, severity, place, location_source, ..."""
    place = result.place
    return {
        "id": ident,
        "category": result.category,
        "severity": result.severity,
        "place": None
        if place is None
        else {
            "id": place.id,
            "name": place.name,
            "lat": place.lat,
            "lon": place.lon,
            "admin1": place.admin1,
            "admin2": place.admin2,
        },
        "location_source": result.location_source,
        "language": result.language,
        "score": result.score,
        "cap": {
            "urgency": result.cap_urgency,
            "severity": result.cap_severity,
            "certainty": result.cap_certainty,
        },
        "numbers": {
            "killed": result.numbers.killed,
            "wounded": result.numbers.wounded,
            "abducted": result.numbers.abducted,
            "attackers": result.numbers.attackers,
        },
        "reasons": list(result.reasons),
    }


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, message or the reason it is not one) for each non-blank line."""
    out: list[tuple[int, dict[str, Any] | str]] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                out.append((number, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(item, dict) or not isinstance(item.get("body"), str):
                out.append((number, 'needs an object with a "body" string'))
                continue
            out.append((number, item))
    return out


async def run_triage(
    settings: Settings, *, text: str | None, phone: str | None, jsonl: Path | None
) -> int:
    """Print one JSON object per message; returns the exit code."""
    if jsonl is not None:
        try:
            items = _read_jsonl(jsonl)
        except OSError as exc:
            print(f"error: cannot read {jsonl}: {exc.strerror}", file=sys.stderr)
            return 1
    else:
        items = [(1, {"id": None, "from": phone, "body": text or ""})]
    engine = create_engine(settings)
    bad = 0
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            gazetteer = await GazetteerCache().get(session)
            if len(gazetteer) == 0:
                print(
                    "warning: the gazetteer is empty; import places first "
                    "(kengele import places FILE) or run kengele serve --demo once",
                    file=sys.stderr,
                )
            for number, item in items:
                if isinstance(item, str):
                    bad += 1
                    print(f"error: {jsonl}:{number}: {item}", file=sys.stderr)
                    continue
                sender = Sender()
                raw_phone = item.get("from")
                if isinstance(raw_phone, str) and raw_phone:
                    e164 = try_e164(raw_phone, settings.default_region)
                    if e164 is not None:
                        sender = (await identify(session, e164, gazetteer)).sender
                result = triage_message(item["body"], gazetteer=gazetteer, sender=sender)
                print(json.dumps(result_json(item.get("id"), result), ensure_ascii=False))
    finally:
        await engine.dispose()
    return 1 if bad else 0
