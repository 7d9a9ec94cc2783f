"""Wiring of the telemetry pipeline, the same in every deployment:

    MQTT (shared subscription) ─┐
    HTTP /api/v1/telemetry ─────┼─▶ Ingestor ─▶ bus stream TELEMETRY (partitioned) ─▶ PartitionWorker × P
    simulator (demo) ───────────┘        │                                   └──────▶ ArchiveWriter
                                         └─▶ dead letters (database)

Embedded (``make demo``): everything in the web process on the in-process bus. Production: the web
processes and ``liftwatch ingest --role ingest`` processes publish to NATS JetStream, ``--role detect``
processes own partitions, one ``--role archive`` process writes Parquet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import Bus, make_bus
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, archive_dir
from liftwatch.core.metrics import Metrics
from liftwatch.registry import service as registry
from liftwatch.telemetry import records, service
from liftwatch.telemetry.archive import ArchiveWriter
from liftwatch.telemetry.faults import DetectorSettings, FaultChange
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.mqtt import MqttIngest
from liftwatch.telemetry.natsraw import NatsRawIngest
from liftwatch.telemetry.worker import LiveBoard, PartitionWorker

log = logging.getLogger(__name__)

ROLES = frozenset({"ingest", "detect", "archive", "rescue"})


@dataclass
class Pipeline:
    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    roles: frozenset[str] = ROLES
    partitions: list[int] | None = None  # which partitions this process detects; default all
    bus: Bus | None = None
    metrics: Metrics = field(default_factory=Metrics)
    detector_settings: DetectorSettings = field(default_factory=DetectorSettings)
    ingestor: Ingestor | None = None
    workers: list[PartitionWorker] = field(default_factory=list)
    archive: ArchiveWriter | None = None
    mqtt: MqttIngest | None = None
    nats_raw: NatsRawIngest | None = None
    rescue: Any = None  # liftwatch.rescue.intake.RescueWorker (imported lazily: rescue builds on telemetry)
    live: LiveBoard = field(default_factory=LiveBoard)
    adapters: bool = True  # the MQTT and NATS ingestion adapters; a web process ingests HTTP only
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        unknown = set(self.roles) - ROLES
        if unknown:
            raise ValueError(f"unknown pipeline roles: {', '.join(sorted(unknown))}")
        if self.bus is None:
            self.bus = make_bus(self.settings.bus_url)
            await self.bus.connect()
        topo = records.Topology(self.settings.stream_namespace)
        await self.bus.ensure_stream(topo.stream, [topo.all_subjects])
        await self.bus.ensure_stream(topo.faults_stream, [topo.faults_subjects], max_age_s=7 * 86_400)
        nparts = self.settings.partitions
        if "ingest" in self.roles:
            codes = await asyncio.to_thread(self._codes)
            self.ingestor = Ingestor(
                self.bus,
                nparts,
                KnownElevators(codes),
                self.metrics,
                dead_letter_sink=self._store_dead,
                topology=topo,
            )
            self._spawn(self.ingestor.run(stop=self._stop))
            self._spawn(self._refresh_known())
            if self.settings.bus_url and self.adapters:
                # terminals that speak NATS: their raw stream is consumed here (durable on JetStream)
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
                )
                await self.mqtt.start()
        if "detect" in self.roles:
            rated = await asyncio.to_thread(self._rated)
            for p in self.partitions if self.partitions is not None else range(nparts):
                worker = PartitionWorker(
                    p,
                    self.bus,
                    self.session_factory,
                    self.clock,
                    self.detector_settings,
                    rated,
                    self.metrics,
                    self.live,
                    checkpoint_s=self.settings.checkpoint_seconds,
                    on_faults=self._announce,
                    topology=topo,
                )
                await worker.start()
                self.workers.append(worker)
                self._spawn(worker.run(self._stop))
        if "rescue" in self.roles:
            from liftwatch.rescue.intake import RescueWorker
            from liftwatch.rescue.notify import FanOut, LogNotifier, WebhookNotifier
            from liftwatch.rescue.service import RescueSettings

            rescue_settings = RescueSettings()
            sinks: list[Any] = [LogNotifier()]
            if rescue_settings.webhook_url:
                sinks.append(WebhookNotifier(rescue_settings.webhook_url))
            self.rescue = RescueWorker(
                self.bus, self.session_factory, self.clock, FanOut(*sinks), topo, rescue_settings
            )
            await self.rescue.start()
            self._spawn(self.rescue.run(self._stop))
        if "archive" in self.roles and self.settings.archive:
            self.archive = ArchiveWriter(self.bus, archive_dir(self.settings), topology=topo)
            await self.archive.start()
            self._spawn(self.archive.run(self._stop))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` alongside the pipeline; it should end when ``stopping`` is set."""
        self._spawn(coro)

    @property
    def stopping(self) -> asyncio.Event:
        return self._stop

    async def stop(self) -> None:
        """Flush, checkpoint and close: what was accepted is on the stream, what was detected is stored."""
        self._stop.set()
        if self.mqtt is not None:
            await self.mqtt.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        if self.bus is not None:
            await self.bus.close()

    async def kill(self) -> None:
        """Stop at once without flushing or checkpointing (tests simulate a crash with this)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.mqtt is not None:
            self.mqtt.abort()

    # ------------------------------------------------------------------ helpers

    def _codes(self) -> set[str]:
        with self.session_factory() as session:
            return registry.registration_codes(session)

    def _rated(self) -> dict[str, float]:
        with self.session_factory() as session:
            return registry.rated_speeds(session)

    async def _refresh_known(self) -> None:
        """Reload the registry's codes every minute, or within seconds after an unknown code was seen
        (a newly registered elevator starts reporting)."""
        last = asyncio.get_running_loop().time()
        while not self._stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=2)
            if self.ingestor is None or self._stop.is_set():
                continue
            known = self.ingestor.known
            now = asyncio.get_running_loop().time()
            if now - last >= 60 or (known.missed and now - last >= 5):
                known.codes = await asyncio.to_thread(self._codes)
                known.missed = False
                last = now

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
            payload = msgspec.json.encode(fault_payload(c))
            transition = "raised" if c.raised else "cleared"
            await self.bus.publish(
                topo.faults_subject(c.fault_type.value),
                payload,
                msg_id=f"{c.fault_id}:{transition}:{c.severity.value}",
            )


def fault_payload(c: FaultChange) -> dict[str, Any]:
    return {
        "fault_id": c.fault_id,
        "registration_code": c.registration_code,
        "fault_type": c.fault_type.value,
        "raised": c.raised,
        "severity": c.severity.value,
        "at_ms": c.at_ms,
        "started_ms": c.started_ms,
        "evidence": list(c.evidence),
    }
