"""The gazetteer name index: exact, alternative names, typos, ambiguity, search, scale."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from app.geo.matcher import Gazetteer, max_edits, name_key
from app.triage.normalize import tokenize
from app.triage.types import GazPlace

PLACES = [
    GazPlace("oicha", "Oïcha", 0.70, 29.52, "Nord-Kivu", "Beni", ("Oicha", "Oisha")),
    GazPlace("eringeti", "Eringeti", 0.975, 29.63, "Nord-Kivu", "Beni", ("Eringheti",)),
    GazPlace("kanyabayonga", "Kanyabayonga", -0.71, 29.18, "Nord-Kivu", "Lubero"),
    GazPlace("mayimoya", "Mayimoya", 0.76, 29.54, "Nord-Kivu", "Beni", ("Mayi-Moya",)),
    GazPlace("kasindi", "Kasindi", 0.033, 29.717, "Nord-Kivu", "Beni", ("Kasindi-Lubiriha",)),
    GazPlace(
        "piana-mwanga", "Piana-Mwanga", -7.67, 28.17, "Tanganyika", "Manono", ("Piana Mwanga",)
    ),
    GazPlace("aru", "Aru", 2.86, 30.84, "Ituri", "Aru"),
    GazPlace("kilo", "Kilo", 1.82, 30.15, "Ituri", "Djugu", ("Kilo-Etat",)),
    GazPlace("kabare-sk", "Kabare", -2.47, 28.79, "Sud-Kivu", "Kabare"),
    GazPlace("kabare-ta", "Kabare", -7.58, 29.27, "Tanganyika", "Moba"),
    GazPlace("binza-rutshuru", "Binza", -1.056, 28.99, "Nord-Kivu", "Rutshuru"),
    GazPlace(
        "binza-kinshasa", "Binza", -4.35, 15.26, "Kinshasa", "Ngaliema", ("Binza Ma Campagne",)
    ),
    GazPlace("walungu", "Walungu", -2.71, 28.65, "Sud-Kivu", "Walungu"),
    GazPlace("moba", "Moba", -7.04, 29.76, "Tanganyika", "Moba"),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(PLACES, served_admin2=frozenset({"Rutshuru", "Kabare", "Beni"}))


def found(gaz: Gazetteer, text: str, stop: frozenset[str] = frozenset()) -> list[str]:
    return [
        "|".join(p.id for p in m.places) for m in gaz.find_mentions(tokenize(text), stopwords=stop)
    ]


def test_basics(gaz: Gazetteer) -> None:
    assert len(gaz) == len(PLACES)
    assert gaz.get("oicha") == PLACES[0]
    assert gaz.get("nowhere") is None
    assert name_key("Piana-Mwanga") == ("pianamwanga", 2)
    assert [max_edits(n) for n in (3, 4, 5, 7, 8, 12)] == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("attaque a Oïcha", ["oicha"]),
        ("OICHA", ["oicha"]),
        ("oisha", ["oicha"]),
        ("Erengeti", ["eringeti"]),
        ("Eringheti", ["eringeti"]),
        ("Kanyabayoga", ["kanyabayonga"]),
        ("Kanyabayongaa", ["kanyabayonga"]),
        ("Kanyabyoga", ["kanyabayonga"]),
        ("Mayi-Moya", ["mayimoya"]),
        ("Mayi Moya", ["mayimoya"]),
        ("mayimoya", ["mayimoya"]),
        ("Kasindi-Lubiriha", ["kasindi"]),
        ("Piana Mwanga", ["piana-mwanga"]),
        ("Piana-Mwnga", ["piana-mwanga"]),
        ("Binza Ma Campagne", ["binza-kinshasa"]),
        ("Binza", ["binza-rutshuru|binza-kinshasa"]),
        ("Kabare", ["kabare-sk|kabare-ta"]),
        ("Aru et Kilo", ["aru", "kilo"]),
        ("route Walungu-Kabare", ["walungu", "kabare-sk|kabare-ta"]),
        ("Moba", ["moba"]),
        # not places
        ("Mobaa", []),  # four-letter names get no typo tolerance
        ("Ar", []),
        ("watu moja kati sana vers pres", []),
        ("Walungo", ["walungu"]),
        ("Xalungu", []),  # the first letter must match
        ("Eringetixyz", []),
    ],
)
def test_find_mentions(gaz: Gazetteer, text: str, ids: list[str]) -> None:
    assert found(gaz, text) == ids


def test_stopwords_are_flagged_and_never_fuzzy(gaz: Gazetteer) -> None:
    stop = frozenset({"kilo", "walungo"})
    mentions = gaz.find_mentions(tokenize("un kilo de farine"), stopwords=stop)
    assert [m.common for m in mentions] == [True]
    assert found(gaz, "Walungo", stop) == []


def test_mention_details(gaz: Gazetteer) -> None:
    (m,) = gaz.find_mentions(tokenize("vers Erengeti!"))
    assert (m.start, m.end, m.text, m.kind, m.distance, m.matched) == (
        1,
        2,
        "Erengeti",
        "fuzzy",
        1,
        "Eringeti",
    )
    (alt,) = gaz.find_mentions(tokenize("Oisha"))
    assert alt.kind == "alt" and alt.matched == "Oisha"


def test_resolve_ambiguous(gaz: Gazetteer) -> None:
    kabare = [p for p in PLACES if p.name == "Kabare"]
    walungu, moba = gaz.get("walungu"), gaz.get("moba")
    assert gaz.resolve(kabare, walungu)[0].id == "kabare-sk"
    assert gaz.resolve(kabare, moba)[0].id == "kabare-ta"
    binza = [p for p in PLACES if p.name == "Binza"][::-1]  # Kinshasa listed first
    assert gaz.resolve(binza, None)[0].id == "binza-rutshuru"  # inside the served area
    assert Gazetteer(PLACES).resolve(binza, None)[0].id == "binza-kinshasa"  # first listed


def test_search(gaz: Gazetteer) -> None:
    assert [p.id for p in gaz.search("oicha")] == ["oicha"]
    assert [p.id for p in gaz.search("Kab")] == ["kabare-sk", "kabare-ta"]
    assert [p.id for p in gaz.search("kanyabayoga")] == ["kanyabayonga"]
    assert gaz.search("Binza", limit=1)[0].name == "Binza"
    assert gaz.search("") == []
    assert gaz.search("zzzzzz") == []


def test_duplicate_ids_are_kept_once() -> None:
    assert len(Gazetteer([PLACES[0], PLACES[0]])) == 1


def _synthetic(n: int, seed: int = 7) -> list[GazPlace]:
    rng = random.Random(seed)
    syll = [c + v for c in "bkmnlrstgdfpwyz" for v in "aeiou"]
    out = []
    for i in range(n):
        words = ["".join(rng.choice(syll) for _ in range(rng.randint(2, 4)))]
        if rng.random() < 0.1:
            words.append("".join(rng.choice(syll) for _ in range(2)))
        out.append(GazPlace(f"s{i}", " ".join(w.title() for w in words), 0.0, 0.0))
    return out


def test_finds_misspelt_places_among_many() -> None:
    # Among 20,000 other places the misspelt names still find theirs (how fast: bench/geotag.py).
    places = _synthetic(20_000) + PLACES
    gaz = Gazetteer(places)
    tokens = tokenize("Watu wenye silaha wameonekana karibu na Erengeti, wanaelekea Kanyabayoga")
    ids = [m.places[0].id for m in gaz.find_mentions(tokens)]
    assert "eringeti" in ids and "kanyabayonga" in ids


def test_among_many_every_name_finds_all_its_places_in_order_and_no_other() -> None:
    """The exact index is hashes in a sorted array behind a bit filter: every name of 20,000
    places (imported, as GeoNames': matched by their exact names only) finds each place of
    that name, in the order they were listed; a name no place has finds nothing; a search
    lists the names that start with its letters in order."""
    places = [replace(p, imported=True) for p in _synthetic(20_000)]
    gaz = Gazetteer(places)
    by_key: dict[str, list[str]] = {}
    for place in places:
        by_key.setdefault(name_key(place.name)[0], []).append(place.id)
    assert any(len(ids) > 1 for ids in by_key.values()), "some names are shared"
    for place in places[::7]:
        (mention,) = gaz.find_mentions(tokenize(place.name))
        assert [p.id for p in mention.places] == by_key[name_key(place.name)[0]]
    absent = [k + "x" for k in list(by_key)[:300] if k + "x" not in by_key]
    assert absent and all(gaz.find_mentions(tokenize(key)) == [] for key in absent)
    starting = sorted(k for k in by_key if k.startswith("bab"))
    assert len(starting) > 10
    listed = [p.id for p in gaz.search("bab", limit=1000)]
    assert listed == [place_id for k in starting for place_id in by_key[k]]
