"""Settings read from the environment (prefix KENGELE_)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)


def normalise_database_url(url: str) -> str:
    """Give plain sqlite:// and postgresql:// URLs their async driver."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


# Signs `kengele simulate` requests to a local gateway; refused with the twilio provider.
DEV_AUTH_TOKEN = "kengele-dev-token"


def default_data_dir() -> Path:
    """Where the SQLite file lives unless KENGELE_DATA_DIR says otherwise (per user, per OS)."""
    return Path(platformdirs.user_data_dir("kengele", appauthor=False))


class Settings(BaseSettings):
    """Every setting of the gateway; defaults run it with no configuration."""

    model_config = SettingsConfigDict(env_prefix="KENGELE_", env_file=".env", extra="ignore")

    # One data directory whatever the current directory: every command finds the same database.
    data_dir: Path = Field(default_factory=default_data_dir)
    # Empty: the SQLite file kengele.db in data_dir.
    database_url: str = ""
    public_url: str = "http://127.0.0.1:8000"
    sms_provider: Literal["console", "twilio"] = "console"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr(DEV_AUTH_TOKEN)
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = ""
    # Turning the signature check off must be explicit; it is warned about at every start.
    twilio_validate_signature: bool = True
    # `kengele serve` creates and migrates its database on start.
    auto_migrate: bool = True
    # Load the bundled demo gazetteer, focal points and liaisons on start.
    demo: bool = False
    # `kengele serve --demo`: also a console handset channel, first in the routes.
    demo_handset: bool = False
    # Run the background work (safety net, outbox worker) inside the API process.
    run_worker: bool = True
    default_region: str = "CD"
    # Where place names are matched: provinces (admin1 name or code, "CD-NK", "Ituri") or
    # countries ("CD"), comma-separated. Empty: around the liaisons' zones and focal points.
    triage_region: str = ""
    receipts_enabled: bool = True
    log_level: str = "INFO"
    # How often the in-process safety net looks for inbound messages left `received`.
    reprocess_interval_seconds: float = Field(default=30.0, gt=0)
    # A `received` message younger than this is still being handled by its request.
    reprocess_grace_seconds: float = Field(default=10.0, ge=0)
    # An inbound webhook answers within this: 503 when its message could not be stored
    # (Twilio gives up after 15 s), an empty TwiML when it was stored but not yet processed.
    webhook_deadline_seconds: float = Field(default=10.0, gt=0)
    # "inline": a webhook processes its message before it answers (Twilio's TwiML carries the
    # receipt). "queued": it stores the message and answers; the background loops process it
    # (this process's, or a `kengele worker`'s) and the receipt leaves by SMS (ARCHITECTURE.md).
    # "auto": inline while this process's webhooks are processing fewer than
    # `inline_at_once` messages, queued past that (a surge).
    inbound_mode: Literal["inline", "queued", "auto"] = "auto"
    # Auto: messages this process's webhooks process at once; the next ones are queued (serve
    # --workers N gives each process its share of the setting: app/serving.py).
    inline_at_once: int = Field(default=8, ge=1)
    # Messages the safety net's loop processes at once (PostgreSQL; one on SQLite, whose
    # writers take turns anyway); a sender's messages always one after the other.
    inbound_concurrency: int = Field(default=8, ge=1)
    # A message the background loops process (queued, or a retry) is given this long; past
    # it, it is cancelled and retried later, so that one held by the database (a row another
    # transaction keeps locked) does not hold up the messages behind it.
    process_timeout_seconds: float = Field(default=10.0, gt=0)
    # Outbox worker.
    sms_rate_per_second: float = Field(default=1.0, gt=0)
    # Messages a sending number may hand to Twilio at once before the rate applies
    # (Twilio queues them itself at the long code's pace).
    sms_burst: int = Field(default=3, ge=1)
    # How often an SMS whose every channel is down looks again (it waits; it is not given up).
    channel_wait_seconds: float = Field(default=15.0, gt=0)
    # How often channels are checked for a missed heartbeat.
    channel_check_seconds: float = Field(default=30.0, gt=0)
    # A channel down for its failed sends gets one SMS as a probe this long after its last
    # try (a success brings it back up).
    channel_probe_seconds: float = Field(default=120.0, gt=0)
    worker_poll_seconds: float = Field(default=10.0, gt=0)
    worker_batch: int = Field(default=50, ge=1)
    lease_seconds: float = Field(default=60.0, gt=0)
    # Deliveries one worker sends at once, each on its own: a slow or hung provider call
    # holds only its own row.
    send_concurrency: int = Field(default=64, ge=1)
    # Per provider call: Twilio's REST API (connect and read), a webhook target (each of
    # connect, write, read; the whole attempt has a 30 s deadline).
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=900.0, gt=0)
    webhook_allow_private: bool = False
    # A background loop that has not completed a pass this long after it was due is stale:
    # /readyz answers 503 naming it (kengele_loop_stale says so to Prometheus).
    loop_stale_seconds: float = Field(default=60.0, gt=0)
    # Pages to liaisons carry the reporter's number so they can call back.
    page_includes_reporter_phone: bool = True
    # Times in SMS are local: eastern DR Congo is UTC+2 all year.
    timezone: str = "Africa/Lubumbashi"
    corroboration_radius_km: float = 10.0
    corroboration_window_hours: float = 6.0
    duplicate_window_minutes: float = 10.0
    flash_window_minutes: float = 10.0
    # Operations API: requests a key may make per minute before it gets 429 (per process).
    api_rate_per_minute: int = Field(default=600, ge=1)
    # Live stream: heartbeat interval, and how long missed events can be replayed.
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    change_retention_hours: float = Field(default=24.0, gt=0)
    # Retention (docs/DATA_PROTECTION.md): days after which each kind of personal data is
    # removed; 0 keeps that kind for ever. Inbound messages as received (form, text, numbers):
    retention_raw_messages_days: int = Field(default=90, ge=0)
    # Texts of deliveries (pages quote the report and the call-back number; webhook payloads):
    retention_message_texts_days: int = Field(default=30, ge=0)
    # Numbers SMS deliveries went to:
    retention_delivery_numbers_days: int = Field(default=30, ge=0)
    # Words of a closed (resolved, false alarm) alert, counted from its last change:
    retention_closed_alert_texts_days: int = Field(default=180, ge=0)
    # Rows changed per transaction, and how often the worker looks for rows past their time.
    retention_batch: int = Field(default=200, ge=1)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    # Partner exports (?shared=1): "territoire" puts an alert at its territoire's centroid
    # (when the gazetteer has it, else rounds); "round" rounds to share_decimals (1 ≈ 11 km).
    share_location: Literal["territoire", "round"] = "territoire"
    share_decimals: int = Field(default=1, ge=0, le=4)
    # Statistics: a focal point silent this many days is listed as silent.
    silent_days: int = Field(default=7, ge=1)
    # Logs: JSON lines (one object a line, with the request id) or plain text; "auto" is text
    # on a terminal and JSON otherwise.
    log_format: Literal["auto", "json", "text"] = "auto"
    # Encryption at rest (docs/DATA_PROTECTION.md): the data keys (base64, comma-separated,
    # the last one encrypts) or a file of them (one a line); the lookup key of the number
    # hashes, or its file. Empty: key files generated in data_dir/keys (warned at start).
    data_key: SecretStr = SecretStr("")
    data_key_file: Path | None = None
    lookup_key: SecretStr = SecretStr("")
    lookup_key_file: Path | None = None
    # Operations page: an optional tile layer URL template for offices with internet
    # (e.g. https://tile.example.org/{z}/{x}/{y}.png); empty = the gateway's own data only.
    ops_tile_url: str = ""

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @model_validator(mode="after")
    def _database_in_data_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = "sqlite+aiosqlite:///" + str(self.data_dir / "kengele.db")
        return self

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def triage_region_list(self) -> tuple[str, ...]:
        """``triage_region`` split on commas."""
        return tuple(part.strip() for part in self.triage_region.split(",") if part.strip())

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own)."""
    return Settings()
