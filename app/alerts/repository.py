"""SQL for alerts, incidents and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import Grouping

from app.alerts import chain
from app.alerts.filters import AlertFilter
from app.alerts.models import SEVERITY_RANK, VERDICT, Alert, AlertEvent, Incident
from app.alerts.status import AlertStatus
from app.kit import changes
from app.kit.crypto import lookup_hash
from app.kit.repository import newest_first, written

# The statements of the request path are built once (building one costs more than running
# it through the compiled cache): values come in as bound parameters.
_REF_EXISTS = select(exists().where(Alert.ref == bindparam("ref")))
# A transaction-level advisory lock (PostgreSQL) of a sender whose report is being filed.
_SENDER_LOCK = 0x6B534E44  # "kSND"
_HOLD_SENDER = text("SELECT pg_advisory_xact_lock(:space, :key)")
# Transaction-level advisory locks (PostgreSQL) of the map's cells and stretches of time in
# which a report looks for an incident to join (app.alerts.incidents.area_keys), in order.
_AREA_LOCK = 0x6B415245  # "kARE"
_HOLD_AREAS = text(
    "SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:keys AS integer[])) AS k"
)
# The texts alone (an id and a decrypted body per row), not the alerts: a number's alerts
# of the window are compared here, and only the one that matches is loaded.
_SAME_NUMBER_SINCE = (
    select(Alert.id, Alert.body)
    .where(
        Alert.from_phone_hash == bindparam("phone_hash"), Alert.received_at >= bindparam("since")
    )
    .order_by(Alert.received_at.desc(), Alert.id.desc())
)


async def ref_exists(session: AsyncSession, ref: str) -> bool:
    """Whether an alert already has this reference."""
    return bool(await session.scalar(_REF_EXISTS, {"ref": ref}))


async def get(session: AsyncSession, alert_id: int) -> Alert | None:
    """The alert with this id."""
    return await session.get(Alert, alert_id)


async def touch(session: AsyncSession, alert_id: int) -> None:
    """The alert changed outside its own row: its next version and a change number at
    commit (the numbering statement takes the row's lock then, for the commit alone)."""
    alert = await session.get(Alert, alert_id)
    if alert is not None:
        changes.touch(session, alert)


async def by_ref(session: AsyncSession, ref: str) -> Alert | None:
    """The alert with this reference."""
    return await session.scalar(select(Alert).where(Alert.ref == ref))


async def recent_same_text(
    session: AsyncSession, phone: str, body: str, since: datetime
) -> Alert | None:
    """The newest alert of `phone` with exactly this text received since `since`, row-locked
    (`lock`): the repeat is counted on its current count, whatever else counts one at once.

    Texts are encrypted (no SQL equality): the number's few alerts of the window are read by
    its hash (indexed with the time) and compared here.
    """
    rows = await session.execute(
        _SAME_NUMBER_SINCE, {"phone_hash": lookup_hash(phone), "since": since}
    )
    same = next((row.id for row in rows if row.body == body), None)
    return None if same is None else await lock(session, same)


async def recent_flash(session: AsyncSession, phone: str, since: datetime) -> Alert | None:
    """The newest missed-call alert of `phone` whose last call is since `since`, row-locked
    as `recent_same_text` returns it (one statement: the match is in SQL)."""
    alert = await session.scalar(
        select(Alert)
        .where(Alert.from_phone == phone, Alert.kind == "call", Alert.last_message_at >= since)
        .order_by(Alert.last_message_at.desc(), Alert.id.desc())
        .limit(1)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if alert is not None:
        chain.locked(session, alert.id)
    return alert


# Incidents of related categories inside a box around a point.
_IN_BOX = (
    Incident.category.in_(bindparam("categories", expanding=True)),
    Incident.lat.between(bindparam("lat_min"), bindparam("lat_max")),
    Incident.lon.between(bindparam("lon_min"), bindparam("lon_max")),
)
# 'open' written in the SQL, not bound: PostgreSQL then knows from its statistics that few
# incidents are open and keeps one generic plan (a bound status is costed as half the table,
# and the statement was planned again at every call once incidents had history).
# Locked as they are found, in id order (as a merge locks two incidents: no deadlock), FOR NO
# KEY UPDATE: under READ COMMITTED a row that changed meanwhile is read again once its lock
# is had and its conditions checked again, so an incident closed or merged in between is
# not among them.
_LOCK_INCIDENTS_NEAR = (
    select(Incident)
    .where(
        Incident.status == literal_column("'open'"),
        Incident.last_at >= bindparam("since"),
        *_IN_BOX,
    )
    .order_by(Incident.id)
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)
# Incidents an operator merged into an incident still open and active since `since`: their
# place is a place of that event (the window is the surviving incident's: the absorbed one's
# last report may be hours old while the event goes on). Read without a lock (a merged
# incident no longer changes); the caller locks the incident each points at. A merge points
# the incidents merged into the one it closes at the one it goes into (`repoint_merged`), so
# that one step leads to where the event is.
_SURVIVOR = aliased(Incident)
_ABSORBED_NEAR = (
    select(Incident)
    .join(_SURVIVOR, _SURVIVOR.id == Incident.merged_into_id)
    .where(
        Incident.status == literal_column("'closed'"),
        Incident.absorbed.is_(True),
        _SURVIVOR.status == literal_column("'open'"),
        _SURVIVOR.last_at >= bindparam("since"),
        *_IN_BOX,
    )
    .order_by(Incident.id)
)
# A joining report's counts, written into the incident this transaction holds locked: its
# reporters one more if this number is not among those that reported into it before (the new
# alert left out), a lookup of one index entry, in the same statement. Counted on from the
# incident's own count (kept by every change of its alerts, app/alerts/incidents.py), not
# recounted: a recount read every alert of the incident at every report, which grew with it.
_OTHER_ALERTS = (Alert.incident_id == bindparam("incident_id"), Alert.id != bindparam("but"))
_INCIDENTS = cast(Table, Incident.__table__)
_COUNT_JOINING = (
    update(_INCIDENTS)
    .where(_INCIDENTS.c.id == bindparam("incident_id"))
    .values(
        report_count=bindparam("report_count"),
        reporter_count=_INCIDENTS.c.reporter_count
        + case(
            (bindparam("phone_hash", type_=String).is_(None), 0),
            (exists().where(*_OTHER_ALERTS, Alert.from_phone_hash == bindparam("phone_hash")), 0),
            else_=1,
        ),
        last_at=bindparam("last_at"),
        category=bindparam("category"),
        severity=bindparam("severity"),
        severity_rank=bindparam("severity_rank"),
    )
    .returning(_INCIDENTS.c.reporter_count)
)


async def lock_open_incidents_near(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    lat_delta: float,
    lon_delta: float,
    since: datetime,
    categories: Sequence[str],
) -> Sequence[Incident]:
    """The open incidents active since `since` inside a box around a point (refined by the
    caller), row-locked until the end of the transaction (PostgreSQL, NO KEY UPDATE): one
    round trip to find an incident to join and to hold it."""
    params = _box(lat, lon, lat_delta, lon_delta, since, categories)
    return (await session.scalars(_LOCK_INCIDENTS_NEAR, params)).all()


async def merged_incidents_near(
    session: AsyncSession,
    *,
    lat: float,
    lon: float,
    lat_delta: float,
    lon_delta: float,
    since: datetime,
    categories: Sequence[str],
) -> Sequence[Incident]:
    """The incidents inside a box around a point that an operator merged into an incident
    still open and active since `since` (`merged_into_id`); not locked."""
    params = _box(lat, lon, lat_delta, lon_delta, since, categories)
    return (await session.scalars(_ABSORBED_NEAR, params)).all()


async def repoint_merged(session: AsyncSession, source_id: int, target_id: int) -> None:
    """The incidents merged into `source_id` now point at `target_id`, where it is merged."""
    await session.execute(
        update(Incident)
        .where(Incident.merged_into_id == source_id)
        .values(merged_into_id=target_id)
        .execution_options(synchronize_session="fetch")
    )


def _box(
    lat: float,
    lon: float,
    lat_delta: float,
    lon_delta: float,
    since: datetime,
    categories: Sequence[str],
) -> dict[str, object]:
    return {
        "since": since,
        "categories": list(categories),
        "lat_min": lat - lat_delta,
        "lat_max": lat + lat_delta,
        "lon_min": lon - lon_delta,
        "lon_max": lon + lon_delta,
    }


def add_event(
    session: AsyncSession,
    alert: Alert,
    *,
    actor: str,
    action: str,
    detail: dict[str, object] | None = None,
    note: str | None = None,
    from_status: AlertStatus | None = None,
    to_status: AlertStatus | None = None,
) -> None:
    """Append to the alert's audit trail (a change of the alert: pollers and the stream see
    it). The event is written with the transaction's next flush, before its commit, or
    before `events` reads a trail in it (app/alerts/chain.py)."""
    if not chain.started_here(session, alert.id):
        changes.touch(session, alert)
    chain.append(
        session,
        {
            "alert_id": alert.id,
            "actor": actor,
            "action": action,
            "detail": detail or {},
            "note": note,
            "from_status": from_status,
            "to_status": to_status,
        },
    )


async def events(session: AsyncSession, alert_id: int) -> Sequence[AlertEvent]:
    """The audit trail of an alert, oldest first."""
    if chain.queued(session):
        await session.run_sync(chain.write_pending)
    stmt = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    return (await session.scalars(stmt)).all()


def _filtered(filters: AlertFilter) -> Select[Alert]:
    stmt = select(Alert)
    if filters.status:
        stmt = stmt.where(Alert.status.in_(filters.status))
    if filters.min_severity:
        stmt = stmt.where(Alert.severity_rank >= SEVERITY_RANK[filters.min_severity])
    if filters.category:
        stmt = stmt.where(Alert.category.in_(filters.category))
    if filters.admin1:
        stmt = stmt.where(func.lower(Alert.admin1) == filters.admin1.lower())
    if filters.admin2:
        stmt = stmt.where(func.lower(Alert.admin2) == filters.admin2.lower())
    if filters.place_id:
        stmt = stmt.where(Alert.place_id == filters.place_id)
    if filters.since:
        stmt = stmt.where(Alert.received_at >= filters.since)
    if filters.until:
        stmt = stmt.where(Alert.received_at < filters.until)
    return stmt


async def list_alerts(
    session: AsyncSession,
    filters: AlertFilter,
    *,
    before: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[Alert]:
    """Alerts newest first, after the keyset cursor `before` = (received_at, id)."""
    stmt = _filtered(filters)
    if before is not None:
        at, alert_id = before
        stmt = stmt.where(
            or_(Alert.received_at < at, and_(Alert.received_at == at, Alert.id < alert_id))
        )
    stmt = stmt.order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit)
    return (await session.scalars(stmt)).all()


async def changed_alerts(
    session: AsyncSession, filters: AlertFilter, *, after: int, limit: int
) -> Sequence[Alert]:
    """Alerts whose last committed change is numbered after `after`, in change order."""
    stmt = _filtered(filters).where(Alert.change_seq > after)
    stmt = stmt.order_by(Alert.change_seq).limit(limit)
    return (await session.scalars(stmt)).all()


_LOCK = (
    select(Alert)
    .where(Alert.id == bindparam("alert_id"))
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)
_LOCK_INCIDENT = (
    select(Incident)
    .where(Incident.id == bindparam("incident_id"))
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)


async def lock(session: AsyncSession, alert_id: int) -> Alert | None:
    """The alert, row-locked until the end of the transaction (PostgreSQL).

    FOR NO KEY UPDATE: rows that only point at the alert (events, deliveries) can still be
    written by others meanwhile.
    """
    alert = await session.scalar(_LOCK, {"alert_id": alert_id})
    if alert is not None:
        chain.locked(session, alert_id)
    return alert


async def alerts_of_incident(session: AsyncSession, incident_id: int) -> Sequence[Alert]:
    """The alerts of an incident, oldest first."""
    stmt = select(Alert).where(Alert.incident_id == incident_id).order_by(Alert.received_at)
    return (await session.scalars(stmt)).all()


async def lock_incident(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, row-locked until the end of the transaction (PostgreSQL, NO KEY UPDATE)."""
    return await session.scalar(_LOCK_INCIDENT, {"incident_id": incident_id})


async def count_joining_report(
    session: AsyncSession,
    incident: Incident,
    *,
    phone_hash: str | None,
    but: int | None,
    report_count: int,
    last_at: datetime,
    category: str,
    severity: str,
    severity_rank: int,
) -> None:
    """Write a joining report's counts into an incident this transaction holds locked
    (`lock_open_incidents_near`, `lock_incident`), its reporters counted by the database
    (the alert `but` left out; `phone_hash` one more unless it reported here before or is
    None): one UPDATE now; its next version and change number go in with the commit's
    numbering."""
    values: dict[str, Any] = {
        "report_count": report_count,
        "last_at": last_at,
        "category": category,
        "severity": severity,
        "severity_rank": severity_rank,
    }
    params = {"incident_id": incident.id, "phone_hash": phone_hash, "but": but or 0, **values}
    reporters = (await session.execute(_COUNT_JOINING, params)).scalar_one()
    written(session, incident, {**values, "reporter_count": int(reporters)})


async def list_incidents(
    session: AsyncSession,
    *,
    status: str | None,
    min_severity: str | None,
    before: int | None,
    limit: int,
) -> Sequence[Incident]:
    """Incidents, newest first, after the keyset cursor (an incident id)."""
    stmt = select(Incident)
    if status:
        stmt = stmt.where(Incident.status == status)
    if min_severity:
        stmt = stmt.where(Incident.severity_rank >= SEVERITY_RANK[min_severity])
    return (await session.scalars(newest_first(stmt, Incident.id, before, limit))).all()


async def get_incident(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident with this id."""
    return await session.get(Incident, incident_id)


# What humans checked: confirmed by a verification, or corrected; never a false alarm.
HUMAN_VERIFIED = and_(
    or_(Alert.verified_result == "confirmed", Alert.correction.is_not(None)),
    Alert.status != AlertStatus.FALSE_ALARM,
)


async def human_verified(
    session: AsyncSession, *, since: datetime | None, until: datetime | None = None
) -> Sequence[Alert]:
    """Alerts humans confirmed or corrected (no false alarm), oldest first."""
    stmt = select(Alert).where(HUMAN_VERIFIED)
    if since is not None:
        stmt = stmt.where(Alert.received_at >= since)
    if until is not None:
        stmt = stmt.where(Alert.received_at < until)
    return (await session.scalars(stmt.order_by(Alert.received_at, Alert.id))).all()


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_NOT_FALSE_ALARM = Alert.status != AlertStatus.FALSE_ALARM
_RELIABILITY = (
    select(
        Alert.reporter_id,
        _count(and_(Alert.verified_result == "confirmed", _NOT_FALSE_ALARM)),
        _count(Alert.status == AlertStatus.FALSE_ALARM),
        _count(and_(Alert.verified_result == "not_confirmed", _NOT_FALSE_ALARM)),
    )
    .where(
        Alert.reporter_id.in_(bindparam("ids", expanding=True)),
        Alert.received_at >= bindparam("since"),
        # Only the alerts that count (the others add 0 to every sum, and a reporter with
        # nothing counted is left out below anyway): the partial index of verdicts, not the
        # reporter's whole window. Its own predicate, in brackets, and no bound value in it,
        # so that a generic plan uses the index too.
        Grouping(VERDICT),
    )
    .group_by(Alert.reporter_id)
)


async def reliability_counts(
    session: AsyncSession, reporter_ids: Sequence[int], since: datetime
) -> dict[int, tuple[int, int, int]]:
    """Per reporter: alerts since `since` confirmed, called false alarms, not confirmed."""
    if not reporter_ids:
        return {}
    params = {"ids": list(reporter_ids), "since": since}
    rows = (await session.execute(_RELIABILITY, params)).all()
    return {
        rid: (int(c), int(f), int(n)) for rid, c, f, n in rows if rid is not None and (c or f or n)
    }


async def located_at(session: AsyncSession, place_id: str) -> list[Alert | Incident]:
    """The alerts and incidents that refer to this place."""
    return [
        *(await session.scalars(select(Alert).where(Alert.place_id == place_id))).all(),
        *(await session.scalars(select(Incident).where(Incident.place_id == place_id))).all(),
    ]


async def hold_areas(session: AsyncSession, keys: Sequence[int]) -> bool:
    """Wait until no other transaction holds any of these areas (`keys`, 32-bit numbers,
    sorted: locks are taken in their order), and keep others waiting until this one ends;
    whether they were taken. PostgreSQL only: SQLite runs one writing transaction at a time,
    so what a report found there stays true to its commit."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return False
    await session.execute(_HOLD_AREAS, {"space": _AREA_LOCK, "keys": list(keys)})
    return True


async def hold_sender(session: AsyncSession, key: int) -> None:
    """Wait until no other transaction is filing a report of this sender (`key`: a 32-bit
    number of the phone), and keep others waiting until this one ends. PostgreSQL only:
    SQLite runs one writing transaction at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_HOLD_SENDER, {"space": _SENDER_LOCK, "key": key})
