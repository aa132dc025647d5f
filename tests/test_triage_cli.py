"""`kengele triage --jsonl` on the labelled set: accuracy per field, with floors."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from tests.support import REPO_ROOT, data_file

FLOORS = {"category": 0.95, "place": 0.95, "severity": 0.90}


async def _kengele(*args: str, database_url: str) -> tuple[int, str, str]:
    env = {**os.environ, "KENGELE_DATABASE_URL": database_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        *args,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_triage_jsonl_accuracy_on_the_labelled_set(database_url: str, demo: None) -> None:
    path = data_file("alerts_dev.jsonl")
    expected = {
        item["id"]: item["expect"]
        for item in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }
    code, out, err = await _kengele("triage", "--jsonl", str(path), database_url=database_url)
    assert code == 0, err
    results = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert set(results) == set(expected)
    for r in results.values():
        assert {
            "id",
            "category",
            "severity",
            "place",
            "location_source",
            "language",
            "reasons",
        } <= set(r)

    def got(field: str, r: dict[str, object]) -> object:
        if field == "place":
            place = r["place"]
            return place["id"] if isinstance(place, dict) else None
        return r[field]

    accuracy = {
        field: sum(got(field, results[i]) == expected[i][field] for i in expected) / len(expected)
        for field in FLOORS
    }
    print("\ntriage accuracy on", path.name, {f: f"{a:.1%}" for f, a in accuracy.items()})
    for field, floor in FLOORS.items():
        assert accuracy[field] >= floor, f"{field} accuracy {accuracy[field]:.1%} < {floor:.0%}"


async def test_triage_of_one_message(database_url: str, demo: None) -> None:
    code, out, _ = await _kengele(
        "triage", "--from", "+243810000101", "Attaque en cours a Mavivi", database_url=database_url
    )
    assert code == 0
    result = json.loads(out)
    assert (result["category"], result["severity"], result["place"]["id"]) == (
        "ATTACK",
        "critical",
        "mavivi",
    )


async def test_bad_jsonl_lines_are_named_by_number(
    database_url: str, demo: None, tmp_path: object
) -> None:
    from pathlib import Path

    file = Path(str(tmp_path)) / "messages.jsonl"
    file.write_text('{"id": 1, "body": "Attaque a Mavivi"}\nnot json\n{"id": 3}\n')
    code, out, err = await _kengele("triage", "--jsonl", str(file), database_url=database_url)
    assert code == 1
    assert len(out.splitlines()) == 1, "good lines are still triaged"
    assert ":2:" in err and ":3:" in err


# Floors from the measurement of the real-text test part (docs/TRIAGE_QUALITY.md), a little
# below it so that a harmless change of one message does not fail the build.
REAL_TEST_FLOORS = {"category": 0.95, "severity": 0.95, "place": 0.97}


async def test_triage_eval_on_the_real_text_test_part(database_url: str, demo: None) -> None:
    path = data_file("triage_real_test.jsonl")
    code, out, err = await _kengele("triage", "eval", str(path), database_url=database_url)
    assert code == 0, err
    lines = out.splitlines()
    print("\n" + "\n".join(lines[:12]))
    assert lines[0] == "116 messages"
    figures = {line.split()[0]: float(line.split()[1].rstrip("%")) / 100 for line in lines[1:4]}
    for field, floor in REAL_TEST_FLOORS.items():
        assert figures[field] >= floor, f"{field} {figures[field]:.1%} < {floor:.0%}"
    assert "false places: 0" in lines
    assert any(line.startswith("fr ") for line in lines) and "misses" in out
    # every miss is shown with the engine's reasons
    misses = [line for line in lines if line.startswith("- rtest")]
    assert misses and all(" ≠ " in line for line in misses)
    assert any(line.startswith("    · ") for line in lines)


async def test_received_at_per_line(database_url: str, demo: None, tmp_path: object) -> None:
    from pathlib import Path

    file = Path(str(tmp_path)) / "messages.jsonl"
    body = "Les ADF ont attaque Mavivi samedi, 3 morts"
    file.write_text(
        json.dumps({"id": 1, "body": body, "received_at": "2024-12-28T10:00:00+02:00"})
        + "\n"
        + json.dumps({"id": 2, "body": body, "received_at": "2024-12-30T10:00:00+02:00"})
        + "\n"
        + json.dumps({"id": 3, "body": body, "received_at": "last tuesday"})
        + "\n"
    )
    code, out, err = await _kengele("triage", "--jsonl", str(file), database_url=database_url)
    assert code == 1 and ":3: received_at is not an ISO 8601 time" in err
    severities = {r["id"]: r["severity"] for r in map(json.loads, out.splitlines())}
    assert severities == {1: "critical", 2: "high"}  # Saturday read on Saturday, then Monday


async def test_triage_eval_needs_labels(database_url: str, demo: None, tmp_path: object) -> None:
    from pathlib import Path

    file = Path(str(tmp_path)) / "unlabelled.jsonl"
    file.write_text('{"id": 1, "body": "Attaque a Mavivi"}\n')
    code, _out, err = await _kengele("triage", "eval", str(file), database_url=database_url)
    assert code == 1
    assert ':1: needs "expect"' in err
    code, _out, err = await _kengele("triage", "eval", database_url=database_url)
    assert code == 2 and "needs a FILE" in err


# The held-out probes (docs/TRIAGE_QUALITY.md, a section each): floors a little below what each
# measures now, and the false places each is known to have (any new one fails). A probe's first
# measurement, before anything was tuned on it, is in the docs.
# - first (48 texts): 95.8 / 97.9 / 97.9% now.
# - second (50): 92.0 / 96.0 / 98.0% at first; 98.0 / 98.0 / 100% now.
# - third (51): 84.3 / 84.3 / 90.2% at first; 100 / 98.0 / 100% after the review fixes.
# - fourth (51): 82.4 / 84.3 / 94.1% at first (3 false places); 98.0 / 98.0 / 96.1% now. Its two
#   false places: a leader's name read as a place, a river's name as its town (a label open
#   to question).
# - fifth (50, the register of published reports): 74.0 / 88.0 / 86.0% at first (2 false
#   places); 90.0 / 98.0 / 98.0% now, none.
# - sixth (50, published reports, mostly English): 80.0 / 82.0 / 76.0% at first (2 false
#   places); 88.0 / 92.0 / 90.0% now, none.
# - seventh (50, SMS and report style): 90.0 / 90.0 / 86.0% at first, no false place;
#   96.0 / 96.0 / 94.0% now.
# - eighth (41, SMS and report style, taken after the fixes of probes 4-7): 87.8 / 90.2 / 85.4%
#   at first, no false place; 95.1 / 97.6 / 92.7% now.
PROBES = [
    ("triage_real_probe.jsonl", 48, {"category": 0.93, "severity": 0.93, "place": 0.95}, set()),
    ("triage_real_probe2.jsonl", 50, {"category": 0.96, "severity": 0.96, "place": 0.96}, set()),
    ("triage_real_probe3.jsonl", 51, {"category": 0.94, "severity": 0.94, "place": 0.96}, set()),
    (
        "triage_real_probe4.jsonl",
        51,
        {"category": 0.96, "severity": 0.96, "place": 0.94},
        {"rprobe4_009", "rprobe4_033"},
    ),
    (
        "triage_real_probe5.jsonl",
        50,
        {"category": 0.88, "severity": 0.96, "place": 0.94},
        set(),
    ),
    (
        "triage_real_probe6.jsonl",
        50,
        {"category": 0.86, "severity": 0.90, "place": 0.86},
        set(),
    ),
    (
        "triage_real_probe7.jsonl",
        50,
        {"category": 0.94, "severity": 0.94, "place": 0.92},
        set(),
    ),
    (
        "triage_real_probe8.jsonl",
        41,
        {"category": 0.92, "severity": 0.95, "place": 0.90},
        set(),
    ),
    (
        "triage_real_probe9.jsonl",
        45,
        {"category": 0.84, "severity": 0.86, "place": 0.91},
        {"rprobe9_015"},
    ),
    (
        "triage_real_probe10.jsonl",
        45,
        {"category": 0.93, "severity": 0.86, "place": 0.91},
        set(),
    ),
    (
        "triage_real_probe11.jsonl",
        45,
        {"category": 0.95, "severity": 0.93, "place": 0.95},
        set(),
    ),
    (
        "triage_real_probe12.jsonl",
        45,
        {"category": 0.93, "severity": 0.95, "place": 0.91},
        set(),
    ),
    (
        "triage_real_probe13.jsonl",
        45,
        {"category": 0.88, "severity": 0.88, "place": 0.91},
        {"rprobe13_039"},
    ),
    (
        "triage_real_probe14.jsonl",
        45,
        {"category": 0.82, "severity": 0.91, "place": 0.93},
        set(),
    ),
    (
        "triage_real_probe15.jsonl",
        45,
        {"category": 0.93, "severity": 0.95, "place": 0.88},
        set(),
    ),
    (
        "triage_real_probe16.jsonl",
        45,
        {"category": 0.84, "severity": 0.73, "place": 0.82},
        {"rprobe16_010"},
    ),
    (
        "triage_real_probe17.jsonl",
        45,
        {"category": 0.88, "severity": 0.91, "place": 0.86},
        {"rprobe17_013", "rprobe17_042"},
    ),
    (
        "triage_real_probe18.jsonl",
        45,
        {"category": 0.75, "severity": 0.75, "place": 0.71},
        {"rprobe18_012", "rprobe18_018"},
    ),
    (
        # six of its false places are "N km / au nord de X" where the text names the event's
        # own place, absent from the gazetteer: docs/TRIAGE_QUALITY.md, probe 19
        "triage_real_probe19.jsonl",
        45,
        {"category": 0.84, "severity": 0.86, "place": 0.64},
        {
            *("rprobe19_004", "rprobe19_007", "rprobe19_010", "rprobe19_014", "rprobe19_023"),
            *("rprobe19_026", "rprobe19_033", "rprobe19_040", "rprobe19_042"),
        },
    ),
]


@pytest.mark.parametrize(("name", "count", "floors", "known_false"), PROBES)
async def test_triage_eval_on_a_held_out_probe(
    name: str,
    count: int,
    floors: dict[str, float],
    known_false: set[str],
    database_url: str,
    demo: None,
) -> None:
    code, out, err = await _kengele(
        "triage", "eval", str(data_file(name)), database_url=database_url
    )
    assert code == 0, err
    lines = out.splitlines()
    print("\n" + "\n".join(lines))  # the figures and every miss
    assert lines[0] == f"{count} messages"
    figures = {line.split()[0]: float(line.split()[1].rstrip("%")) / 100 for line in lines[1:4]}
    for field, floor in floors.items():
        assert figures[field] >= floor, f"{field} {figures[field]:.1%} < {floor:.0%}"
    tally = next(line for line in lines if line.startswith("false places: "))
    false_places: set[str] = set()
    if tally != "false places: 0":
        start = lines.index(next(line for line in lines if line.startswith("false places (")))
        for line in lines[start + 1 :]:
            if not line.startswith("  rprobe"):
                break
            false_places.add(line.split(":")[0].strip())
    assert tally == f"false places: {len(false_places)}"
    assert false_places <= known_false, f"new false places: {false_places - known_false}"
