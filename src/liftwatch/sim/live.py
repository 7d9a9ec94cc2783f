"""The demo's living city: the telemetry simulator run in real time inside the web process, its messages
handed to ingestion exactly as MQTT messages would be (validated, batched, detected, stored).

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
from liftwatch.telemetry.protocol import TOPIC_PREFIX, encode

log = logging.getLogger(__name__)


class TerminalInbox(Protocol):
    """What the live city needs of ingestion: take one terminal message as it came off MQTT. The wiring
    passes telemetry's ingestor (the simulator does not depend on ingestion's internals)."""

    def accept_mqtt(self, topic: str, payload: bytes, received_ms: int, source: str = ...) -> bool: ...


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
) -> None:
    """Every ``step_s``, deliver what the city's terminals sent since the last step."""
    fleet = await asyncio.to_thread(fleet_from_database, database_url, elevators)
    if not fleet:
        log.warning("live city: no elevator in use with an IoT terminal; nothing to simulate")
        return
    start_ms = time.time_ns() // 1_000_000
    sim = TelemetrySimulator(
        fleet,
        seed=seed,
        start_ms=start_ms,
        fault_rates=FaultRates().scaled(fault_scale),
        settings=detector_settings,
        tz=tz,
    )
    log.info("live city: %d terminals reporting (fault rates x%g)", len(fleet), fault_scale)
    while not stop.is_set():
        now_ms = time.time_ns() // 1_000_000
        for deliver_ms, code, msg in sim.messages(now_ms):
            inbox.accept_mqtt(f"{TOPIC_PREFIX}{code}/{kind_of(msg)}", encode(msg), deliver_ms, source="sim")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=step_s)
