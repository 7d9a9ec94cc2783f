"""Typed settings from the environment (prefix ``LIFTWATCH_``).

The defaults run the embedded demo (SQLite under ``var/``); production differs only by environment
variables, e.g. ``LIFTWATCH_DATABASE_URL=postgresql+psycopg://liftwatch@db/liftwatch``.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from liftwatch.core import logs

LANGUAGES = ("zh-CN", "en")
# Every settings group (core, rescue, detector) reads this file too; the environment wins over it.
ENV_FILE = ".env"


#: The documented default of LIFTWATCH_TIMEZONE (a service called without the settings falls back to it).
CITY_TIMEZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIFTWATCH_", env_file=ENV_FILE, extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where the embedded database and secrets live.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the embedded SQLite file var/liftwatch.db.",
    )
    secret_key: str = Field(
        default="",
        description="Key that signs API tokens and session cookies; empty means one generated once and kept "
        "in var/secret_key, which suits one host only. Required with more than one web host (the same value "
        "on every one): tokens signed by one host are refused by the others.",
    )
    token_minutes: int = Field(default=12 * 60, ge=1, description="Lifetime of an API token.")
    timezone: str = Field(
        default=CITY_TIMEZONE,
        description="The city's time zone (IANA name): KPI months and days, crew shifts, times on screen.",
    )
    public_url: str = Field(
        default="",
        pattern=r"^(https?://[^\s]+)?$",
        description="The address passengers reach the platform at, printed in the QR codes of the cars' "
        "96333 stickers (e.g. https://dt.example.gov.cn); empty: the address the request came to.",
    )
    default_language: str = Field(
        default="zh-CN",
        pattern="^(zh-CN|en)$",
        description="Language of the pages before one is chosen: zh-CN or en.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return valid_timezone(name)

    page_size_max: int = Field(
        default=500, ge=1, description="Largest page of an API list (`?size=`: elevators, incidents)."
    )
    cookie_secure: bool = Field(default=False, description="Mark the session cookie Secure (behind HTTPS).")
    bus_url: str = Field(
        default="", description="Event bus: empty = in-process (embedded); nats://host:4222 = NATS JetStream."
    )
    mqtt_url: str = Field(default="", description="MQTT broker to ingest from, e.g. mqtt://127.0.0.1:1883.")
    stream_namespace: str = Field(
        default="", pattern=r"^[A-Za-z0-9_]*$", description="Prefix of stream and subject names on NATS."
    )
    mqtt_group: str = Field(default="liftwatch-ingest", description="MQTT v5 shared-subscription group.")
    mqtt_client_id: str = Field(
        default="", description="Stable MQTT client id, so QoS 1 messages queued during a restart arrive."
    )
    mqtt_session_expiry_s: int = Field(
        default=300,
        ge=0,
        description="How long the broker keeps the session (and routes a share of the traffic to it) of an "
        "ingest process that crashed; a restart with the same client id within it loses nothing. A graceful "
        "stop ends the session at once.",
    )
    mqtt_username: str = Field(
        default="", description="MQTT user of the ingest processes (empty: anonymous); `liftwatch broker`."
    )
    mqtt_password: str = Field(default="", description="Password of LIFTWATCH_MQTT_USERNAME.")
    mqtt_ca_file: str = Field(
        default="",
        description="CA certificate (PEM) that signed the broker's certificate, for mqtts:// URLs; "
        "empty: the system's CAs.",
    )
    partitions: int = Field(default=4, ge=1, le=256, description="Telemetry stream partitions.")
    pipeline: bool = Field(
        default=True,
        description="Run ingestion and detection inside the web process (embedded mode). With NATS, run "
        "`liftwatch worker` processes instead and set this false.",
    )
    checkpoint_seconds: float = Field(default=2.0, gt=0, description="Detector checkpoint interval.")
    detector_clock: Literal["wall", "stream"] = Field(
        default="wall",
        description="What times the detectors' timers once they have caught up with the stream: `wall`, "
        "the clock (live traffic: a terminal gone silent raises `terminal_offline`); `stream`, the newest "
        "receive time read, never the clock (a replay of recorded telemetry: the same data gives the same "
        "faults at any speed). While catching up both follow the stream.",
    )
    live_status_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How often every elevator's live row (last seen, ride and door state, counters) is "
        "written; an elevator whose faults or online state changed is written at the next checkpoint. "
        "0: every changed row at every checkpoint.",
    )
    partition_lease_s: float = Field(
        default=10.0,
        ge=2,
        le=300,
        description="With `liftwatch worker --role detect --partitions leased`: how long a detector process "
        "owns a partition without renewing it (renewed every fifth of it); a dead process's partitions "
        "are taken over after about this long.",
    )
    worker_give_up_s: float = Field(
        default=300.0,
        gt=0,
        description="A worker loop (detector, rescue, archive) failing this long without a break makes "
        "its process exit with status 1, to be restarted by its supervisor.",
    )
    ready_max_lag_s: float = Field(
        default=120.0,
        gt=0,
        description="A detector partition with stream messages waiting that is further behind than this "
        "(wall clock minus the newest receive time it processed) makes its worker's /readyz 503. An idle "
        "city, nothing waiting, is never lagging.",
    )
    stream_max_mb: int = Field(
        default=10_240,
        ge=1,
        description="Size limit of the TELEMETRY stream on disk, a rolling window: when full its oldest "
        "messages go (a detector further behind loses them and says so). Size it for the longest "
        "detector outage to ride out.",
    )
    faults_stream_max_mb: int = Field(
        default=1024, ge=1, description="Size limit of the FAULTS stream; when full it refuses new changes."
    )
    stream_max_age_hours: float = Field(
        default=24.0, gt=0, description="How long the TELEMETRY stream keeps a message, read or not."
    )
    faults_stream_max_age_days: float = Field(
        default=7.0, gt=0, description="How long the FAULTS stream keeps a fault change, read or not."
    )
    raw_stream_max_mb: int = Field(
        default=0,
        ge=0,
        description="Size limit of the RAW stream (NATS-speaking terminals), a rolling window; 0 = no limit.",
    )
    raw_stream_max_age_hours: float = Field(
        default=24.0, gt=0, description="How long the RAW stream keeps a terminal's message, read or not."
    )
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Replicas of every stream (TELEMETRY, FAULTS, RAW); more than 1 needs a NATS cluster. "
        "Streams are created with these settings; an existing stream changes only by `liftwatch streams "
        "apply`.",
    )
    ingest_max_buffered: int = Field(
        default=200_000,
        ge=1000,
        description="Messages an ingest process holds for the stream before shedding QoS 0 status.",
    )
    ingest_shed_backlog: int = Field(
        default=50_000,
        ge=0,
        description="Shed QoS 0 status while the slowest detector partition is about this many terminal "
        "messages behind (the stream's batches behind times the mean batch); 0 = never on lag.",
    )
    simulate: bool = Field(
        default=False, description="Run the simulated city's terminals inside the web process (the demo)."
    )
    simulate_fault_scale: float = Field(default=50.0, ge=0, description="Simulated fault rates x this.")
    simulate_visits_per_hour: float = Field(
        default=60.0,
        ge=0,
        description="Maintenance visits the demo's simulated workers start an hour (0 = none), each taking "
        "the real time its items take; they work through the open preventive work orders due soonest, "
        "days ahead of plan, so the demo shows visits within minutes.",
    )
    simulate_fake_share: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Share of the demo's simulated maintenance visits that are fake, split evenly among the "
        "six kinds; their ground truth is written to var/sim/maintenance_truth.jsonl.",
    )
    simulate_on_demand_share: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Share of the demo's elevators with an IoT terminal whose contract is on the on-demand "
        "model (set when `liftwatch demo` first creates the contracts).",
    )
    archive: bool = Field(
        default=True,
        description="Archive raw telemetry to Parquet under var/archive/telemetry (the archive role, or the "
        "embedded pipeline).",
    )
    retain_archive_days: int = Field(
        default=0,
        ge=0,
        description="`liftwatch prune` removes Parquet archive days (date=YYYY-MM-DD, UTC) older than this; "
        "0 = keep forever (the default: the archive is the raw evidence behind every fault and incident).",
    )
    retain_faults_days: int = Field(
        default=730,
        ge=0,
        description="`liftwatch prune` removes faults cleared longer ago than this; open faults and faults "
        "an incident names are kept, and the elevator file keeps every fault's entry. 0 = keep forever.",
    )
    retain_dead_letters_days: int = Field(
        default=90,
        ge=0,
        description="`liftwatch prune` removes dead letters received longer ago than this (an "
        "unknown_elevator letter is not replayed after). 0 = keep forever.",
    )
    public_requests_per_min: int = Field(
        default=120,
        ge=0,
        description="Requests a minute one client address may send without credentials (the passenger "
        "pages, the public lists and their API reads, the sign-in page); more get 429 with Retry-After. "
        "Counted per web process. 0 = no limit (behind a gateway that limits itself).",
    )
    max_body_mb: float = Field(
        default=1.0,
        gt=0,
        description="Largest request body (MiB) most routes accept; larger ones are refused with 413 while "
        "being read, before authentication.",
    )
    telemetry_max_body_mb: float = Field(
        default=8.0, gt=0, description="Largest body (MiB) of the gateway endpoint POST /api/v1/telemetry."
    )
    import_max_body_mb: float = Field(
        default=20.0, gt=0, description="Largest upload (MiB) of POST /api/v1/registry/import."
    )
    upload_max_mb: float = Field(
        default=8.0,
        gt=0,
        description="Largest photo (MiB) of POST /api/v1/maintenance/attachments (JPEG, PNG or WebP).",
    )
    maintenance_corrective_sla_h: float = Field(
        default=24.0, gt=0, description="Hours a corrective work order has to be signed by its worker."
    )
    maintenance_urgent_sla_h: float = Field(
        default=4.0, gt=0, description="Hours an urgent corrective work order has to be signed."
    )
    maintenance_escalation_h: float = Field(
        default=24.0,
        ge=0,
        description="Hours after a work order's due time before the regulator is told it is still not done.",
    )
    maintenance_plan_every_h: float = Field(
        default=24.0,
        gt=0,
        description="Hours between two runs of the maintenance worker's plan job (contracts to work orders).",
    )
    maintenance_plan_days_ahead: int = Field(
        default=3,
        ge=0,
        le=60,
        description="Days before a planned visit is due that its preventive work order is opened.",
    )
    maintenance_telemetry_lag_min: float = Field(
        default=15.0,
        ge=0,
        le=1440,
        description="Minutes after a signed visit's check-out plus the mode slack before its telemetry kinds "
        "of fake maintenance are judged: the telemetry pipeline must have recorded the visit by then (a "
        "silent terminal is called offline 2 min after its last message; a restarted detector replays its "
        "backlog first).",
    )
    maintenance_webhook_url: str = Field(
        default="",
        description="POST maintenance notices (overdue, escalated, ...; JSON with an Idempotency-Key) here "
        "as well as to the log: the maintenance unit's or regulator's system. Empty: the log only.",
    )
    maintenance_webhook_timeout_s: float = Field(
        default=5.0, gt=0, description="One maintenance webhook delivery's time limit."
    )
    maintenance_notice_retry_s: float = Field(
        default=5.0, gt=0, description="First retry of a failed maintenance notice delivery (then doubling)."
    )
    maintenance_notice_retry_max_s: float = Field(
        default=600.0, gt=0, description="Longest wait between two retries of a maintenance notice."
    )
    hazard_webhook_url: str = Field(
        default="",
        description="POST hazard notices (overdue, supervised, escalated; JSON with an Idempotency-Key) here "
        "as well as to the log: the responsible unit's or regulator's system. Empty: the log only. Time "
        "limit and retries as the maintenance notices' (LIFTWATCH_MAINTENANCE_WEBHOOK_TIMEOUT_S, "
        "LIFTWATCH_MAINTENANCE_NOTICE_RETRY_S, ..._RETRY_MAX_S).",
    )
    hazard_sources_every_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between two scans of the hazard worker for the hidden dangers the platform "
        "finds itself: dangerous faults, recurring faults and serious findings of signed inspections "
        "(docs/HAZARDS.md). 0 is refused; a city that reports them by hand sets a long period.",
    )
    hazard_sources_lookback_h: float = Field(
        default=48.0,
        gt=0,
        description="Hours each scan looks back over faults and signed inspections: a worker stopped for "
        "less than this finds on restart what came meanwhile (a finding seen twice is one hazard).",
    )
    hazard_repeat_faults: int = Field(
        default=5,
        ge=2,
        description="Faults of one type on one elevator within LIFTWATCH_HAZARD_REPEAT_DAYS that make a "
        "general hidden danger (a door failing to close five times in a month is a defect, not bad luck).",
    )
    hazard_repeat_days: int = Field(
        default=30, ge=1, description="The window of LIFTWATCH_HAZARD_REPEAT_FAULTS, in days."
    )
    complaint_webhook_url: str = Field(
        default="",
        description="POST complaint notices (a complaint not assigned, answered or verified in time; JSON "
        "with an Idempotency-Key, no personal data) here as well as to the log: the regulator's or the "
        "responsible unit's system. Empty: the log only. Time limit and retries as the maintenance notices'.",
    )
    risk_recompute_s: float = Field(
        default=300.0,
        gt=0,
        description="Seconds between two passes of the risk worker (maintenance role): each rescores the "
        "elevators whose records changed since the last pass; a full recomputation once a day "
        "(docs/RISK.md).",
    )
    inspection_schedule: str = Field(
        default="yearly",
        pattern="^(yearly|reform)$",
        description="Periodic inspection schedule: yearly (TSG T7001-2023), or reform (by age: <= 6 years "
        "every 3 years, 6-15 every 2, > 15 yearly; self-tests in between). docs/INSPECTION.md.",
    )
    login_max_failures_account: int = Field(
        default=10, ge=1, description="Failed sign-ins per username per minute before it answers 429."
    )
    login_max_failures_address: int = Field(
        default=30, ge=1, description="Failed sign-ins per client address per minute before it answers 429."
    )
    login_concurrency: int = Field(
        default=2,
        ge=1,
        description="Password checks run at once (each argon2 check takes 64 MB); more callers wait.",
    )
    metrics_token: str = Field(
        default="",
        description="Bearer secret a Prometheus scraper sends to GET /metrics (besides an admin's token).",
    )
    metrics_public: bool = Field(default=False, description="Serve GET /metrics to anyone (opt-in).")
    map_tile_url: str = Field(
        default="",
        description="Tile URL template for the monitoring map, e.g. https://tile.example/{z}/{x}/{y}.png; "
        "empty = no tiles (offline): the map draws its own light grid and district centres.",
    )
    map_points_max: int = Field(
        default=5_000,
        ge=1,
        le=20_000,
        description="At most this many elevators drawn one by one on the dashboard's map; a view holding "
        "more is drawn as squares with their elevators counted (in SQL), the elevators in trouble still "
        "one by one, until zooming in or drilling down brings it under.",
    )
    districts_geojson: str = Field(
        default="",
        description="Path of the city's district boundaries (a GeoJSON FeatureCollection, each feature's "
        "`properties.name` the district as the registry writes it), served as is to the maps; empty = "
        "boundaries derived from the registry (Voronoi cells of the districts' centres, docs/DASHBOARD.md).",
    )
    log_level: str = Field(
        default="info", description="Log level of every process: debug, info, warning, error, critical."
    )
    log_format: str = Field(
        default="text", description="Log lines: text (for people) or json (one object a line, for shippers)."
    )
    log_levels: str = Field(
        default="",
        description="Per-logger levels over LIFTWATCH_LOG_LEVEL, e.g. liftwatch.telemetry=debug,nats=error.",
    )

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        return logs.parse_level(value)

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        return logs.parse_format(value)

    @field_validator("log_levels")
    @classmethod
    def _log_levels(cls, value: str) -> str:
        logs.parse_levels(value)
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'liftwatch.db').as_posix()}"

    @property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()


def archive_dir(settings: Settings) -> Path:
    return settings.var_dir / "archive" / "telemetry"


def city_tz(settings: Settings) -> ZoneInfo:
    """The city's time zone: the one calendar for KPIs, shifts, the screen and the simulator."""
    return zone(settings.timezone)


@lru_cache
def zone(name: str) -> ZoneInfo:
    """A time zone by its IANA name (checked by :func:`valid_timezone` when settings are read)."""
    return ZoneInfo(name)


def valid_timezone(name: str) -> str:
    """A settings validator: the name must be a time zone this machine knows, e.g. Asia/Shanghai."""
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as 'Asia/Shanghai')") from None
    return name
