"""The in-memory gazetteer index, rebuilt when places or liaison zones change."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.geo import repository as places_repo
from app.geo.matcher import Gazetteer
from app.geo.models import Place
from app.people import repository as people_repo
from app.triage.types import GazPlace


def to_gaz_place(place: Place) -> GazPlace:
    """The matcher's view of a stored place."""
    return GazPlace(
        id=place.id,
        name=place.name,
        lat=place.lat,
        lon=place.lon,
        admin1=place.admin1,
        admin2=place.admin2,
        alt_names=tuple(place.alt_names or ()),
    )


def build_gazetteer(places: Sequence[GazPlace], served_admin2: frozenset[str]) -> Gazetteer:
    """Index `places` (CPU-bound: run off the event loop for large gazetteers)."""
    return Gazetteer(places, served_admin2=served_admin2)


class GazetteerCache:
    """One Gazetteer per process, checked for changes at most every `ttl` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._gazetteer: Gazetteer | None = None
        self._fingerprint: tuple[object, ...] | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Check the database again on next use."""
        self._checked_at = 0.0

    def invalidate_on_commit(self, session: AsyncSession) -> None:
        """Check the database again once `session` has committed its change of places or
        zones (invalidated before the commit, a concurrent rebuild could keep the old ones)."""
        event.listen(session.sync_session, "after_commit", lambda _s: self.invalidate(), once=True)

    async def get(self, session: AsyncSession) -> Gazetteer:
        """The current gazetteer, rebuilt if places or liaison zones changed."""
        if self._gazetteer is not None and time.monotonic() - self._checked_at < self.ttl:
            return self._gazetteer
        async with self._lock:
            if self._gazetteer is not None and time.monotonic() - self._checked_at < self.ttl:
                return self._gazetteer
            liaisons = await people_repo.active_liaisons(session)
            served = frozenset(zone for liaison in liaisons for zone in liaison.zones)
            fingerprint = (await places_repo.fingerprint(session), served)
            if self._gazetteer is None or fingerprint != self._fingerprint:
                places = [to_gaz_place(p) for p in await places_repo.all_places(session)]
                self._gazetteer = await asyncio.to_thread(build_gazetteer, places, served)
                self._fingerprint = fingerprint
            self._checked_at = time.monotonic()
            return self._gazetteer
