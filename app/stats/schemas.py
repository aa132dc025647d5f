"""What the statistics endpoint answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CountRead(BaseModel):
    """How many alerts have this value (`key` null: the alert has none, e.g. no place)."""

    key: str | None
    count: int


class ShareRead(BaseModel):
    """How many of the window's alerts are in a state, and their share of the total."""

    count: int
    share: float | None = Field(description="count / total, from 0 to 1; null when no alerts")


class DurationsRead(BaseModel):
    """Durations in seconds from receipt, over the alerts that have one."""

    count: int = Field(description="how many alerts the figures are computed from")
    median_seconds: float | None
    p90_seconds: float | None = Field(
        description="90th percentile (linear interpolation between the nearest ranks)"
    )


class ReporterHome(BaseModel):
    """A reporter (phone always masked) and their home place."""

    reporter_id: int
    phone: str | None
    name: str
    home_place_id: str | None
    home_place_name: str | None
    admin1: str | None
    admin2: str | None


class ReporterCountRead(ReporterHome):
    """One reporter's alerts in the window."""

    role: str = Field(description="focal_point, or unregistered for numbers first seen texting")
    count: int


class SilentReporterRead(ReporterHome):
    """An active focal point whose last report is too old, or who never reported."""

    opted_out: bool = Field(description="asked to hear nothing back; still expected to report")
    registered_at: datetime
    last_report_at: datetime | None = Field(description="null: never reported")
    days_silent: int | None = Field(description="whole days from the last report to `until`")


class SilentRead(BaseModel):
    """Focal points silent for at least `days` days before `until` (a silent network warns)."""

    days: int
    count: int
    reporters: list[SilentReporterRead]


class AgreementRead(BaseModel):
    """Of one month's human-verified alerts, the share whose triage humans left unchanged."""

    month: str = Field(description="YYYY-MM, of the alerts' receipt")
    verified: int = Field(description="alerts confirmed or corrected (FLASH calls left out)")
    category: ShareRead
    severity: ShareRead
    place: ShareRead
    all: ShareRead = Field(description="category, severity and place all unchanged")


class StatsRead(BaseModel):
    """Statistics of the alerts received in [since, until), optionally in one province or
    territoire. Lists of counts are sorted by count, largest first; category, severity and
    status list every value, zeros included."""

    since: datetime
    until: datetime
    admin1: str | None
    admin2: str | None
    total: int
    by_category: list[CountRead]
    by_severity: list[CountRead]
    by_status: list[CountRead]
    by_territoire: list[CountRead] = Field(description="by admin2; key null: no place known")
    acknowledged: ShareRead = Field(
        description="alerts someone took: any status past new, or an acknowledging event"
    )
    resolved: ShareRead = Field(description="alerts whose status is resolved")
    time_to_acknowledge: DurationsRead = Field(
        description="from receipt to the first event that took the alert out of new"
    )
    time_to_resolve: DurationsRead = Field(
        description="from receipt to the event that resolved it, over alerts now resolved"
    )
    reporters: list[ReporterCountRead] = Field(description="reports per reporter, most first")
    unattributed: int = Field(description="alerts with no reporter on file")
    silent: SilentRead
    triage_agreement: list[AgreementRead] = Field(
        description="per month, oldest first: how often humans who verified an alert left "
        "triage's category, severity and place as they were"
    )
