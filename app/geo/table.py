"""The places of a gazetteer column by column: what the place index holds in memory.

One `GazPlace` object per place costs some 350 bytes with its coordinates and strings; a
144,000-place gazetteer (GeoNames cities1000) held 50 MB that way in every serving process.
Here the coordinates are in arrays, the strings that repeat (provinces, territoires, kinds,
codes) are stored once and referred to by number, and alternative names only where a place
has some: about 170 bytes a place. `table[i]` makes the GazPlace when one is asked for.
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import islice

from app.triage.types import GazPlace


class StringPool:
    """Many short strings kept as one (a str costs 49 bytes besides its letters): `pool[i]`
    slices the i-th out. Appended in bulk, read once complete."""

    _CHUNK = 1024

    def __init__(self) -> None:
        self._text = ""
        self._chunks: list[str] = []
        self._pending: list[str] = []
        self._ends = array("I")  # where each string ends in the whole
        self._size = 0

    def append(self, text: str) -> None:
        """Add one string at the end."""
        self._pending.append(text)
        self._size += len(text)
        self._ends.append(self._size)
        if len(self._pending) >= self._CHUNK:
            self._chunks.append("".join(self._pending))
            self._pending.clear()

    def _whole(self) -> str:
        if self._pending or self._chunks:
            self._text = "".join([self._text, *self._chunks, *self._pending])
            self._chunks.clear()
            self._pending.clear()
        return self._text

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> str:
        ends = self._ends
        return self._whole()[ends[i - 1] if i else 0 : ends[i]]

    def __iter__(self) -> Iterator[str]:
        text, start = self._whole(), 0
        for end in self._ends:
            yield text[start:end]
            start = end


class PlaceTable:
    """Places in the order they were added; `table[i]` is the i-th as a GazPlace."""

    def __init__(self, places: Iterable[GazPlace] = ()) -> None:
        self.ids = StringPool()
        self.names = StringPool()
        self.lats = array("d")
        self.lons = array("d")
        self.imported = bytearray()
        # Numbers into self._strings (0 is None) of admin1, admin2, kind and admin1_code.
        self._admin1 = array("I")
        self._admin2 = array("I")
        self._kind = array("I")
        self._code = array("I")
        self._strings: list[str | None] = [None]
        self._numbers: dict[str | None, int] = {None: 0}
        self._alts: dict[int, tuple[str, ...]] = {}
        # Positions in id order (None: the places are in id order already); see `indexed`.
        self._order: array[int] | None = None
        for place in places:
            self.add(place)

    def _number(self, text: str | None) -> int:
        number = self._numbers.get(text)
        if number is None:
            number = self._numbers[text] = len(self._strings)
            self._strings.append(text)
        return number

    def append(
        self,
        id: str,
        name: str,
        lat: float,
        lon: float,
        admin1: str | None = None,
        admin2: str | None = None,
        alt_names: Iterable[str] | None = (),
        kind: str | None = None,
        admin1_code: str | None = None,
        imported: bool = False,
    ) -> None:
        """Add one place at the end."""
        alts = tuple(alt_names) if alt_names else ()
        if alts:
            self._alts[len(self.ids)] = alts
        self.ids.append(id)
        self.names.append(name)
        self.lats.append(lat)
        self.lons.append(lon)
        self.imported.append(imported)
        self._admin1.append(self._number(admin1))
        self._admin2.append(self._number(admin2))
        self._kind.append(self._number(kind))
        self._code.append(self._number(admin1_code))

    def add(self, place: GazPlace) -> None:
        """Add a GazPlace at the end."""
        self.append(
            place.id,
            place.name,
            place.lat,
            place.lon,
            place.admin1,
            place.admin2,
            place.alt_names,
            place.kind,
            place.admin1_code,
            place.imported,
        )

    def admin1(self, i: int) -> str | None:
        """The province of the i-th place."""
        return self._strings[self._admin1[i]]

    def admin2(self, i: int) -> str | None:
        """The territoire of the i-th place."""
        return self._strings[self._admin2[i]]

    def admin1_code(self, i: int) -> str | None:
        """The province code of the i-th place."""
        return self._strings[self._code[i]]

    def alt_names(self, i: int) -> tuple[str, ...]:
        """The alternative names of the i-th place."""
        return self._alts.get(i, ())

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> GazPlace:
        strings = self._strings
        return GazPlace(
            id=self.ids[i],
            name=self.names[i],
            lat=self.lats[i],
            lon=self.lons[i],
            admin1=strings[self._admin1[i]],
            admin2=strings[self._admin2[i]],
            alt_names=self._alts.get(i, ()),
            kind=strings[self._kind[i]],
            admin1_code=strings[self._code[i]],
            imported=bool(self.imported[i]),
        )

    def __iter__(self) -> Iterator[GazPlace]:
        return (self[i] for i in range(len(self.ids)))

    def find(self, place_id: str) -> int | None:
        """The number of the place with this id (after `indexed`), or None."""
        ids = self.ids
        if self._order is None:
            i = bisect_left(range(len(ids)), place_id, key=ids.__getitem__)
        else:
            i = bisect_left(self._order, place_id, key=ids.__getitem__)
            i = self._order[i] if i < len(self._order) else len(ids)
        return i if i < len(ids) and ids[i] == place_id else None

    def indexed(self) -> PlaceTable:
        """This table ready for `find`: without the places whose id came earlier (the first
        one kept, as a copy when there are some), with its order by id."""
        ids = self.ids
        # Rows read from the database come by id: nothing to sort, no repeat possible.
        if all(map(operator.lt, ids, islice(ids, 1, None))):
            self._order = None
            return self
        table = self
        if len(set(ids)) < len(ids):
            seen: set[str] = set()
            table = PlaceTable()
            for i, place_id in enumerate(ids):
                if place_id not in seen:
                    seen.add(place_id)
                    table.add(self[i])
        table._order = array("i", sorted(range(len(table)), key=table.ids.__getitem__))
        return table
