"""Humans correct what triage decided: the change, the original kept, the incident (the
paging follows in app/flows/status.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import corroboration
from app.alerts import repository as repo
from app.alerts.incidents import corroborate, recount
from app.alerts.models import SEVERITY_RANK, Alert
from app.alerts.schemas import PlaceInput, PlaceRef
from app.alerts.status import CLOSED
from app.geo.distance import haversine_km
from app.geo.matcher import Gazetteer
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import Unprocessable
from app.kit.phones import mask_in_text
from app.triage.engine import triage_message
from app.triage.scoring import cap_severity, rebanded
from app.triage.types import GazPlace, Sender, Severity

# A coordinate given by hand takes the province and territoire of the nearest known place
# within this distance (liaisons' zones are territoires: the alert must page someone).
ADMIN_FROM_NEAREST_KM = 30.0

TRIAGE_FIELDS = ("category", "severity", "place")


@dataclass(frozen=True)
class Where:
    """A place as humans give it: a gazetteer entry, or coordinates with a label."""

    id: str | None
    name: str | None
    lat: float
    lon: float
    admin1: str | None
    admin2: str | None
    level: str | None = None  # an administrative area's level ("territoire", ...)


@dataclass(frozen=True)
class Changes:
    """What a human sets on an alert; None leaves a field as it is."""

    category: str | None = None
    severity: str | None = None
    place: Where | None = None
    killed: int | None = None
    wounded: int | None = None
    abducted: int | None = None
    occurred_at: datetime | None = None
    summary: str | None = None

    def empty(self) -> bool:
        """Whether nothing is set."""
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class Corrected:
    """What a correction changed ({field: {from, to}}, empty when nothing), and what the
    paging needs to know of it."""

    diff: dict[str, dict[str, Any]]
    before_severity: str
    new_zone: bool
    at: datetime
    # The incident it left (moved far, it joined another or opened its own).
    left_incident: int | None = None
    # It had no incident, and now has one (a category that describes an event, say).
    entered_incident: bool = False


def where_of(place: GazPlace) -> Where:
    """A gazetteer place as a correction's place."""
    return Where(
        place.id, place.name, place.lat, place.lon, place.admin1, place.admin2, place.area_level
    )


def resolve_place(
    gazetteer: Gazetteer,
    *,
    place_id: str | None = None,
    name: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> Where:
    """A place id, a name to look up, or coordinates with a label (422 when none fits)."""
    if lat is not None and lon is not None:
        near = gazetteer.nearest(lat, lon)
        if near is not None and haversine_km(lat, lon, near.lat, near.lon) > ADMIN_FROM_NEAREST_KM:
            near = None
        # A typed label is shown to viewers, partners and pages: a number in it is masked.
        label = mask_in_text((name or "").strip()) or (near.name if near else None)
        return Where(
            None, label, lat, lon, near.admin1 if near else None, near.admin2 if near else None
        )
    if place_id:
        found = gazetteer.get(place_id)
        if found is None:
            raise Unprocessable(f"place: no place {place_id!r} in the gazetteer")
        return where_of(found)
    if name and name.strip():
        matches = gazetteer.search(name.strip(), limit=1)
        if not matches:
            raise Unprocessable(f"place: no place named {name.strip()!r} in the gazetteer")
        return where_of(matches[0])
    raise Unprocessable("place: give an id, a name, or lat and lon")


def place_of(given: PlaceInput | str | None, gazetteer: Gazetteer) -> Where | None:
    """A place as the API takes it: an id or a name, or {id} / {name} / {lat, lon, name}."""
    if isinstance(given, PlaceInput):
        return resolve_place(
            gazetteer, place_id=given.id, name=given.name, lat=given.lat, lon=given.lon
        )
    if given is None or not given.strip():
        return None
    text = given.strip()
    if gazetteer.get(text) is not None:
        return resolve_place(gazetteer, place_id=text)
    return resolve_place(gazetteer, name=text)


def snapshot(alert: Alert) -> dict[str, Any]:
    """What triage (or the last human) says of the alert, as the correction keeps it."""
    place = PlaceRef.of(alert)
    return {
        "category": alert.category,
        "severity": alert.severity,
        "place": place.model_dump() if place else None,
        "killed": alert.killed,
        "wounded": alert.wounded,
        "abducted": alert.abducted,
        "occurred_at": alert.occurred_at.isoformat() if alert.occurred_at else None,
        "summary": alert.summary,
    }


async def correct(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    changes: Changes,
    *,
    actor: str,
    reason: str = "corrected",
) -> Corrected:
    """Apply a human correction (alert locked by the caller).

    The machine's triage is kept in `alert.correction["original"]`; the audit trail has
    before and after; a move beyond the corroboration radius re-evaluates the incident.
    """
    if changes.empty():
        raise Unprocessable(
            "correct needs at least one of category, severity, place, killed, wounded, "
            "abducted, occurred_at, summary"
        )
    before = snapshot(alert)
    old_severity, old_zone = alert.severity, (alert.admin1, alert.admin2)
    old_point = (alert.lat, alert.lon)
    _apply(alert, changes)
    after = snapshot(alert)
    diff = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
    now = utcnow()
    corrected = Corrected(diff, old_severity, (alert.admin1, alert.admin2) != old_zone, now)
    if not diff:
        return corrected
    kept = alert.correction or {"original": before, "fields": []}
    alert.correction = {
        "original": kept["original"],
        "fields": sorted({*kept["fields"], *diff}),
        "by": actor,
        "at": now.isoformat(),
    }
    repo.add_event(
        session,
        alert,
        actor=actor,
        action=reason,
        detail={
            "before": {k: v["from"] for k, v in diff.items()},
            "after": {k: v["to"] for k, v in diff.items()},
        },
    )
    moved = "place" in diff and _far(old_point, (alert.lat, alert.lon), settings)
    if moved or "category" in diff or "severity" in diff:
        had_none = alert.incident_id is None
        left = await _reconsider_incident(session, settings, alert, actor=actor, moved=moved)
        entered = had_none and alert.incident_id is not None
        if left is not None or entered:
            return replace(corrected, left_incident=left, entered_incident=entered)
    return corrected


def _apply(alert: Alert, changes: Changes) -> None:
    if changes.category is not None:
        alert.category = changes.category
    if changes.severity is not None and changes.severity != alert.severity:
        new = cast(Severity, changes.severity)
        alert.score = rebanded(alert.score, cast(Severity, alert.severity), new)
        alert.severity, alert.severity_rank = new, SEVERITY_RANK[new]
        alert.cap_severity = cap_severity(new)
    if changes.place is not None:
        place = changes.place
        alert.place_id, alert.place_name = place.id, place.name
        alert.lat, alert.lon = place.lat, place.lon
        alert.admin1, alert.admin2 = place.admin1, place.admin2
        alert.place_level = place.level
        alert.location_source, alert.location_confidence = "human", 1.0
    for name in ("killed", "wounded", "abducted", "occurred_at"):
        value = getattr(changes, name)
        if value is not None:
            setattr(alert, name, value)
    if changes.summary is not None:
        alert.summary = changes.summary.strip() or None


def _far(
    old: tuple[float | None, float | None], new: tuple[float | None, float | None], s: Settings
) -> bool:
    (lat1, lon1), (lat2, lon2) = old, new
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return True
    return haversine_km(lat1, lon1, lat2, lon2) > s.corroboration_radius_km


async def _reconsider_incident(
    session: AsyncSession, settings: Settings, alert: Alert, *, actor: str, moved: bool
) -> int | None:
    """Keep the incident true: a far move leaves it for the one at the new place; a new
    category or severity updates it; a report that now describes an event joins one. The
    incident it left, if any."""
    old_id = alert.incident_id
    if old_id is not None and not moved:
        incident = await repo.lock_incident(session, old_id)
        if incident is not None:
            await recount(session, incident)
            if incident.report_count == 1:
                incident.category = alert.category
        return None
    if old_id is None and not corroboration.joins_incidents(alert.category):
        return None
    alert.incident_id = None
    await session.flush()
    joined = await corroborate(session, alert, settings)
    new_id = joined.id if joined is not None else None
    if old_id is not None:
        old = await repo.lock_incident(session, old_id)
        if old is not None:
            await recount(session, old)
            if old.report_count == 0:
                # Its only report moved: the incident lives on where the report went.
                old.status, old.merged_into_id = "closed", new_id
            elif old.status == "open" and all(
                report.status in CLOSED for report in await repo.alerts_of_incident(session, old_id)
            ):
                # Its last open report moved: it closes, as it does when that report is
                # resolved (a new report of that place opens an event of its own).
                old.status = "closed"
    if new_id != old_id:
        repo.add_event(
            session,
            alert,
            actor=actor,
            action="incident_moved",
            detail={"from_incident": old_id, "to_incident": new_id},
        )
    return old_id if old_id is not None and new_id != old_id else None


def undescribed_flash(alert: Alert) -> bool:
    """A missed call nobody has described yet (its call-back's words become its triage)."""
    return alert.kind == "call" and alert.category == "FLASH"


async def describe(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    text: str,
    gazetteer: Gazetteer,
    *,
    actor: str,
    keep: Changes | None = None,
) -> Corrected:
    """A FLASH called back: the liaison's words become its summary and its triage.

    Fields set in `keep` (given by hand) win over what triage reads in the words.
    """
    keep = keep or Changes()
    result = triage_message(text, gazetteer=gazetteer, sender=Sender(known=True, verified=True))
    home = (
        Where(
            alert.place_id,
            alert.place_name,
            alert.lat,
            alert.lon,
            alert.admin1,
            alert.admin2,
            alert.place_level,
        )
        if alert.lat is not None and alert.lon is not None
        else None
    )
    place = keep.place or (where_of(result.place) if result.place else home)
    # Words triage reads as less than the call was never lower it on their own: an unclear
    # description must not stop the paging. A human lowers it by saying so.
    severity = keep.severity or max(result.severity, alert.severity, key=lambda s: SEVERITY_RANK[s])
    changes = Changes(
        category=keep.category or result.category,
        severity=severity,
        place=place,
        killed=keep.killed if keep.killed is not None else result.numbers.killed,
        wounded=keep.wounded if keep.wounded is not None else result.numbers.wounded,
        abducted=keep.abducted if keep.abducted is not None else result.numbers.abducted,
        occurred_at=keep.occurred_at,
        summary=text,
    )
    alert.reasons = [*alert.reasons, *(f"call-back: {r}" for r in result.reasons)]
    alert.cap_urgency = result.cap_urgency
    if alert.language != result.language and not alert.body:
        alert.language = result.language
    return await correct(session, settings, alert, changes, actor=actor, reason="described")
