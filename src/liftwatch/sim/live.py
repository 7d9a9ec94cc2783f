"""The demo's living city: the telemetry simulator run in real time inside the web process, its messages
handed to ingestion exactly as MQTT messages would be (validated, batched, detected, stored). The live
maintenance crews (sim/live_maintenance.py) hold terminals in inspection mode through ``TerminalHooks``.

Wall-clock true, as ``liftwatch simulate`` is: each step hands over only what was delivered by now, received
at its delivery time, so no ``ts`` is ahead of the platform's clock (no false ``clock_skew``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import tzinfo
from typing import Protocol

from liftwatch.sim.rides import FaultRates
from liftwatch.sim.telemetry import TelemetrySimulator, fleet_from_database, kind_of
from liftwatch.telemetry.faults import DetectorSettings
from liftwatch.telemetry.protocol import TOPIC_PREFIX, ServiceMode, encode

log = logging.getLogger(__name__)


class TerminalInbox(Protocol):
    """What the live city needs of ingestion: take one terminal message as it came off MQTT. The wiring
    passes telemetry's ingestor (the simulator does not depend on ingestion's internals)."""

    def accept_mqtt(self, topic: str, payload: bytes, received_ms: int, source: str = ...) -> bool: ...


class TerminalHooks:
    """How others (the live maintenance crews) reach the live city's terminals: hold one in a service mode
    or silence it over a span (``TelemetrySimulator.hold_mode`` / ``silence``). What is asked before the
    city's simulator runs is kept and handed over when it starts."""

    def __init__(self) -> None:
        self.sim: TelemetrySimulator | None = None
        self._waiting: list[tuple[str, ServiceMode | None, int, int]] = []

    def attach(self, sim: TelemetrySimulator) -> None:
        self.sim = sim
        for code, mode, start_ms, end_ms in self._waiting:
            self._apply(code, mode, start_ms, end_ms)
        self._waiting.clear()

    def hold_mode(self, registration_code: str, mode: ServiceMode, start_ms: int, end_ms: int) -> bool:
        """False: the city has no terminal with this code (or has not started: then kept for it)."""
        return self._apply(registration_code, mode, start_ms, end_ms)

    def silence(self, registration_code: str, start_ms: int, end_ms: int) -> bool:
        return self._apply(registration_code, None, start_ms, end_ms)

    def _apply(self, code: str, mode: ServiceMode | None, start_ms: int, end_ms: int) -> bool:
        if self.sim is None:
            if len(self._waiting) < 10_000:  # a city with no terminal never starts: keep a bounded few
                self._waiting.append((code, mode, start_ms, end_ms))
            return False
        if mode is None:
            return self.sim.silence(code, start_ms, end_ms)
        return self.sim.hold_mode(code, mode, start_ms, end_ms)


async def run_live_city(
    inbox: TerminalInbox,
    database_url: str,
    stop: asyncio.Event,
    detector_settings: DetectorSettings,
    elevators: int = 100_000,
    fault_scale: float = 50.0,
    seed: int = 1,
    step_s: float = 1.0,
    tz: tzinfo | None = None,
    hooks: TerminalHooks | None = None,
) -> None:
    """Every ``step_s``, deliver what the city's terminals sent since the last step; ``hooks`` lets the
    live crews hold terminals in inspection mode while they work."""
    fleet = await asyncio.to_thread(fleet_from_database, database_url, elevators)
    if not fleet:
        log.warning("live city: no elevator in use with an IoT terminal; nothing to simulate")
        return
    start_ms = time.time_ns() // 1_000_000
    sim = TelemetrySimulator(
        fleet,
        # a restarted demo's terminals are new boots: other message ids, counting from 0 again (the same
        # ids and a count thousands behind the last run's would be dropped as duplicates and stale, and
        # every terminal would stay offline)
        seed=seed * 1_000_003 + start_ms // 1000,
        start_ms=start_ms,
        fault_rates=FaultRates().scaled(fault_scale),
        settings=detector_settings,
        tz=tz,
    )
    for device in sim.devices:
        device.seq = 0
    if hooks is not None:
        hooks.attach(sim)
    log.info("live city: %d terminals reporting (fault rates x%g)", len(fleet), fault_scale)
    while not stop.is_set():
        now_ms = time.time_ns() // 1_000_000
        for deliver_ms, code, msg in sim.messages(now_ms):
            inbox.accept_mqtt(f"{TOPIC_PREFIX}{code}/{kind_of(msg)}", encode(msg), deliver_ms, source="sim")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=step_s)
