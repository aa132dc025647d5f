"""Alert, Incident and the audit trail (AlertEvent)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.alerts.status import AlertStatus
from app.kit import changes
from app.kit.clock import utcnow
from app.kit.crypto import EncryptedJSON, EncryptedString, EncryptedText, hash_of, keep_hashed
from app.kit.models import Base, TimestampMixin

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def _status() -> Enum:
    """A status column: its value as VARCHAR(16), read back as an AlertStatus."""
    return Enum(
        AlertStatus,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda statuses: [s.value for s in statuses],
    )


class ChangeTracked:
    """Rows whose every committed change gets a number of the change sequence (app/changes)."""

    # Bumped by every flush that changes the row: the value `If-Match` is checked against.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The change sequence number of the row's last committed change (0 until its first commit).
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Located:
    """Rows with a place: a gazetteer place (its name kept), or coordinates alone."""

    if TYPE_CHECKING:  # the columns are declared by each table
        place_id: str | None
        place_name: str | None
        lat: float | None
        lon: float | None
        admin1: str | None
        admin2: str | None
        place_level: str | None

    @property
    def place(self) -> dict[str, Any] | None:
        """The place as the API shows it; None when there is none."""
        if self.place_id is None and self.lat is None:
            return None
        return {
            "id": self.place_id,
            "name": self.place_name,
            "lat": self.lat,
            "lon": self.lon,
            "admin1": self.admin1,
            "admin2": self.admin2,
            "level": self.place_level,
        }


class Incident(Located, ChangeTracked, TimestampMixin, Base):
    """What several alerts describe together: one event near one place."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_last_at", "status", "last_at"),
        # The incidents merged into one: a report's search for an event an operator merged
        # (app.alerts.repository), and a merge pointing them on.
        Index(
            "ix_incidents_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    place_id: Mapped[str | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    place_name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    admin1: Mapped[str | None] = mapped_column(String(100))
    admin2: Mapped[str | None] = mapped_column(String(100))
    # "territoire", "secteur", "chefferie", "groupement" when the place is an area (its centroid)
    place_level: Mapped[str | None] = mapped_column(String(32))
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    reporter_count: Mapped[int] = mapped_column(Integer, default=0)
    # Set when an operator merged this incident into another one (it is then closed), or when
    # a correction moved its only report to another (it lives on there).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL")
    )
    # Merged by an operator: one event with the incident it went into, so a later report of
    # its place joins that one (a correction's move says only that a place was misread).
    absorbed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


# The alerts a reporter's reliability counts from (humans confirmed or denied them, or called
# them false alarms): the predicate of a partial index, repeated literally by the query.
VERDICT = text(f"verified_result IS NOT NULL OR status = '{AlertStatus.FALSE_ALARM.value}'")


class Alert(Located, ChangeTracked, TimestampMixin, Base):
    """One report (SMS or missed call), triaged and geotagged."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_received_at_id", "received_at", "id"),
        Index("ix_alerts_from_phone_hash_received_at", "from_phone_hash", "received_at"),
        # An incident's alerts, and whether a number reported into it before (a joining
        # report's count of reporters, app/alerts/repository.py): one index entry read.
        Index("ix_alerts_incident_id_from_phone_hash", "incident_id", "from_phone_hash"),
        # Retention finds closed alerts by their last change (app/retention/repository.py).
        Index("ix_alerts_updated_at", "updated_at"),
        # A reporter's verdicts (app/alerts/repository.py:reliability_counts): only the alerts
        # humans judged, so the count does not read the reporter's whole history.
        Index(
            "ix_alerts_reporter_id_verdicts",
            "reporter_id",
            "received_at",
            postgresql_include=["verified_result", "status"],
            postgresql_where=VERDICT,
            sqlite_where=VERDICT,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="sms")
    status: Mapped[AlertStatus] = mapped_column(_status(), default=AlertStatus.NEW, index=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("reporters.id", ondelete="SET NULL"), index=True
    )
    # The reporter's number and words, encrypted (app/kit/crypto.py); the number's keyed hash.
    from_phone: Mapped[str] = mapped_column(EncryptedString())
    from_phone_hash: Mapped[str | None] = mapped_column(String(64), default=hash_of("from_phone"))
    body: Mapped[str] = mapped_column(EncryptedText(), default="")
    language: Mapped[str] = mapped_column(String(8), default="fr")
    category: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer, index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    cap_urgency: Mapped[str] = mapped_column(String(16))
    cap_severity: Mapped[str] = mapped_column(String(16))
    cap_certainty: Mapped[str] = mapped_column(String(16))
    killed: Mapped[int | None] = mapped_column(Integer)
    wounded: Mapped[int | None] = mapped_column(Integer)
    abducted: Mapped[int | None] = mapped_column(Integer)
    attackers: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    place_id: Mapped[str | None] = mapped_column(
        ForeignKey("places.id", ondelete="SET NULL"), index=True
    )
    place_name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Not indexed: places are filtered on lower(admin1) / lower(admin2), which a plain index
    # of the column cannot answer (every index is one more write per version of the row).
    admin1: Mapped[str | None] = mapped_column(String(100))
    admin2: Mapped[str | None] = mapped_column(String(100))
    # "territoire", "secteur", "chefferie", "groupement" when the place is an area (its centroid)
    place_level: Mapped[str | None] = mapped_column(String(32))
    location_source: Mapped[str] = mapped_column(String(16), default="none")
    location_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    # Messages folded into this alert: panic resends of the same text, repeated flashes.
    message_count: Mapped[int] = mapped_column(Integer, default=1)
    # Who in the operations room follows the alert (free text: a name or a call sign).
    assignee: Mapped[str | None] = mapped_column(String(100))
    # How an alert entered by hand reached the operations room: call, radio, visit, other.
    source: Mapped[str | None] = mapped_column(String(8))
    # What humans said happened, beside the report's own words (a call-back, a correction).
    summary: Mapped[str | None] = mapped_column(EncryptedText())
    occurred_at: Mapped[datetime | None] = mapped_column()
    # The machine's triage as it was before the first human correction, and what was changed:
    # {"original": {...}, "fields": [...], "by": actor, "at": iso time}. None: never corrected.
    correction: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON())
    # The outcome of a verification: how (callback, second_source, patrol) and the result
    # (confirmed, not_confirmed, unreachable).
    verified_how: Mapped[str | None] = mapped_column(String(16))
    # Not indexed on its own: read beside a correction, or by ix_alerts_reporter_id_verdicts.
    verified_result: Mapped[str | None] = mapped_column(String(16))
    verified_at: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What retention already removed from the row (bits of app/retention/kinds.py).
    purged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def cap(self) -> dict[str, str]:
        """The CAP 1.2 urgency, severity and certainty."""
        return {
            "urgency": self.cap_urgency,
            "severity": self.cap_severity,
            "certainty": self.cap_certainty,
        }

    @property
    def numbers(self) -> dict[str, int | None]:
        """The counts stated in the report."""
        return {
            "killed": self.killed,
            "wounded": self.wounded,
            "abducted": self.abducted,
            "attackers": self.attackers,
        }

    @property
    def verification(self) -> dict[str, Any] | None:
        """How and with what result the alert was verified; None until it was."""
        if not (self.verified_result and self.verified_at):
            return None
        return {"how": self.verified_how, "result": self.verified_result, "at": self.verified_at}


class AlertEvent(Base):
    """The audit trail of an alert: who did what, when."""

    __tablename__ = "alert_events"
    # An alert's events in id order: its trail, and its head (the last) in one index step.
    __table_args__ = (Index("ix_alert_events_alert_id_id", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    # The alert's status before and after, when the event changed it.
    from_status: Mapped[AlertStatus | None] = mapped_column(_status())
    to_status: Mapped[AlertStatus | None] = mapped_column(_status())
    # Encrypted: a correction's before/after may quote a summary, a note a number.
    detail: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    note: Mapped[str | None] = mapped_column(EncryptedText())
    # The hash of the alert's previous event and of this one (app/alerts/chain.py).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


keep_hashed(Alert.from_phone, "from_phone_hash")


# Every change of these rows gets its next version and, at commit, a change number (the log
# behind polling and the live stream): app/kit/changes.py.
changes.track(Alert, created="alert.created", updated="alert.updated")
changes.track(Incident, created="incident.updated", updated="incident.updated")
