"""The work of `kengele triage`: messages triaged with the database's gazetteer and senders,
printed as JSON lines (nothing stored), or scored against a labelled file."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from app.geo.service import GazetteerCache
from app.kit.config import Settings
from app.kit.db import create_engine, create_sessionmaker
from app.kit.migrate import upgrade
from app.kit.phones import try_e164
from app.people.service import identify, served_area
from app.triage.engine import triage_message
from app.triage.evaluation import Case, Report, render
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
            "level": place.area_level,
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
            received = item.get("received_at")
            if received is not None:
                try:
                    item["received_at"] = datetime.fromisoformat(str(received))
                except ValueError:
                    out.append((number, f"received_at is not an ISO 8601 time: {received!r}"))
                    continue
            out.append((number, item))
    return out


async def _triage_items(
    settings: Settings, items: list[tuple[int, dict[str, Any] | str]], source: Path | None
) -> AsyncIterator[tuple[dict[str, Any], Sender, TriageResult] | None]:
    """Triage each message with the database's gazetteer and senders; None for a bad line
    (named on stderr with its line number)."""
    engine = create_engine(settings)
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            gazetteer = await GazetteerCache(
                served_area=served_area, region=settings.triage_region_list
            ).get(session)
            if len(gazetteer) == 0:
                print(
                    "warning: the gazetteer is empty; import places first "
                    "(kengele import places FILE) or run kengele serve --demo once",
                    file=sys.stderr,
                )
            for number, item in items:
                if isinstance(item, str):
                    print(f"error: {source}:{number}: {item}", file=sys.stderr)
                    yield None
                    continue
                sender = Sender()
                raw_phone = item.get("from")
                if isinstance(raw_phone, str) and raw_phone:
                    e164 = try_e164(raw_phone, settings.default_region)
                    if e164 is not None:
                        sender = (await identify(session, e164, gazetteer)).sender
                result = triage_message(
                    item["body"],
                    gazetteer=gazetteer,
                    sender=sender,
                    received_at=item.get("received_at"),
                )
                yield item, sender, result
    finally:
        await engine.dispose()


def _read_or_complain(path: Path) -> list[tuple[int, dict[str, Any] | str]] | None:
    try:
        return _read_jsonl(path)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


async def run_triage(
    settings: Settings, *, text: str | None, phone: str | None, jsonl: Path | None
) -> int:
    """Print one JSON object per message; returns the exit code."""
    if jsonl is not None:
        items = _read_or_complain(jsonl)
        if items is None:
            return 1
    else:
        items = [(1, {"id": None, "from": phone, "body": text or ""})]
    bad = 0
    async for done in _triage_items(settings, items, jsonl):
        if done is None:
            bad += 1
            continue
        item, _sender, result = done
        print(json.dumps(result_json(item.get("id"), result), ensure_ascii=False))
    return 1 if bad else 0


def _expected(item: dict[str, Any]) -> dict[str, str | None] | None:
    expect = item.get("expect")
    if not isinstance(expect, dict) or not {"category", "severity", "place"} <= set(expect):
        return None
    return {field: expect[field] for field in ("category", "severity", "place")}


async def run_eval(settings: Settings, path: Path) -> int:
    """Triage a labelled JSONL file and print the accuracy report; returns the exit code."""
    items = _read_or_complain(path)
    if items is None:
        return 1
    checked: list[tuple[int, dict[str, Any] | str]] = []
    for number, item in items:
        if isinstance(item, dict) and _expected(item) is None:
            item = 'needs "expect": {"category", "severity", "place"}'
        checked.append((number, item))
    cases: list[Case] = []
    bad = 0
    async for done in _triage_items(settings, checked, path):
        if done is None:
            bad += 1
            continue
        item, sender, result = done
        expected = _expected(item)
        assert expected is not None
        cases.append(
            Case(
                id=str(item.get("id")),
                lang=str(item.get("lang") or result.language),
                body=item["body"],
                expected=expected,
                got={
                    "category": result.category,
                    "severity": result.severity,
                    "place": result.place.id if result.place else None,
                },
                home=sender.home.id if sender.home else None,
                reasons=result.reasons,
            )
        )
    if not cases:
        print(f"error: {path}: no labelled message", file=sys.stderr)
        return 1
    print("\n".join(render(Report(tuple(cases)))))
    return 1 if bad else 0
