"""The places of the index held column by column: each place comes back as it was given,
and is found by its id whatever the order it was added in."""

from __future__ import annotations

from app.geo.matcher import Gazetteer
from app.geo.table import PlaceTable
from app.triage.types import GazPlace

PLACES = [
    GazPlace("oicha", "Oïcha", 0.70, 29.52, "Nord-Kivu", "Beni", ("Oicha", "Oisha"), "town"),
    GazPlace("gn-1", "Ḿbau 𝔄", 0.63, 29.49, None, None, (), None, "CD.11", imported=True),
    GazPlace("beni", "Beni", 0.49, 29.47, "Nord-Kivu", "Beni", kind="territoire"),
    GazPlace("a", "A", -1.0, 28.0),
]


def test_places_come_back_as_they_were_added() -> None:
    table = PlaceTable(PLACES)
    assert len(table) == 4
    assert list(table) == PLACES
    assert [table[i] for i in range(4)] == PLACES
    assert list(table.names) == [p.name for p in PLACES]


def test_a_place_is_found_by_id_in_any_order() -> None:
    for places in (PLACES, sorted(PLACES, key=lambda p: p.id)):
        table = PlaceTable(places).indexed()
        for place in places:
            index = table.find(place.id)
            assert index is not None and table[index] == place
        assert table.find("zzz") is None
        assert table.find("") is None
        assert table.find("b") is None


def test_a_repeated_id_keeps_the_first_place() -> None:
    other = GazPlace("beni", "Beni-ville", 0.5, 29.5)
    table = PlaceTable([*PLACES, other]).indexed()
    assert len(table) == 4
    gazetteer = Gazetteer([*PLACES, other])
    assert gazetteer.get("beni") == PLACES[2]
    assert list(gazetteer) == PLACES


def test_large_tables_keep_every_place() -> None:
    places = [GazPlace(f"p{i:05d}", f"Place {i}", i / 1e4, 29.0) for i in range(5000)]
    table = PlaceTable(places).indexed()
    assert table.find("p04321") == 4321
    assert table[4999] == places[4999]
    assert list(table) == places
