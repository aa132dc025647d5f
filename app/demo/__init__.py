"""Demo data bundled with the package: a gazetteer of eastern DR Congo, focal points and
liaisons, loaded by `kengele serve --demo`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.geo.importers import import_places
from app.kit.db import unit_of_work
from app.kit.importing import ImportReport
from app.people.importers import import_liaisons, import_reporters

DATA = Path(__file__).resolve().parent / "data"


async def load_demo_data(
    sessionmaker: async_sessionmaker[AsyncSession], region: str = "CD"
) -> dict[str, ImportReport]:
    """Import the bundled places, reporters and liaisons in one transaction (idempotent)."""
    async with unit_of_work(sessionmaker) as session:
        return {
            "places": await import_places(session, DATA / "gazetteer_drc_east.csv", "csv"),
            "reporters": await import_reporters(session, DATA / "reporters.csv", region),
            "liaisons": await import_liaisons(session, DATA / "liaisons.csv", region),
        }
