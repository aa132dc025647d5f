"""The in-memory gazetteer index, rebuilt when places or liaison zones change."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.geo import repository as places_repo
from app.geo.importers.records import IMPORTED_SOURCES, check_coordinates
from app.geo.matcher import Gazetteer
from app.geo.models import Place
from app.geo.schemas import PlaceCreate
from app.geo.table import PlaceTable
from app.kit import hooks
from app.kit.errors import Conflict, NotFound, Unprocessable
from app.kit.importing import assign_changed
from app.kit.memory import release_free_memory
from app.triage.types import GazPlace

log = logging.getLogger(__name__)


def add_row(table: PlaceTable, place: Place | Row[Any]) -> None:
    """Add a stored place to the index's table of places."""
    table.append(
        place.id,
        place.name,
        place.lat,
        place.lon,
        place.admin1,
        place.admin2,
        place.alt_names,
        place.kind,
        place.admin1_code,
        place.source in IMPORTED_SOURCES,
    )


def build_gazetteer(
    places: PlaceTable | Sequence[GazPlace],
    served_admin2: frozenset[str],
    region: Sequence[str] = (),
    homes: Sequence[str] = (),
) -> Gazetteer:
    """Index `places` (CPU-bound: run off the event loop for large gazetteers)."""
    return Gazetteer(places, served_admin2=served_admin2, region=region, homes=homes)


# The zones the liaisons serve and the homes of the focal points (app.people.service knows
# them): a name several places share resolves to one of those first.
ServedArea = Callable[[AsyncSession], Awaitable[tuple[frozenset[str], tuple[str, ...]]]]


class GazetteerCache:
    """One Gazetteer per process, built before the process serves, never on a request.

    `load` builds it at start. A change of places or liaison zones committed by this process
    starts a rebuild in the background (`invalidate_on_commit`); a periodic `check` (one cheap
    fingerprint query every `ttl` seconds, in a background loop) catches those of other
    processes and of imports. A rebuild runs in a thread and swaps the new index in whole:
    `get`, on the webhook path, returns the current index at once, without a query, while a
    rebuild is under way. `fresh`, for search and the map, checks the database (and waits for
    a rebuild), so that an edit is seen by the next search.
    """

    def __init__(
        self, *, served_area: ServedArea, ttl: float = 5.0, region: Sequence[str] = ()
    ) -> None:
        self.served_area = served_area
        self.ttl = ttl
        self.region = tuple(region)
        self._gazetteer: Gazetteer | None = None
        self._fingerprint: tuple[object, ...] | None = None
        self._lock = asyncio.Lock()
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._rebuild: asyncio.Task[None] | None = None
        self._again = False
        # An index was replaced since memory was last given back (see `check`).
        self._replaced = False
        self._closed = False

    @property
    def loaded(self) -> bool:
        """Whether an index is there to serve."""
        return self._gazetteer is not None

    async def load(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Build the index now (at start, before the process serves)."""
        self._sessionmaker = sessionmaker
        await self._refresh(background=False)

    async def get(self, session: AsyncSession) -> Gazetteer:
        """The current index, at once (built on this first use when `load` never ran)."""
        if self._gazetteer is not None:
            return self._gazetteer
        async with self._lock:
            if self._gazetteer is None:
                await self._build_from(session)
            assert self._gazetteer is not None
            return self._gazetteer

    async def fresh(self, session: AsyncSession) -> Gazetteer:
        """The index up to date with the database (for search, the map, alerts entered by
        hand): waits for a rebuild under way, checks the fingerprint, rebuilds if it changed."""
        while self._rebuild is not None and not self._rebuild.done():
            await asyncio.shield(self._rebuild)
        async with self._lock:
            await self._build_from(session, background=self._gazetteer is not None)
        assert self._gazetteer is not None
        return self._gazetteer

    def invalidate(self) -> None:
        """Rebuild in the background if places or zones changed (at once when unbound)."""
        if self._closed:
            return
        if self._sessionmaker is None:
            self._gazetteer = None  # a process without `load`: next `get` rebuilds
            return
        if self._rebuild is not None and not self._rebuild.done():
            self._again = True  # the running rebuild may have read before this change
            return
        self._rebuild = asyncio.get_running_loop().create_task(self._rebuild_soon())

    async def close(self) -> None:
        """At shutdown: stop a rebuild under way, so that its session gives its connection
        back (rolled back) before the engine is disposed; none starts after this."""
        self._closed = True
        task, self._rebuild = self._rebuild, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def invalidate_on_commit(self, session: AsyncSession) -> None:
        """Rebuild once `session` has committed its change of places or zones."""
        hooks.on_commit(session, self.invalidate)

    async def check(self) -> float:
        """A background loop's pass: rebuild when the fingerprint changed; seconds to the next."""
        if self._rebuild is None or self._rebuild.done():
            replaced, self._replaced = self._replaced, False
            await self._refresh()
            if replaced:
                # Webhooks under way when the index was replaced (before this pass) held the
                # old one: it is freed by now, give its memory back too.
                await asyncio.to_thread(release_free_memory)
        return self.ttl

    async def _rebuild_soon(self) -> None:
        while True:
            self._again = False
            try:
                await self._refresh()
            except Exception:
                log.exception("rebuilding the gazetteer failed; the periodic check retries")
                return
            if not self._again:
                return

    async def _refresh(self, *, background: bool = True) -> None:
        assert self._sessionmaker is not None
        async with self._lock, self._sessionmaker() as session:
            await self._build_from(session, background=background)

    async def _build_from(self, session: AsyncSession, *, background: bool = False) -> None:
        """Read the places and build the index (when the fingerprint changed). `background`:
        webhooks are being served meanwhile; the rebuild gives way to them (slower)."""
        served, homes = await self.served_area(session)
        fingerprint = (await places_repo.fingerprint(session), served, homes)
        if self._gazetteer is not None and fingerprint == self._fingerprint:
            return
        places = PlaceTable()
        chunk, pause = (REBUILD_CHUNK, REBUILD_PAUSE) if background else (LOAD_CHUNK, 0.0)
        async for rows in places_repo.place_rows(session, chunk):
            for row in rows:
                add_row(places, row)
            await asyncio.sleep(pause)  # webhooks go on between chunks
        build = partial(build_gazetteer, places, served, self.region, homes)
        with _gil_handed_over_often() if background else nullcontext():
            gazetteer = await asyncio.to_thread(build)
        self._replaced = self._gazetteer is not None
        self._gazetteer, self._fingerprint = gazetteer, fingerprint
        # The rows read and (after a rebuild) the index replaced: freed, given back.
        del places, gazetteer
        await asyncio.to_thread(release_free_memory)


# Rows of places read at a time at start, before the process serves, and while it serves.
LOAD_CHUNK = 1000
REBUILD_CHUNK = 250
# While webhooks are served, a pause after each chunk: their queries' answers are handled
# then, not after the next chunk (a webhook awaits some 25 of them).
REBUILD_PAUSE = 0.002
# While the index is built in a thread beside the webhooks, the GIL changes hands at least
# this often (Python's default: every 5 ms, which a webhook would wait at each of its
# queries' answers).
REBUILD_SWITCH_INTERVAL = 0.0005


class _Handover:
    """Rebuilds under way in this process (several caches may rebuild at once) and the
    interval to put back when the last one ends."""

    under_way = 0
    before = 0.005


@contextmanager
def _gil_handed_over_often() -> Iterator[None]:
    if _Handover.under_way == 0:
        _Handover.before = sys.getswitchinterval()
        sys.setswitchinterval(min(_Handover.before, REBUILD_SWITCH_INTERVAL))
    _Handover.under_way += 1
    try:
        yield
    finally:
        _Handover.under_way -= 1
        if _Handover.under_way == 0:
            sys.setswitchinterval(_Handover.before)


# --- administration ---------------------------------------------------------------------


def _cleaned(values: dict[str, Any], name: str) -> dict[str, Any]:
    # As the importers store them: blank admin names are unknown (NULL), and alternative
    # names are distinct, non-empty and other than the name itself.
    for key in ("admin1", "admin2"):
        if key in values and not values[key]:
            values[key] = None
    if "alt_names" in values:
        values["alt_names"] = [
            alt for alt in dict.fromkeys(values["alt_names"]) if alt and alt != name
        ]
    return values


def _audit(session: AsyncSession, actor: str, action: str, place_id: str, **detail: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"place.{action}",
        target_type="place",
        target_id=place_id,
        detail=detail,
    )


def feature_collection(gazetteer: Gazetteer) -> dict[str, Any]:
    """Every place of the gazetteer as an RFC 7946 FeatureCollection ([longitude, latitude])."""
    features = [
        {
            "type": "Feature",
            "id": p.id,
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {"id": p.id, "name": p.name, "admin1": p.admin1, "admin2": p.admin2},
        }
        for p in sorted(gazetteer, key=lambda p: p.id)
    ]
    return {"type": "FeatureCollection", "features": features}


async def get_place(session: AsyncSession, place_id: str) -> Place:
    """The place with this id (404 otherwise)."""
    place = await places_repo.get(session, place_id)
    if place is None:
        raise NotFound(f"no place {place_id!r}")
    return place


async def create_place(session: AsyncSession, body: PlaceCreate, *, actor: str) -> Place:
    """Add a place to the gazetteer (409 when the id is taken)."""
    if await places_repo.get(session, body.id) is not None:
        raise Conflict(f"a place {body.id!r} exists; PATCH /api/v1/places/{body.id} changes it")
    values = _cleaned(body.model_dump(exclude={"id"}), body.name)
    place = Place(id=body.id, source="api", **values)
    try:
        await places_repo.add_places(session, [place])
    except IntegrityError:  # created by another request in the meantime
        raise Conflict(f"a place {body.id!r} exists") from None
    _audit(session, actor, "create", place.id, name=place.name)
    return place


async def update_place(
    session: AsyncSession, place_id: str, values: dict[str, Any], *, actor: str
) -> Place:
    """Change the given fields of a place (all of them for a PUT)."""
    place = await get_place(session, place_id)
    values = _cleaned(values, values.get("name", place.name))
    if "lat" in values or "lon" in values:
        lat, lon = values.get("lat", place.lat), values.get("lon", place.lon)
        try:
            check_coordinates(lat, lon)
        except ValueError as exc:
            raise Unprocessable(f"{'lat' if 'lat' in values else 'lon'}: {exc}") from None
    changed = sorted(name for name, value in values.items() if getattr(place, name) != value)
    if changed:
        assign_changed(place, values)
        place.source = "api"  # as the importers do: the source names the last writer
        await session.flush()
        _audit(session, actor, "update", place.id, fields=changed)
    return place


async def delete_place(session: AsyncSession, place: Place, *, actor: str) -> None:
    """Remove a place that nothing refers to any more (app.flows.places.remove_place)."""
    await places_repo.delete(session, place)
    _audit(session, actor, "delete", place.id, name=place.name)


async def find_place(session: AsyncSession, place_id: str) -> Place | None:
    """The place with this id, or None."""
    return await places_repo.get(session, place_id)


async def existing_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    """Which of these place ids exist."""
    return await places_repo.existing_ids(session, ids)


async def admin_names(session: AsyncSession) -> dict[str, str]:
    """Every province and territoire name of the gazetteer, by its lower-case form."""
    return await places_repo.admin_names(session)


async def coordinates(session: AsyncSession) -> list[tuple[float, float]]:
    """(lat, lon) of every place of the gazetteer."""
    return await places_repo.coordinates(session)


async def territoire_centroids(session: AsyncSession) -> dict[tuple[str, str], tuple[float, float]]:
    """(lat, lon) of every territoire of the gazetteer by (province, territoire) in lower case."""
    return await places_repo.territoire_centroids(session)
