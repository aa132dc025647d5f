"""The word lists are data files; a deployment can add its own directory on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage.lexicon import LEXICON_DIR, LexiconError, load_lexicon
from app.triage.normalize import clean, fold, tokenize


def test_package_files_load() -> None:
    assert sorted(p.name for p in LEXICON_DIR.glob("*.toml")) == [
        "context.toml",
        "events.toml",
        "language.toml",
        "numbers.toml",
        "ordinary.toml",
        "time.toml",
    ]
    lex = load_lexicon()
    assert {"ATTACK", "THREAT", "PAST", "ONGOING", "FUNC"} <= lex.groups
    assert lex.numbers["mibale"] == 2 and lex.abbreviations["bcp"] == "beaucoup"
    assert lex.weekdays["jumatatu"] == 0 and lex.months["decembre"] == 11
    assert "sante" in lex.place_stopwords and "kasereka" in lex.place_stopwords


def test_extra_directory_is_merged(tmp_path: Path) -> None:
    (tmp_path / "local.toml").write_text('[ATTACK.sw]\nwords = ["wamefyeka"]\n', encoding="utf-8")
    base = load_lexicon()
    extra = load_lexicon(tmp_path)
    tokens = tokenize("wamefyeka watu")
    assert not [h for h in base.find(tokens) if h.group == "ATTACK"]
    assert [h.cue for h in extra.find(tokens) if h.group == "ATTACK"] == ["wamefyeka"]
    # the package words are still there
    assert [h.group for h in extra.find(tokenize("tue")) if h.group == "ATTACK"] == ["ATTACK"]


def test_a_word_list_that_cannot_be_read_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "local.toml").write_text('[ATTACK.sw]\nwords = "wamefyeka\n', encoding="utf-8")
    with pytest.raises(LexiconError, match=r"local\.toml.*line 2"):
        load_lexicon(tmp_path)
    with pytest.raises(LexiconError, match="missing: not a directory"):
        load_lexicon(tmp_path / "missing")


def test_normalisation() -> None:
    assert fold("Oïcha") == "oicha" and fold("SAKÉ") == "sake" and fold("Œuvre") == "oeuvre"
    assert clean("tuÃ©es Ã\u00a0 Beni") == "tuées à Beni"
    assert clean("tuÃ©es Ã  Beni").split() == ["tuées", "à", "Beni"]
    assert [t.norm for t in tokenize(clean("ng'ombe 2km M23 bcp"), {"bcp": "beaucoup"})] == [
        "ngombe",
        "2",
        "km",
        "m23",
        "beaucoup",
    ]
