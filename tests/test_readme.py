"""The README's settings table names every setting there is."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"KENGELE_{name.upper()}"
        for name in Settings.model_fields
        if f"`KENGELE_{name.upper()}`" not in text
    ]
    assert not missing, f"settings missing from the README's table: {missing}"
