"""Wiring of the long-running workers, the same in every deployment:

    MQTT (shared subscription) ─┐
    NATS liftwatch.raw.> ───────┤
    HTTP /api/v1/telemetry ─────┼─▶ Ingestor ─▶ TELEMETRY (partitioned) ─▶ PartitionWorker × P ─▶ FAULTS
    simulator (demo) ───────────┘      │                            └────▶ ArchiveWriter           │
                                       └─▶ dead letters (database)                                 ▼
                                                                                           RescueWorker

Embedded (``make demo``): every role in the web process on the in-process bus. Production: the web
processes and ``liftwatch worker --role ingest`` processes publish to NATS JetStream, ``--role detect``
processes own partitions, one ``--role archive`` process writes Parquet, ``--role rescue`` turns faults
into incidents. This module sits above the domains (pyproject's import contracts), so it is the one place
that builds their workers and reads their settings; telemetry and rescue meet only on the FAULTS stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.applications.worker import ApplicationWorker
from liftwatch.complaints.worker import ComplaintWorker
from liftwatch.core.bus import Bus, Health, StreamSpec, ensure_spec, make_bus
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, archive_dir
from liftwatch.core.logs import mask_secrets
from liftwatch.core.metrics import Metrics
from liftwatch.core.probes import BlockingCheck, LagWatch
from liftwatch.core.tasks import settle
from liftwatch.hazards.worker import HazardWorker
from liftwatch.maintenance.worker import MaintenanceWorker
from liftwatch.parts.worker import PartsWorker
from liftwatch.ratings.worker import RatingsWorker
from liftwatch.registry import queries as registry
from liftwatch.rescue.intake import RescueWorker
from liftwatch.risk.worker import RiskWorker
from liftwatch.telemetry import records, service
from liftwatch.telemetry.archive import ArchiveWriter
from liftwatch.telemetry.faults import DetectorSettings, FaultChange
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.leases import LeaseLost, Leases
from liftwatch.telemetry.mqtt import MqttIngest
from liftwatch.telemetry.natsraw import NatsRawIngest, raw_stream_name, raw_subjects
from liftwatch.telemetry.service import detector_settings_from_env
from liftwatch.telemetry.worker import LiveBoard, PartitionWorker

log = logging.getLogger(__name__)

ROLES = frozenset({"ingest", "detect", "archive", "rescue", "maintenance"})
STOP_GRACE_S = 15.0  # how long stop() lets the workers flush and checkpoint before cancelling them
KILL_GRACE_S = 5.0  # how long kill() waits for the cancelled workers to end
REGISTRY_SWEEP_S = 300.0  # the registry feed's full re-read (its safety net)
READY_CHECK_S = 2.0  # how often /readyz's own checks (database, bus, detector lag) run
READY_TIMEOUT_S = 2.0  # how long one of them may take before it counts as a failure

# Default --metrics-port of `liftwatch worker` by role (docs/OPERATIONS.md, "Supervision, health and
# backpressure"): one process of each role fits on one host without a flag.
METRICS_PORTS = {"ingest": 9108, "archive": 9109, "rescue": 9110, "detect": 9111, "maintenance": 9120}
ROLE_ORDER = ("ingest", "detect", "archive", "rescue", "maintenance")


def default_metrics_port(roles: frozenset[str], partitions: list[int] | None) -> int:
    """The probe port of a worker process without ``--metrics-port``: its role's port (ingest 9108,
    archive 9109, rescue 9110, maintenance 9120); a detect process 9111 plus the first partition it owns,
    so processes owning different partitions on one host do not collide (``--partitions 2,3``: 9113);
    several roles in one process take the port of the first of ingest, detect, archive, rescue,
    maintenance it runs (all roles: 9108)."""
    first = next(r for r in ROLE_ORDER if r in roles)
    if first == "detect":
        return METRICS_PORTS["detect"] + (min(partitions) if partitions else 0)
    return METRICS_PORTS[first]


def stream_specs(settings: Settings) -> dict[str, StreamSpec]:
    """The streams as the settings say they should be (docs/OPERATIONS.md, "Streams"): what a process
    creates when one is missing, and what ``liftwatch streams show|apply`` compares with and applies."""
    topo = records.Topology(settings.stream_namespace)
    mb, hour, replicas = 1024 * 1024, 3600.0, settings.stream_replicas
    return {
        "telemetry": StreamSpec(
            topo.stream,
            (topo.all_subjects,),
            settings.stream_max_age_hours * hour,
            settings.stream_max_mb * mb,
            replicas=replicas,
            settings="LIFTWATCH_STREAM_MAX_MB, LIFTWATCH_STREAM_MAX_AGE_HOURS",
        ),
        "faults": StreamSpec(
            topo.faults_stream,
            (topo.faults_subjects,),
            settings.faults_stream_max_age_days * 24 * hour,
            settings.faults_stream_max_mb * mb,
            discard_new=True,  # a fault change is never dropped unread; the detector holds it instead
            replicas=replicas,
            settings="LIFTWATCH_FAULTS_STREAM_MAX_MB, LIFTWATCH_FAULTS_STREAM_MAX_AGE_DAYS",
        ),
        "raw": StreamSpec(
            raw_stream_name(settings.stream_namespace),
            (raw_subjects(settings.stream_namespace),),
            settings.raw_stream_max_age_hours * hour,
            settings.raw_stream_max_mb * mb if settings.raw_stream_max_mb else -1,
            replicas=replicas,
            settings="LIFTWATCH_RAW_STREAM_MAX_MB, LIFTWATCH_RAW_STREAM_MAX_AGE_HOURS",
        ),
    }


def start_configuration(
    settings: Settings, roles: frozenset[str], partitions: list[int] | None, detector: DetectorSettings
) -> dict[str, Any]:
    """What a worker process logs as it starts (docs/OPERATIONS.md, "Logs"), secrets masked: which
    roles and partitions, the database, the brokers and streams, and the settings of its roles."""
    conf: dict[str, Any] = {
        "roles": sorted(roles),
        "partitions": partitions if partitions is not None else list(range(settings.partitions)),
        "partitions_total": settings.partitions,
        "database": mask_secrets(settings.resolved_database_url),
        "bus": mask_secrets(settings.bus_url) or "in-process",
        # each stream as the settings say it should be (a process creates a missing one so; an existing
        # one keeps what it has: `liftwatch streams show`)
        "streams": {
            role: {
                "name": spec.name,
                "max_mb": spec.max_bytes // (1024 * 1024) if spec.max_bytes > 0 else "none",
                "max_age_h": round(spec.max_age_s / 3600, 2),
                "replicas": spec.replicas,
            }
            for role, spec in stream_specs(settings).items()
            if role != "raw" or "ingest" in roles
        },
        "secret_key": "set" if settings.secret_key else f"kept in {settings.var_dir / 'secret_key'}",
        "worker_give_up_s": settings.worker_give_up_s,
    }
    if "ingest" in roles:
        conf |= {
            "mqtt": mask_secrets(settings.mqtt_url) or "none",
            "mqtt_username": settings.mqtt_username,
            "mqtt_password": mask_secrets(settings.mqtt_password),
            "mqtt_group": settings.mqtt_group,
            "mqtt_client_id": settings.mqtt_client_id,
            "mqtt_session_expiry_s": settings.mqtt_session_expiry_s,
            "ingest_max_buffered": settings.ingest_max_buffered,
            "ingest_shed_backlog": settings.ingest_shed_backlog,
        }
    if "detect" in roles:
        conf["checkpoint_seconds"] = settings.checkpoint_seconds
        conf["detector"] = msgspec.structs.asdict(detector)
    if "archive" in roles:
        conf["archive"] = str(archive_dir(settings)) if settings.archive else "off"
    return conf


@dataclass
class Pipeline:
    """The workers of one process, by role (``roles``), started and stopped together: one health report
    (``/readyz``), one failure flag that ends the process (its supervisor restarts it)."""

    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    roles: frozenset[str] = ROLES
    partitions: list[int] | None = None  # which partitions this process detects; default all
    # partitions by lease instead (telemetry/leases.py): shared with every other process that leases them,
    # taken over when an owner dies; ``partitions`` is then ignored
    leased: bool = False
    leases: Leases | None = None
    bus: Bus | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # the fault rules' thresholds: LIFTWATCH_DETECTOR_* read here, once, unless given
    detector_settings: DetectorSettings = field(default_factory=detector_settings_from_env)
    ingestor: Ingestor | None = None
    workers: list[PartitionWorker] = field(default_factory=list)
    archive: ArchiveWriter | None = None
    mqtt: MqttIngest | None = None
    nats_raw: NatsRawIngest | None = None
    rescue: RescueWorker | None = None
    maintenance: MaintenanceWorker | None = None
    hazards: HazardWorker | None = None  # runs with the maintenance role
    complaints: ComplaintWorker | None = None  # runs with the maintenance role
    applications: ApplicationWorker | None = None  # runs with the maintenance role
    parts: PartsWorker | None = None  # runs with the maintenance role
    risk: RiskWorker | None = None  # runs with the maintenance role
    ratings: RatingsWorker | None = None  # runs with the maintenance role
    live: LiveBoard = field(default_factory=LiveBoard)
    adapters: bool = True  # the MQTT and NATS ingestion adapters; a web process ingests HTTP only
    registry_poll_s: float = 0.5  # how soon a registry change reaches ingestion and the detector
    ready_check_s: float = READY_CHECK_S
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    # set when a task of the pipeline ended with an error (an unrecoverable worker): the process should
    # exit non-zero so that its supervisor restarts it
    failed: asyncio.Event = field(default_factory=asyncio.Event)
    failure: str = ""
    started: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _registry_last_id: int = 0
    _registry_seen: set[int] = field(default_factory=set)
    # what the detector knows from the registry: code -> (rated speed, in service)
    _registry_view: dict[str, tuple[float | None, bool]] = field(default_factory=dict)
    _registry_health: Health = field(default_factory=lambda: Health("registry feed"))
    # readiness's own checks (_check_readiness): their last verdicts and when they were taken (monotonic)
    _db_check: BlockingCheck | None = None
    _bus_ok: bool = False
    _checked_at: float | None = None
    _lags: dict[int, LagWatch] = field(default_factory=dict)
    # leased partitions: each one's stop and task (a partition stops alone when its lease goes)
    _partition_runs: dict[int, tuple[asyncio.Event, asyncio.Task[None]]] = field(default_factory=dict)
    _lease_health: Health = field(default_factory=lambda: Health("partition leases"))

    async def start(self) -> None:
        unknown = set(self.roles) - ROLES
        if unknown:
            raise ValueError(f"unknown pipeline roles: {', '.join(sorted(unknown))}")
        log.info(
            "starting %s",
            ", ".join(sorted(self.roles)),
            extra=start_configuration(self.settings, self.roles, self.partitions, self.detector_settings),
        )
        if self.bus is None:
            self.bus = make_bus(self.settings.bus_url)
            await self.bus.connect()
        self.live.every_s = self.settings.live_status_seconds
        topo = records.Topology(self.settings.stream_namespace)
        specs = stream_specs(self.settings)
        # created from the settings if missing; an existing stream is left as an operator tuned it
        await ensure_spec(self.bus, specs["telemetry"])
        await ensure_spec(self.bus, specs["faults"])
        nparts = self.settings.partitions
        self._registry_last_id = await asyncio.to_thread(self._last_event_id)  # before the full loads
        if "ingest" in self.roles:
            codes = await asyncio.to_thread(self._codes)
            self.ingestor = Ingestor(
                self.bus,
                nparts,
                KnownElevators(codes),
                self.metrics,
                dead_letter_sink=self._store_dead,
                topology=topo,
                max_buffered=self.settings.ingest_max_buffered,
            )
            self._spawn(self.ingestor.run(stop=self._stop))
            if self.settings.ingest_shed_backlog > 0:
                self._spawn(self._probe_lag(topo.stream))
            if self.settings.bus_url and self.adapters:
                # terminals that speak NATS: their raw stream is consumed here (durable on JetStream)
                await ensure_spec(self.bus, specs["raw"])
                self.nats_raw = NatsRawIngest(self.ingestor, self.bus, self.settings.stream_namespace)
                await self.nats_raw.start()
                self._spawn(self.nats_raw.run(self._stop))
            if self.settings.mqtt_url and self.adapters:
                self.mqtt = MqttIngest(
                    self.ingestor,
                    self.settings.mqtt_url,
                    group=self.settings.mqtt_group,
                    client_id=self.settings.mqtt_client_id or None,
                    session_expiry_s=self.settings.mqtt_session_expiry_s,
                    username=self.settings.mqtt_username or None,
                    password=self.settings.mqtt_password or None,
                    ca_file=self.settings.mqtt_ca_file or None,
                )
                await self.mqtt.start()
        if "detect" in self.roles:
            self._registry_view = await asyncio.to_thread(self._view)
            if self.leased:
                self.leases = Leases(
                    self.session_factory, self.clock, nparts, ttl_s=self.settings.partition_lease_s
                )
                await self._lease_round()  # the partitions free now, before the process says it is ready
                self._spawn(self._keep_leases())
            else:
                for p in self.partitions if self.partitions is not None else range(nparts):
                    worker = await self._new_worker(p)
                    self.workers.append(worker)
                    self._spawn(worker.run(self._stop))
        if "rescue" in self.roles:
            self.rescue = RescueWorker.from_settings(
                self.bus, self.session_factory, self.clock, self.settings, topo, self.metrics
            )
            await self.rescue.start()
            self._spawn(self.rescue.run(self._stop))
        if "maintenance" in self.roles:
            # work order deadlines, their notices and the plan job (no stream: the database only)
            self.maintenance = MaintenanceWorker(
                self.session_factory, self.clock, self.settings, self.metrics
            )
            await self.maintenance.start()
            self._spawn(self.maintenance.run(self._stop))
            # hazards' escalation deadlines and their notices (docs/HAZARDS.md)
            self.hazards = HazardWorker(self.session_factory, self.clock, self.settings)
            self._spawn(self.hazards.run(self._stop))
            # complaints' SLA limits and their notices (docs/COMPLAINTS.md)
            self.complaints = ComplaintWorker(self.session_factory, self.clock, self.settings)
            self._spawn(self.complaints.run(self._stop))
            # applications' review deadlines (docs/APPLICATIONS.md)
            self.applications = ApplicationWorker(self.session_factory, self.clock, self.settings)
            self._spawn(self.applications.run(self._stop))
            # the parts' wear for the worn list (docs/PARTS.md)
            self.parts = PartsWorker(self.session_factory, self.clock, self.settings)
            self._spawn(self.parts.run(self._stop))
            # risk scores rescored as their data changes (docs/RISK.md)
            self.risk = RiskWorker(self.session_factory, self.clock, self.settings)
            self._spawn(self.risk.run(self._stop))
            # the maintenance units' ratings of each period just closed (docs/RATINGS.md)
            self.ratings = RatingsWorker(self.session_factory, self.clock, self.settings)
            self._spawn(self.ratings.run(self._stop))
        if "archive" in self.roles and self.settings.archive:
            self.archive = ArchiveWriter(
                self.bus, archive_dir(self.settings), topology=topo, metrics=self.metrics
            )
            await self.archive.start()
            self._spawn(self.archive.run(self._stop))
        if "ingest" in self.roles or "detect" in self.roles:
            self._spawn(self._follow_registry())
        healths = [w.health for w in self.workers]
        if self.rescue is not None:
            healths += [self.rescue.health, self.rescue.outbox_health]
        if self.maintenance is not None:
            healths += [self.maintenance.health, self.maintenance.outbox_health]
        if self.hazards is not None:
            healths.append(self.hazards.health)
        if self.complaints is not None:
            healths.append(self.complaints.health)
        if self.applications is not None:
            healths.append(self.applications.health)
        if self.parts is not None:
            healths.append(self.parts.health)
        if self.risk is not None:
            healths.append(self.risk.health)
        if self.ratings is not None:
            healths.append(self.ratings.health)
        if self.archive is not None:
            healths.append(self.archive.health)
        for health in healths:
            health.give_up_s = self.settings.worker_give_up_s
        now = time.monotonic()
        self._lags = {w.partition: LagWatch(self.settings.ready_max_lag_s, now) for w in self.workers}
        self._db_check = BlockingCheck(self._select_one, READY_TIMEOUT_S)
        await self._check_readiness()  # ready as soon as started, not one interval later
        self._spawn(self._watch_readiness())
        self.started = True

    async def _new_worker(
        self, partition: int, fence: Callable[[Session], None] | None = None
    ) -> PartitionWorker:
        """A started detector for ``partition`` (its checkpoint loaded, its consumer open), told what the
        registry says of rated speeds and elevators out of service."""
        assert self.bus is not None
        view = self._registry_view
        worker = PartitionWorker(
            partition,
            self.bus,
            self.session_factory,
            self.clock,
            self.detector_settings,
            {code: speed for code, (speed, _) in view.items() if speed},
            self.metrics,
            self.live,
            checkpoint_s=self.settings.checkpoint_seconds,
            stream_clock=self.settings.detector_clock == "stream",
            on_faults=self._announce,
            topology=records.Topology(self.settings.stream_namespace),
            fence=fence,
        )
        for code, (_, in_service) in view.items():
            if not in_service:
                worker.set_in_service(code, False)
        await worker.start()
        return worker

    # ------------------------------------------------------------------ leased partitions

    async def _lease_round(self) -> None:
        """One round of the lease book: stop what was lost or is surplus, start what was gained."""
        leases = self.leases
        assert leases is not None
        got = await asyncio.to_thread(leases.round)
        for p in got.lost:
            log.warning("detector partition %d: its lease was taken over; stopped without a checkpoint", p)
            await self._stop_partition(p, lost=True)
        for p in got.surplus:
            await self._stop_partition(p, lost=False)
            await asyncio.to_thread(leases.release, p)
        for p in got.gained:
            if self._stop.is_set():  # stopping while the round ran: not started, free for the others
                await asyncio.to_thread(leases.release, p)
                continue
            try:
                worker = await self._new_worker(p, fence=leases.fence(p))
            except Exception:
                await asyncio.to_thread(leases.release, p)  # for another process, or the next round
                raise
            worker.health.give_up_s = self.settings.worker_give_up_s
            self.workers.append(worker)
            self._lags[p] = LagWatch(self.settings.ready_max_lag_s, time.monotonic())
            stop = asyncio.Event()
            task = asyncio.get_running_loop().create_task(self._run_partition(worker, stop))
            task.add_done_callback(self._partition_done(stop))
            self._tasks.append(task)
            self._partition_runs[p] = (stop, task)
        if got.gained or got.lost or got.surplus:
            log.info(
                "partition leases: %s (holding %s of %d; %d detector processes)",
                "; ".join(
                    f"{what} {', '.join(map(str, ps))}"
                    for what, ps in (("took", got.gained), ("lost", got.lost), ("gave up", got.surplus))
                    if ps
                ),
                ", ".join(map(str, sorted(leases.held))) or "none",
                self.settings.partitions,
                got.members,
            )

    def _partition_done(self, stop: asyncio.Event) -> Callable[[asyncio.Task[None]], None]:
        """A partition stopped on purpose (given up, lost) ends; one that ends by itself is a failure."""

        def done(task: asyncio.Task[None]) -> None:
            if not stop.is_set():
                self._task_done(task)

        return done

    async def _run_partition(self, worker: PartitionWorker, stop: asyncio.Event) -> None:
        """A leased partition's loop, until its own stop (set by ``stop()`` for the process's)."""
        try:
            await worker.run(stop)
        except LeaseLost as exc:
            log.warning("detector partition %d: %s; its last checkpoint was not saved", worker.partition, exc)

    async def _stop_partition(self, partition: int, lost: bool) -> None:
        """Stop one leased partition: with a last checkpoint when it is given up, at once when it was lost
        (its checkpoint would be refused: the new owner goes on from the last saved one)."""
        run = self._partition_runs.pop(partition, None)
        self.workers = [w for w in self.workers if w.partition != partition]
        self._lags.pop(partition, None)
        if run is None:
            return
        stop, task = run
        stop.set()
        if lost:
            task.cancel()
        await settle([task], STOP_GRACE_S, f"detector partition {partition}")

    async def _keep_leases(self) -> None:
        """Lease rounds every fifth of the lease time until the process stops. Rounds that keep failing
        (the database away) for a whole lease time mean the leases are gone or going: every partition
        stops, and is taken again when the rounds succeed."""
        leases = self.leases
        assert leases is not None
        every = self.settings.partition_lease_s / 5
        health = self._lease_health
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=every)
            if self._stop.is_set():
                break
            try:
                await self._lease_round()
                health.ok()
            except Exception as exc:
                health.failed(exc)
                log.warning("partition leases: round failed (%d in a row): %s", health.failures, exc)
                since = health.failing_since
                if since is not None and time.monotonic() - since >= self.settings.partition_lease_s:
                    for p in list(self._partition_runs):
                        await self._stop_partition(p, lost=True)
                    leases.held.clear()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stop.is_set():
            return
        exc = task.exception()
        why = f"{type(exc).__name__}: {exc}" if exc is not None else f"{task.get_coro()!r} ended"
        log.error("pipeline: a task ended while running: %s", why, exc_info=exc)
        self.failure = self.failure or why
        self.failed.set()

    def health(self) -> dict[str, Any]:
        """Readiness of each part: false while it cannot make progress (the database or NATS down), or a
        detector partition is further behind than LIFTWATCH_READY_MAX_LAG_S (``LagWatch``). The
        ``database`` and ``bus`` parts are the last verdicts of checks run every ``ready_check_s`` in the
        background (never here: a probe must answer at once); a verdict older than a few intervals
        counts as not ready."""
        parts: dict[str, Any] = {}
        now = time.monotonic()
        stale_after = 3 * self.ready_check_s + 2 * READY_TIMEOUT_S  # a check loop that stopped checking
        fresh = self._checked_at is not None and now - self._checked_at <= stale_after
        stale = ""
        if self._checked_at is None:
            stale = "not checked yet"
        elif not fresh:
            stale = f"not checked for {stale_after:g} s"
        db = self._db_check
        parts["database"] = {
            "ready": fresh and db is not None and db.ok,
            "error": stale or (db.error if db else ""),
        }
        parts["bus"] = {
            "ready": fresh and self._bus_ok,
            "error": stale or ("" if self._bus_ok else f"not connected or silent for {READY_TIMEOUT_S:g} s"),
        }
        if self.ingestor is not None:
            parts["ingest"] = self.ingestor.health.report() | {
                "buffered": self.ingestor.buffered(),
                "saturated": self.ingestor.saturated,
                "shed": self.ingestor.stats.shed,
            }
        for w in self.workers:
            parts[w.health.name] = w.health.report() | self._lag_report(w, now)
        if self.rescue is not None:
            parts["rescue worker"] = self.rescue.health.report()
            parts["notice outbox"] = self.rescue.outbox_health.report()
        if self.maintenance is not None:
            parts["maintenance worker"] = self.maintenance.health.report()
            parts["maintenance notices"] = self.maintenance.outbox_health.report()
        if self.hazards is not None:
            parts["hazard worker"] = self.hazards.health.report()
        if self.complaints is not None:
            parts["complaint worker"] = self.complaints.health.report()
        if self.applications is not None:
            parts["application worker"] = self.applications.health.report()
        if self.parts is not None:
            parts["parts worker"] = self.parts.health.report()
        if self.risk is not None:
            parts["risk worker"] = self.risk.health.report()
        if self.ratings is not None:
            parts["ratings worker"] = self.ratings.health.report()
        if self.archive is not None:
            parts["archive"] = self.archive.health.report()
        parts["registry feed"] = self._registry_health.report()
        if self.leases is not None:
            parts["partition leases"] = self._lease_health.report() | {"held": sorted(self.leases.held)}
        if self.mqtt is not None:
            parts["mqtt"] = {"ready": self.mqtt.connected.is_set()}
        ready = self.started and not self.failed.is_set() and all(p["ready"] for p in parts.values())
        return {"ready": ready, "failure": self.failure, "parts": parts}

    def _lag_report(self, w: PartitionWorker, now: float) -> dict[str, Any]:
        watch = self._lags.get(w.partition)
        if watch is None:
            return {}
        processed = self.metrics.registry.get_sample_value(
            "liftwatch_detector_lag_seconds", {"partition": str(w.partition)}
        )
        last_ok = w.health.last_ok
        since_step = now - last_ok if last_ok is not None else now - watch.caught_up_at
        lag = watch.lag_s(processed, since_step, now)
        return {
            "ready": w.health.ready and lag <= watch.limit_s,
            "pending": watch.pending,
            "lag_s": round(lag, 1),
        }

    async def _check_readiness(self) -> None:
        """One round of the checks behind ``health()``: the database (``SELECT 1`` in a thread), the bus
        (a round trip to NATS), and what the stream says is waiting for each detector partition. They
        run together, each bounded by READY_TIMEOUT_S."""
        assert self.bus is not None and self._db_check is not None
        bus = self.bus

        async def stream() -> None:
            if not self._lags:
                return
            topo = records.Topology(self.settings.stream_namespace)
            try:
                info = await asyncio.wait_for(bus.stream_info(topo.stream), timeout=READY_TIMEOUT_S)
            except Exception:  # the bus part says so; keep the last observation
                return
            now = time.monotonic()
            for p, watch in self._lags.items():
                watch.observe(info.consumers.get(f"detector-p{p}", 0), now)

        _, self._bus_ok, _ = await asyncio.gather(
            self._db_check.run(), bus.reachable(READY_TIMEOUT_S), stream()
        )
        self._checked_at = time.monotonic()

    async def _watch_readiness(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.ready_check_s)
            if self._stop.is_set():
                return
            try:
                await self._check_readiness()
            except Exception:  # a check must never end the pipeline; its verdict goes stale instead
                log.exception("readiness check failed")

    def _select_one(self) -> None:
        with self.session_factory() as session:
            session.execute(text("SELECT 1"))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` alongside the pipeline; it should end when ``stopping`` is set."""
        self._spawn(coro)

    @property
    def stopping(self) -> asyncio.Event:
        return self._stop

    async def stop(self) -> None:
        """Flush, checkpoint and close: what was accepted is on the stream, what was detected is stored."""
        self._stop.set()
        for partition_stop, _ in self._partition_runs.values():
            partition_stop.set()
        if self.mqtt is not None:
            await self.mqtt.stop()
        # one deadline for all of them (not 15 s each, one after the other): a supervisor's grace period is
        # short, and a worker stuck on a frozen NATS must not hold the others' shutdown for minutes
        # (a task that failed has said why already, _task_done; one that ignores its cancellation is left
        # behind with a warning rather than holding the process)
        await settle(self._tasks, STOP_GRACE_S, "stop")
        if self.leases is not None:  # after the last checkpoints: the others take over at once
            try:
                await asyncio.to_thread(self.leases.leave)
            except Exception as exc:  # they take over when the leases expire instead
                log.warning("partition leases: not released on stop: %s", exc)
        if self.bus is not None:
            await self.bus.close()

    async def kill(self) -> None:
        """Stop at once without flushing or checkpointing (tests simulate a crash with this)."""
        for task in self._tasks:
            task.cancel()
        await settle(self._tasks, KILL_GRACE_S, "kill")
        if self.mqtt is not None:
            self.mqtt.abort()

    # ------------------------------------------------------------------ helpers

    def _last_event_id(self) -> int:
        with self.session_factory() as session:
            return registry.last_event_id(session)

    def _changes(self) -> list[registry.ElevatorChange]:
        with self.session_factory() as session:
            return registry.elevator_changes(session, self._registry_last_id)

    async def _follow_registry(self) -> None:
        """Registry changes as they are committed (every ``registry_poll_s``): a new elevator is known
        to ingestion at once and the dead letters its terminal sent before are replayed; a rated speed
        set or changed reaches the detector's overspeed rule; a suspended or scrapped elevator's silent
        terminal raises no terminal_offline. The elevator file is the change log."""
        health = self._registry_health
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + REGISTRY_SWEEP_S
        while not self._stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.registry_poll_s)
            if self._stop.is_set():
                return
            try:
                await self._apply_registry_changes(await asyncio.to_thread(self._changes))
                if loop.time() >= next_sweep:
                    await self._sweep()
                    next_sweep = loop.time() + REGISTRY_SWEEP_S
            except Exception as exc:
                health.failed(exc)
                log.exception("registry feed failed (%d in a row)", health.failures)
                await asyncio.sleep(health.backoff_s())
            else:
                health.ok()

    async def _apply_registry_changes(self, changes: list[registry.ElevatorChange]) -> None:
        seen = self._registry_seen
        new_codes: list[str] = []
        for ch in changes:
            if ch.event_id in seen:
                continue
            seen.add(ch.event_id)
            self._registry_last_id = max(self._registry_last_id, ch.event_id)
            if self.ingestor is not None and ch.registration_code not in self.ingestor.known.codes:
                self.ingestor.known.codes.add(ch.registration_code)
                new_codes.append(ch.registration_code)
            code = ch.registration_code
            rated, in_service = ch.rated_speed_mps, ch.status == registry.IN_SERVICE
            if "detect" in self.roles and self._registry_view.get(code) != (rated, in_service):
                # only what changed: an unrelated edit must not override a rated speed the terminal
                # reports itself
                before = self._registry_view.get(code)
                self._registry_view[code] = (rated, in_service)
                for w in self.workers:
                    if records.partition_of(code, self.settings.partitions) != w.partition:
                        continue
                    if before is None or before[0] != rated:
                        w.set_rated_speed(code, rated)
                    if before is None or before[1] != in_service:
                        w.set_in_service(code, in_service)
        if len(seen) > 4096:  # only the lookback window can come again
            floor = self._registry_last_id - 2000
            self._registry_seen = {i for i in seen if i > floor}
        if new_codes:
            await self.replay_unknown(new_codes)

    async def _sweep(self) -> None:
        """The feed's safety net: codes it could have missed (a transaction that committed an event id
        further back than its lookback) are added, never removed, and their dead letters replayed."""
        if self.ingestor is None:
            return
        self.ingestor.known.codes |= await asyncio.to_thread(self._codes)
        await self.replay_unknown()

    async def replay_unknown(self, codes: list[str] | None = None) -> int:
        """Feed the unknown_elevator dead letters of ``codes`` (default: every registered elevator that
        has some) through ingestion again. Returns how many were accepted."""
        ingestor = self.ingestor
        if ingestor is None:
            return 0
        known = ingestor.known.codes

        def claim() -> list[service.Replay]:
            with self.session_factory() as session:
                wanted = codes if codes is not None else service.codes_awaiting_replay(session) & known
                taken = service.claim_replays(session, [c for c in wanted if c in known], self.clock.now())
                session.commit()
                return taken

        letters = await asyncio.to_thread(claim)
        if not letters:
            return 0
        n = ingestor.replay(letters)
        log.info(
            "replayed %d dead letters of %d newly known elevators: %d accepted",
            len(letters),
            len(codes or []),
            n,
        )
        return n

    async def _probe_lag(self, stream: str) -> None:
        """Backpressure: while the slowest detector partition is more than ``ingest_shed_backlog`` terminal
        messages behind, ingestion sheds QoS 0 traffic, so that what the rolling stream holds while the
        detector catches up is mostly what matters (events) and nothing grows without bound. (The archive
        does not count: a stopped archive must not silence the city's status.)"""
        while not self._stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=2)
            with contextlib.suppress(Exception):  # NATS down: the flushes fail and say so; keep the verdict
                await self.check_lag(stream)

    async def check_lag(self, stream: str) -> None:
        """One look at the slowest detector partition: shedding on while it is more than
        ``ingest_shed_backlog`` terminal messages behind (the stream's batches behind, by the mean batch)."""
        assert self.bus is not None and self.ingestor is not None
        limit = self.settings.ingest_shed_backlog
        # what waits to be delivered, not what a detector holds until its next checkpoint
        batches = await self.bus.backlog(stream, "detector-", waiting_only=True)
        behind = self.ingestor.stats.messages_behind(batches)
        lagging = behind > limit
        if lagging != self.ingestor.lagging:
            log.warning(
                "stream %s: slowest detector partition about %d messages (%d batches) behind (limit %d): %s",
                stream,
                behind,
                batches,
                limit,
                "shedding QoS 0 status" if lagging else "taking everything again",
            )
        self.ingestor.lagging = lagging
        self.metrics.backlog.set(batches)

    def _codes(self) -> set[str]:
        with self.session_factory() as session:
            return registry.registration_codes(session)

    def _view(self) -> dict[str, tuple[float | None, bool]]:
        with self.session_factory() as session:
            return registry.detector_view(session)

    def _store_dead(self, letters: list[service.DeadLetterRecord]) -> None:
        with self.session_factory() as session:
            service.store_dead_letters(session, letters)
            session.commit()

    async def _announce(self, changes: list[FaultChange], _fresh: list[FaultChange]) -> None:
        """After the faults are committed: every change onto the durable FAULTS stream, deduplicated by
        fault_id and transition (a replay re-sends what a crash may have kept from being sent)."""
        assert self.bus is not None
        topo = records.Topology(self.settings.stream_namespace)
        for c in changes:
            payload = records.encode_fault(records.FaultRecord.of(c))
            transition = "raised" if c.raised else "cleared"
            stored = await self.bus.publish(
                topo.faults_subject(c.fault_type.value),
                payload,
                msg_id=f"{c.fault_id}:{transition}:{c.severity.value}",
            )
            if stored.duplicate:
                self.metrics.stream_duplicates.labels("faults").inc()
