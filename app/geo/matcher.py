"""In-memory gazetteer index: find place names in tokens (exact, alternative names, small typos).

Pure code, built once from an iterable of :class:`GazPlace`. Fast with 100,000 places:

* exact: the folded names with spaces/hyphens removed ("mayimoya"), kept as one string
  (`StringPool`), with their hashes in a sorted ``array('q')`` and a parallel ``array('i')`` of
  name entries, looked up by binary search for every run of 1..N tokens of the message (a
  dict of 150,000 names held some 20 MB in str objects and slots, and twice that while a
  rebuild made the next one);
* typos: a symmetric-deletion index — the hashes of each name and of its one-letter deletions,
  kept in a sorted ``array('q')`` (8 bytes each) with a parallel ``array('i')`` of entries; a
  query word probes its own one- and two-letter deletions by binary search and every candidate is
  verified with a real edit distance (rapidfuzz). One edit is allowed in names of 5-7 letters,
  two in names of 8+; fuzzy candidates must have the same first letter and at least 5 letters.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Container, Iterable, Iterator, Sequence
from itertools import combinations

from rapidfuzz.distance import Levenshtein

from app.geo.distance import haversine_km
from app.geo.table import PlaceTable, StringPool
from app.triage.normalize import Token, fold_text
from app.triage.types import GazPlace, Mention

MIN_EXACT = 3  # "Aru"
MIN_FUZZY = 5
MAX_TOKENS = 5


def name_key(name: str) -> tuple[str, int]:
    """Folded name without separators and its word count: "Piana-Mwanga" -> ("pianamwanga", 2)."""
    words = fold_text(name, cached=False).split()
    return "".join(words), len(words)


def max_edits(length: int) -> int:
    """Typos allowed for a name of ``length`` letters (TRIAGE.md: one or two letters off)."""
    if length >= 8:
        return 2
    if length >= MIN_FUZZY:
        return 1
    return 0


def _deletions1(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    if depth >= 1:
        out |= _deletions1(word)
    if depth >= 2 and len(word) >= 7:
        for a, b in combinations(range(len(word)), 2):
            out.add(word[:a] + word[a + 1 : b] + word[b + 1 :])
    return out


def _by_hash(hashes: array[int], values: Sequence[int]) -> tuple[array[int], array[int]]:
    """`hashes` sorted, and `values` in the same order (of equal hashes, the first first).

    Sorted bucket by bucket (by the hash's top 8 bits), not in one call: one sort of the
    1.4 million deletions of 144k names holds the GIL for about a second, and a rebuild runs
    in a thread beside the webhooks."""
    buckets = [array("i") for _ in range(256)]
    for i, h in enumerate(hashes):
        buckets[(h >> 56) + 128].append(i)  # hash() is a signed 64-bit number
    sorted_hashes, sorted_values = array("q"), array("i")
    for bucket in buckets:
        order = sorted(bucket, key=hashes.__getitem__)
        sorted_hashes.extend(hashes[i] for i in order)
        sorted_values.extend(values[i] for i in order)
    return sorted_hashes, sorted_values


def _by_name(keys: StringPool) -> array[int]:
    """The entries in the order of their names (of equal names, the first first); sorted
    letter by letter, so that only one letter's names are strings at a time."""
    buckets: dict[str, array[int]] = {}
    for eidx, key in enumerate(keys):
        buckets.setdefault(key[0], array("i")).append(eidx)
    order = array("i")
    for _letter, bucket in sorted(buckets.items()):
        order.extend(sorted(bucket, key=keys.__getitem__))
    return order


REGION_MARGIN_DEG = 1.0  # around the served places: about 110 km


def _in_region(table: PlaceTable, pidx: int, region: Sequence[str]) -> bool:
    """A place of a province (admin1 name or code) or a country ("CD") of ``region``."""
    code = (table.admin1_code(pidx) or "").casefold()
    admin1 = (table.admin1(pidx) or "").casefold()
    for entry in region:
        key = entry.strip().casefold()
        if key and (key in (code, admin1) or code.startswith((f"{key}-", f"{key}."))):
            return True
    return False


def served_box(
    places: PlaceTable, served_admin2: frozenset[str], homes: Iterable[str]
) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) around the places of the served territoires and the focal
    points' homes, with a margin; None when nothing is served (every place counts)."""
    core = {i for i in range(len(places)) if places.admin2(i) in served_admin2}
    core.update(i for i in map(places.find, homes) if i is not None)
    if not core:
        return None
    m = REGION_MARGIN_DEG
    lats, lons = [places.lats[i] for i in core], [places.lons[i] for i in core]
    return min(lats) - m, min(lons) - m, max(lats) + m, max(lons) + m


class Gazetteer:
    """Name index over gazetteer places.

    Only places inside the region the gateway serves are matched by name (a large gazetteer
    must not invent places): the provinces or countries of ``region`` when given; else our own
    places, and imported ones (GeoNames) inside the box around the places of the served
    territoires and the focal points' homes. Every place stays reachable by id (``get``)."""

    def __init__(
        self,
        places: Iterable[GazPlace] | PlaceTable,
        served_admin2: frozenset[str] = frozenset(),
        region: Sequence[str] = (),
        homes: Iterable[str] = (),
    ):
        self.served_admin2 = frozenset(served_admin2)
        table = places if isinstance(places, PlaceTable) else PlaceTable(places)
        # Every place, reachable by id; a place whose id came earlier is left out.
        self._places = table = table.indexed()
        box = None if region else served_box(table, self.served_admin2, homes)
        # name entries (parallel arrays)
        self._entry_place = array("i")
        self._entry_ntok = array("b")
        self._entry_alt = array("b")
        self._entry_key = StringPool()
        self._entry_label: dict[int, str] = {}  # display name of the alt names
        key_hashes = array("q")
        self.max_tokens = 1
        lats, lons, imported = table.lats, table.lons, table.imported
        for pidx, main_name in enumerate(table.names):
            if region and not _in_region(table, pidx, region):
                continue
            if (
                imported[pidx]
                and box
                and not (box[0] <= lats[pidx] <= box[2] and box[1] <= lons[pidx] <= box[3])
            ):
                continue
            seen: set[str] = set()
            alts = table.alt_names(pidx)
            for is_alt, name in ((0, main_name), *((1, a) for a in alts)):
                key, ntok = name_key(name)
                if len(key) < MIN_EXACT or key in seen:
                    continue
                seen.add(key)
                if is_alt:
                    self._entry_label[len(self._entry_key)] = name
                self._entry_place.append(pidx)
                self._entry_ntok.append(min(ntok, 127))
                self._entry_alt.append(is_alt)
                self._entry_key.append(key)
                key_hashes.append(hash(key))
                self.max_tokens = max(self.max_tokens, min(ntok, MAX_TOKENS))
        self._exact_hash, self._exact_entry = _by_hash(key_hashes, range(len(key_hashes)))
        # One bit per hash, of 16 or more per name: most runs of tokens are no name, and
        # nine in ten of those are told so here, as fast as a dict would.
        bits = 1 << max(13, (16 * len(key_hashes)).bit_length())
        self._exact_mask = bits - 1
        self._exact_bits = bytearray(bits >> 3)
        for h in key_hashes:
            self._exact_bits[(h & self._exact_mask) >> 3] |= 1 << (h & 7)
        del key_hashes
        self._build_fuzzy()
        self._by_name = _by_name(self._entry_key)

    def _build_fuzzy(self) -> None:
        hashes = array("q")
        owners = array("i")
        for eidx, key in enumerate(self._entry_key):
            # Imported places (GeoNames) are matched by their exact names only: a typo read
            # as one of 144k foreign names invents a place ("Rukonge" ≈ Rumonge, Burundi).
            if len(key) < MIN_FUZZY or self._places.imported[self._entry_place[eidx]]:
                continue
            for variant in _deletions(key, 1):
                hashes.append(hash(variant))
                owners.append(eidx)
        letters: set[str] = set()
        for key in self._entry_key:
            letters.update(key)
        self._alphabet = "".join(sorted(letters))
        self._fz_hash, self._fz_entry = _by_hash(hashes, owners)

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self._places)

    def __iter__(self) -> Iterator[GazPlace]:
        return iter(self._places)

    def get(self, place_id: str) -> GazPlace | None:
        """The place with this id, if any."""
        idx = self._places.find(place_id)
        return None if idx is None else self._places[idx]

    def _entries(self, key: str) -> list[int]:
        """The name entries of exactly this key, in the order they were added."""
        h = hash(key)
        if not self._exact_bits[(h & self._exact_mask) >> 3] >> (h & 7) & 1:
            return []
        hashes = self._exact_hash
        pos = bisect_left(hashes, h)
        found: list[int] = []
        while pos < len(hashes) and hashes[pos] == h:
            eidx = self._exact_entry[pos]
            if self._entry_key[eidx] == key:
                found.append(eidx)
            pos += 1
        return found

    def _probe(
        self, variants: Iterable[str], key: str, ntok: int, seen: set[int]
    ) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        hashes, entries = self._fz_hash, self._fz_entry
        for variant in variants:
            h = hash(variant)
            pos = bisect_left(hashes, h)
            while pos < len(hashes) and hashes[pos] == h:
                eidx = entries[pos]
                pos += 1
                if eidx in seen:
                    continue
                seen.add(eidx)
                name = self._entry_key[eidx]
                if name[0] != key[0] or self._entry_ntok[eidx] != ntok:
                    continue
                limit = min(max_edits(len(name)), max_edits(max(len(key), len(name) - 2)))
                if limit == 0:
                    continue
                d = Levenshtein.distance(key, name, score_cutoff=limit)
                if 0 < d <= limit:
                    found.append((d, eidx))
        return found

    def _fuzzy_entries(self, key: str, ntok: int) -> list[tuple[int, int]]:
        """(distance, entry) of names within the allowed edits of ``key``.

        The index holds each name and its one-letter deletions; the query probes itself, its
        one- and two-letter deletions, and (only when that finds nothing) its one-letter
        insertions, which covers names two letters longer than the query."""
        if len(key) < MIN_FUZZY:
            return []
        seen: set[int] = set()
        found = self._probe(_deletions(key, max_edits(len(key) + 2)), key, ntok, seen)
        if not found and len(key) >= 6 and self._fz_hash:
            inserts = (
                key[:i] + c + key[i:] for i in range(1, len(key) + 1) for c in self._alphabet
            )
            found = self._probe(inserts, key, ntok, seen)
        found.sort()
        return found

    def _mention(
        self,
        tokens: Sequence[Token],
        i: int,
        n: int,
        entries: Sequence[int],
        dist: int,
        common: bool,
    ) -> Mention:
        places: list[GazPlace] = []
        for e in entries:
            p = self._places[self._entry_place[e]]
            if p not in places:
                places.append(p)
        first = entries[0]
        kind = "fuzzy" if dist else ("alt" if all(self._entry_alt[e] for e in entries) else "name")
        label = self._entry_label.get(first) or self._places.names[self._entry_place[first]]
        text = " ".join(t.raw for t in tokens[i : i + n])
        return Mention(i, i + n, text, tuple(places), kind, dist, common, label)

    def find_mentions(
        self,
        tokens: Sequence[Token],
        *,
        stopwords: frozenset[str] = frozenset(),
        fuzzy_at: Container[int] | None = None,
    ) -> list[Mention]:
        """Place names in ``tokens``, left to right, longest first, exact before fuzzy.

        ``stopwords``: common words; they are never matched fuzzily, and an exact match of one is
        flagged ``common`` so that the caller can ask for a capital or a preposition.
        ``fuzzy_at``: the token positions where a typo match may start (all when None)."""
        out: list[Mention] = []
        norms = [t.norm for t in tokens]
        n_tok = len(norms)
        i = 0
        while i < n_tok:
            if norms[i].isdigit():
                i += 1
                continue
            found: Mention | None = None
            top = min(self.max_tokens, n_tok - i)
            for n in range(top, 0, -1):
                words = norms[i : i + n]
                if any(w.isdigit() for w in words):
                    continue
                key = "".join(words)
                entries = [
                    e for e in self._entries(key) if self._entry_ntok[e] == n or len(key) >= 7
                ]
                if entries:
                    common = n == 1 and key in stopwords
                    found = self._mention(tokens, i, n, entries, 0, common)
                    break
            if found is None and (fuzzy_at is None or i in fuzzy_at):
                for n in range(min(top, 3), 0, -1):
                    words = norms[i : i + n]
                    if any(w.isdigit() or w in stopwords for w in words):
                        continue
                    key = "".join(words)
                    fuzzy = self._fuzzy_entries(key, n)
                    if fuzzy:
                        best = fuzzy[0][0]
                        entries = [e for d, e in fuzzy if d == best]
                        found = self._mention(tokens, i, n, entries, best, False)
                        break
            if found is not None:
                out.append(found)
                i = found.end
            else:
                i += 1
        return out

    def resolve(self, places: Sequence[GazPlace], home: GazPlace | None) -> tuple[GazPlace, str]:
        """One place for a name several places share (TRIAGE.md Place rule 3), and why; a
        place of our own gazetteer outranks an imported one of the same name."""
        if len(places) == 1:
            return places[0], "unique"
        local = [p for p in places if not p.imported]
        if local and len(local) < len(places):
            if len(local) == 1:
                return local[0], "local gazetteer outranks imported"
            places = local
        if home is not None:
            best = min(places, key=lambda p: haversine_km(home.lat, home.lon, p.lat, p.lon))
            return best, "nearest to reporter home"
        served = [p for p in places if p.admin2 in self.served_admin2]
        if served:
            return served[0], "inside the served area"
        return places[0], "first listed"

    def search(self, name: str, limit: int = 10) -> list[GazPlace]:
        """Places for a search box: exact name, then names starting with it, then typos."""
        key = "".join(fold_text(name).split())
        if not key or limit <= 0:
            return []
        out: list[GazPlace] = []
        seen: set[int] = set()

        def add(eidx: int) -> None:
            pidx = self._entry_place[eidx]
            if pidx not in seen:
                seen.add(pidx)
                out.append(self._places[pidx])

        for e in self._entries(key):
            add(e)
        keys, by_name = self._entry_key, self._by_name
        pos = bisect_left(by_name, key, key=keys.__getitem__)
        while pos < len(by_name) and len(out) < limit:
            eidx = by_name[pos]
            if not keys[eidx].startswith(key):
                break
            add(eidx)
            pos += 1
        if len(out) < limit and len(key) >= MIN_FUZZY:
            for n in range(1, self.max_tokens + 1):
                for _d, e in self._fuzzy_entries(key, n):
                    add(e)
        return out[:limit]

    def nearest(self, lat: float, lon: float) -> GazPlace | None:
        """The place nearest to a point (linear scan; for tools, not for the SMS path)."""
        best: int | None = None
        best_d = math.inf
        for i, (p_lat, p_lon) in enumerate(zip(self._places.lats, self._places.lons, strict=True)):
            d = haversine_km(lat, lon, p_lat, p_lon)
            if d < best_d:
                best, best_d = i, d
        return None if best is None else self._places[best]
