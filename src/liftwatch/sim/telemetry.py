"""The telemetry simulator: a fleet's terminals, ride by ride, with injected faults and their ground truth.

``TelemetrySimulator`` is pure and seeded: the same fleet, seed and start give the same messages and the
same truth. It yields ``(deliver_ms, registration_code, message)`` in delivery order, with the network's
noise applied (latency, duplicates, neighbouring messages reordered, lost messages while a terminal is
offline), so the fault detector is tested against what the platform really receives. Each device is a
process of ``liftwatch.sim.rides``; the simulator merges them window by window.

The sinks publish encoded messages to the platform's ingestion adapters (MQTT, HTTP, NATS); ``publish``
paces a stream to a rate in real time for the ``liftwatch simulate`` command, never sending a message before
the wall clock reaches its delivery time (so timestamps are never ahead of the platform's clock).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import math
import random
import time
import urllib.parse
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from liftwatch.core.bus import subject_name
from liftwatch.registry.domain import ElevatorKind, PlaceType
from liftwatch.sim import codes
from liftwatch.sim.catalogue import CATEGORY
from liftwatch.sim.rides import (
    HOUR,
    LOCAL_OFFSET_MS,
    SECOND,
    Device,
    FaultRates,
    FleetElevator,
    Hold,
    SimContext,
    TruthRecord,
    make_device,
)
from liftwatch.telemetry.faults import DetectorSettings
from liftwatch.telemetry.protocol import TOPIC_PREFIX, Event, Heartbeat, Message, ServiceMode, encode

__all__ = [
    "MAX_TRAFFIC",
    "Calibration",
    "Delivery",
    "FaultRates",
    "FleetElevator",
    "HttpSink",
    "ListSink",
    "MqttSink",
    "NatsSink",
    "ProgressFn",
    "PublishReport",
    "Sink",
    "TelemetrySimulator",
    "TruthRecord",
    "calibrate",
    "fleet_from_database",
    "kind_of",
    "publish",
    "synthetic_fleet",
    "write_truth",
]

Delivery = tuple[int, str, Message]
#: Messages are merged in windows of this length; a delivery delay longer than that is carried over.
WINDOW_MS = 5 * SECOND
LATENCY_MS = (20, 120)  # loopback to 4G: every message takes this long
REORDER_DELAY_MS = (150, 500)  # a delayed message is overtaken by its successors
DUPLICATE_DELAY_MS = (100, 2_000)  # QoS 1 redelivery, gateway retry


class TelemetrySimulator:
    """Seeded terminals of a fleet; ``messages(until_ms)`` continues where the previous call stopped.

    ``truth`` grows as the simulation advances: records of faults still going on have ``end_ms`` None.
    ``settings`` are the detector's thresholds: the simulator keeps injected conditions well clear of
    them (chatter shorter than the confirmation window, faults far longer than their hold times).
    ``traffic`` multiplies the hall-call rates (load tests).
    """

    def __init__(
        self,
        fleet: Sequence[FleetElevator],
        seed: int = 1,
        start_ms: int | None = None,
        fault_rates: FaultRates | None = None,
        settings: DetectorSettings | None = None,
        traffic: float = 1.0,
        network_noise: bool = True,
        tz: tzinfo | None = None,
    ) -> None:
        self.fleet = list(fleet)
        self.seed = seed
        self.start_ms = int(time.time() * 1000) if start_ms is None else start_ms
        self.rates = fault_rates or FaultRates()
        self.settings = settings if settings is not None else DetectorSettings()
        self.truth: list[TruthRecord] = []
        # the city's clock (Settings.timezone): its offset when the run starts
        offset = LOCAL_OFFSET_MS
        if tz is not None:
            utc_offset = datetime.fromtimestamp(self.start_ms / 1000, tz).utcoffset()
            offset = int(utc_offset.total_seconds() * 1000) if utc_offset is not None else 0
        ctx = SimContext(self.settings, self.rates, self.truth, traffic, offset)
        self.devices: list[Device] = [
            make_device(spec, random.Random(f"{seed}:{spec.registration_code}"), self.start_ms, ctx)
            for spec in self.fleet
        ]
        self._index = {spec.registration_code: i for i, spec in enumerate(self.fleet)}
        self._net = [random.Random(f"{seed}:net:{spec.registration_code}") for spec in self.fleet]
        self._gens = [d.process() for d in self.devices]
        self._pending: list[tuple[int, Message] | None] = [None] * len(self.devices)
        self._carry: list[Delivery] = []
        self._now = self.start_ms
        self.network_noise = network_noise
        self.generated = 0  # messages produced by the terminals (delivered or not)

    @property
    def now_ms(self) -> int:
        """Everything delivered before this time has been yielded."""
        return self._now

    @property
    def rated_speeds(self) -> dict[str, float]:
        """Rated speed by registration code, as the registry knows it (for the detector)."""
        return {spec.registration_code: spec.speed for spec in self.fleet}

    def hold_mode(self, registration_code: str, mode: ServiceMode, start_ms: int, end_ms: int) -> bool:
        """A worker on site: from ``start_ms`` to ``end_ms`` the terminal reports ``mode`` (inspection 检修,
        out of service) and the elevator makes no rides. Add it a minute ahead of its start to be exact
        (``rides.Device.add_hold``). False: no terminal of this fleet has that code."""
        return self._hold(registration_code, Hold(start_ms, end_ms, mode))

    def silence(self, registration_code: str, start_ms: int, end_ms: int) -> bool:
        """The terminal unplugged from ``start_ms`` to ``end_ms``: nothing delivered, then a full status."""
        return self._hold(registration_code, Hold(start_ms, end_ms, None))

    def _hold(self, registration_code: str, hold: Hold) -> bool:
        i = self._index.get(registration_code)
        if i is None or hold.end_ms <= hold.start_ms:
            return False
        self.devices[i].add_hold(hold)
        return True

    def messages(self, until_ms: int) -> Iterator[Delivery]:
        """Deliveries up to ``until_ms`` in delivery order (ties keep the terminals' order)."""
        while self._now < until_ms:
            end = min(self._now + WINDOW_MS, until_ms)
            batch = self._carry
            batch.extend(self._generate(end))
            batch.sort(key=itemgetter(0))
            cut = bisect_left(batch, end, key=itemgetter(0))
            self._carry = batch[cut:]
            self._now = end
            yield from batch[:cut]

    def run(self, until_ms: int) -> list[Delivery]:
        return list(self.messages(until_ms))

    def _generate(self, end: int) -> list[Delivery]:
        out: list[Delivery] = []
        append = out.append
        noise = self.network_noise
        p_dup = self.rates.duplicate if noise else 0.0
        p_noise = p_dup + (self.rates.reorder if noise else 0.0)
        lat_lo, lat_span = LATENCY_MS[0], LATENCY_MS[1] - LATENCY_MS[0]
        ro_lo, ro_span = REORDER_DELAY_MS[0], REORDER_DELAY_MS[1] - REORDER_DELAY_MS[0]
        du_lo, du_span = DUPLICATE_DELAY_MS[0], DUPLICATE_DELAY_MS[1] - DUPLICATE_DELAY_MS[0]
        pending = self._pending
        generated = 0
        for i, dev in enumerate(self.devices):
            item = pending[i]
            gen = self._gens[i]
            if item is None:
                item = next(gen)
            t, msg = item
            if t >= end:
                pending[i] = item
                continue
            code = dev.code
            rnd = self._net[i].random
            while t < end:
                generated += 1
                if not dev.mute:
                    if noise:
                        d = t + lat_lo + int(rnd() * lat_span)
                        r = rnd()
                        if r < p_noise:
                            if r < p_dup:
                                append((d + du_lo + int(rnd() * du_span), code, msg))
                            else:
                                d += ro_lo + int(rnd() * ro_span)
                        append((d, code, msg))
                    else:
                        append((t, code, msg))
                t, msg = next(gen)
            pending[i] = (t, msg)
        self.generated += generated
        return out


# ----------------------------------------------------------------------------------------------- fleets

_SYNTH_PLACES: tuple[tuple[str, float, tuple[int, int]], ...] = (
    (PlaceType.RESIDENTIAL.value, 0.58, (6, 33)),
    (PlaceType.OFFICE.value, 0.12, (10, 45)),
    (PlaceType.MALL.value, 0.07, (4, 8)),
    (PlaceType.METRO.value, 0.04, (2, 3)),
    (PlaceType.HOSPITAL.value, 0.05, (5, 20)),
    (PlaceType.SCHOOL.value, 0.04, (4, 8)),
    (PlaceType.HOTEL.value, 0.04, (8, 25)),
    (PlaceType.PUBLIC_BUILDING.value, 0.04, (5, 15)),
    (PlaceType.OTHER.value, 0.02, (3, 10)),
)


def _rated_speed(floors: int) -> float:
    for top, speed in ((7, 1.0), (12, 1.5), (20, 1.75), (30, 2.5), (45, 4.0)):
        if floors <= top:
            return speed
    return 5.0


def synthetic_fleet(n: int, seed: int = 1, escalator_share: float | None = None) -> list[FleetElevator]:
    """``n`` plausible elevators (place types, heights, speeds as in the city generator), codes
    ``11SHZ000001``...; ``escalator_share`` forces that share of escalators (malls and metro stations)."""
    rng = random.Random(f"fleet:{seed}")
    places = [p for p, _, _ in _SYNTH_PLACES]
    weights = [w for _, w, _ in _SYNTH_PLACES]
    heights = {p: h for p, _, h in _SYNTH_PLACES}
    out: list[FleetElevator] = []
    for i in range(1, n + 1):
        if escalator_share is not None and rng.random() < escalator_share:
            place = rng.choice((PlaceType.MALL.value, PlaceType.METRO.value))
            kind = ElevatorKind.ESCALATOR.value
        else:
            place = rng.choices(places, weights)[0]
            r = rng.random()
            if escalator_share is None and place in (PlaceType.MALL.value, PlaceType.METRO.value) and r < 0.6:
                kind = ElevatorKind.ESCALATOR.value if r < 0.55 else ElevatorKind.MOVING_WALK.value
            elif place in (PlaceType.HOSPITAL.value, PlaceType.HOTEL.value) and r < 0.05:
                kind = ElevatorKind.DUMBWAITER.value
            elif r > 0.98:
                kind = ElevatorKind.HYDRAULIC.value
            else:
                kind = ElevatorKind.TRACTION.value
        code = codes.registration_code(CATEGORY[kind], "Z", i)
        if kind in (ElevatorKind.ESCALATOR.value, ElevatorKind.MOVING_WALK.value):
            speed = 0.65 if place == PlaceType.METRO.value and kind == ElevatorKind.ESCALATOR.value else 0.5
            out.append(FleetElevator(code, kind, None, speed, place))
            continue
        lo, hi = heights[place]
        floors = rng.randint(lo, hi)
        if kind in (ElevatorKind.DUMBWAITER.value, ElevatorKind.HYDRAULIC.value):
            floors = min(floors, 5)
            speed = 0.5
        else:
            speed = _rated_speed(floors)
        out.append(FleetElevator(code, kind, floors, speed, place))
    out.sort(key=lambda e: e.registration_code)
    return out


def fleet_from_database(url: str, n: int) -> list[FleetElevator]:
    """The first ``n`` elevators in use with an IoT terminal, by registration code (empty if none)."""
    from sqlalchemy.orm import Session

    from liftwatch.core.db import make_engine
    from liftwatch.registry import queries as registry

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = registry.elevators_with_terminals(session, n)
    finally:
        engine.dispose()
    return [
        FleetElevator(e.registration_code, e.kind, e.floors, e.rated_speed_mps, e.place_type) for e in rows
    ]


def write_truth(path: Path, records: Iterable[TruthRecord]) -> int:
    """Ground truth as JSON lines, ordered by start; returns the number of records."""
    ordered = sorted(records, key=lambda r: (r.start_ms, r.registration_code, r.fault_type.value))
    with path.open("w", encoding="utf-8") as fh:
        for r in ordered:
            fh.write(json.dumps(r.as_json(), ensure_ascii=False, sort_keys=True))
            fh.write("\n")
    return len(ordered)


# ------------------------------------------------------------------------------------------------ sinks


def kind_of(message: Message) -> str:
    """The topic suffix of a message: status, event or heartbeat."""
    if isinstance(message, Event):
        return "event"
    if isinstance(message, Heartbeat):
        return "heartbeat"
    return "status"


class Sink(Protocol):
    def send(self, registration_code: str, kind: str, payload: bytes) -> None: ...

    def close(self) -> None: ...


class ListSink:
    """Keeps what it is sent (tests, dry runs)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes]] = []

    def send(self, registration_code: str, kind: str, payload: bytes) -> None:
        self.sent.append((registration_code, kind, payload))

    def close(self) -> None:
        pass


class MqttSink:
    """Publishes to ``liftwatch/v1/{code}/{kind}`` as terminals do: QoS 0, events QoS 1."""

    def __init__(self, url: str, client_id: str = "") -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urllib.parse.urlsplit(url if "://" in url else f"mqtt://{url}")
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"liftwatch-sim-{random.getrandbits(32):08x}",
        )
        if parts.username:
            self._client.username_pw_set(parts.username, parts.password)
        if parts.scheme in ("mqtts", "ssl"):
            self._client.tls_set()
        self._client.max_inflight_messages_set(1000)
        default_port = 8883 if parts.scheme in ("mqtts", "ssl") else 1883
        self._client.connect(parts.hostname or "127.0.0.1", parts.port or default_port, keepalive=30)
        self._client.loop_start()
        self._last: Any = None
        self._last_qos1: Any = None

    def send(self, registration_code: str, kind: str, payload: bytes) -> None:
        qos = 1 if kind == "event" else 0
        info = self._client.publish(f"{TOPIC_PREFIX}{registration_code}/{kind}", payload, qos=qos)
        self._last = info
        if qos:
            self._last_qos1 = info

    def close(self, timeout_s: float = 30.0) -> None:
        """Wait until everything queued has been written (and events acknowledged), then disconnect."""
        for info in (self._last, self._last_qos1):
            if info is not None:
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()


class HttpSink:
    """POSTs JSON arrays of up to ``batch`` gateway messages (with ``registration_code`` and ``type``)."""

    def __init__(self, url: str, token: str = "", batch: int = 500, timeout_s: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self._conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif parts.username:
            raw = f"{parts.username}:{parts.password or ''}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        self._batch = batch
        self._items: list[bytes] = []
        self.responses: dict[int, int] = {}  # HTTP status -> count of requests

    def send(self, registration_code: str, kind: str, payload: bytes) -> None:
        # the encoded message is a JSON object with its "type": splice the registration code in front
        self._items.append(b'{"registration_code":"' + registration_code.encode() + b'",' + payload[1:])
        if len(self._items) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if not self._items:
            return
        body = b"[" + b",".join(self._items) + b"]"
        self._items = []
        self._conn.request("POST", self._path, body=body, headers=self._headers)
        response = self._conn.getresponse()
        response.read()
        self.responses[response.status] = self.responses.get(response.status, 0) + 1
        if response.status >= 400 and response.status not in (413, 422, 429):
            raise RuntimeError(f"POST {self._path}: HTTP {response.status}")

    def close(self) -> None:
        self.flush()
        self._conn.close()


class NatsSink:
    """Publishes each payload to ``liftwatch.raw.{code}.{kind}`` (core NATS; JetStream captures it)."""

    def __init__(self, url: str, batch: int = 1000, namespace: str = "") -> None:
        import nats

        self._loop = asyncio.new_event_loop()
        errors: list[BaseException] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        self._errors = errors
        self._nc = self._loop.run_until_complete(
            nats.connect(url, max_reconnect_attempts=3, connect_timeout=5, error_cb=on_error)
        )
        self._batch = batch
        self._prefix = subject_name(namespace, "liftwatch.raw.")
        self._items: list[tuple[str, bytes]] = []

    def send(self, registration_code: str, kind: str, payload: bytes) -> None:
        self._items.append((f"{self._prefix}{registration_code}.{kind}", payload))
        if len(self._items) >= self._batch:
            self.flush()

    def flush(self) -> None:
        items, self._items = self._items, []
        if not items:
            return

        async def go() -> None:
            for subject, payload in items:
                await self._nc.publish(subject, payload)

        self._loop.run_until_complete(go())

    def close(self) -> None:
        self.flush()
        self._loop.run_until_complete(self._nc.drain())
        self._loop.close()


# ------------------------------------------------------------------------------------------- publishing

#: the most a fleet's hall-call rates are multiplied to reach a ``--rate`` (busier than any real rush hour)
MAX_TRAFFIC = 60.0
PROBE_MS = 120_000


@dataclass(frozen=True)
class Calibration:
    """How a fleet reaches a message rate in real time: ``traffic`` times real life's hall calls gives about
    ``reachable`` messages/s (``natural`` at real traffic). Rides take time, so messages grow slower than
    traffic: the estimate is measured, not extrapolated."""

    natural: float
    traffic: float
    reachable: float


def calibrate(
    fleet: Sequence[FleetElevator],
    rate: float,
    seed: int,
    start_ms: int,
    rates: FaultRates,
    settings: DetectorSettings,
    tz: tzinfo | None = None,
    steps: int = 3,
) -> Calibration:
    """The traffic at which ``fleet`` sends about ``rate`` messages/s, by probing two simulated minutes at a
    guess and correcting it (up to ``steps`` probes, traffic within 1..``MAX_TRAFFIC``)."""

    def probe(traffic: float) -> float:
        sim = TelemetrySimulator(fleet, seed, start_ms, rates, settings, traffic=traffic, tz=tz)
        return max(1.0, len(sim.run(start_ms + PROBE_MS)) * 1000 / PROBE_MS)

    natural = probe(1.0)
    traffic, reachable = 1.0, natural
    for _ in range(steps):
        if reachable >= rate * 0.9 or traffic >= MAX_TRAFFIC:
            break
        traffic = min(MAX_TRAFFIC, max(traffic * 1.5, traffic * rate / reachable))
        reachable = probe(traffic)
    return Calibration(natural, traffic, reachable)


@dataclass
class PublishReport:
    """What a run of ``publish`` did; also what its progress callback is shown while it runs."""

    sent: int = 0
    seconds: float = 0.0
    sim_start_ms: int = 0
    sim_end_ms: int = 0  # delivery time of the last message sent
    truth: int = 0  # faults injected so far
    lag_ms: int = 0  # wall clock less the last message's delivery time when it was sent (>= 0)
    interrupted: bool = False  # stopped by Ctrl-C (an open-ended run ends so)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


ProgressFn = Callable[[PublishReport], None]


def publish(
    sim: TelemetrySimulator,
    sink: Sink | None,
    rate: float,
    duration_s: float,
    batch: int = 500,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    wall: Callable[[], float] = time.time,
    progress: ProgressFn | None = None,
    progress_every_s: float = 0.5,
) -> PublishReport:
    """Send the simulator's stream to ``sink`` at up to ``rate`` messages/s (token bucket, at least a few
    messages per send burst) for ``duration_s`` seconds of wall time, or until Ctrl-C when it is 0.

    Wall-clock true: a message goes out only once the wall clock has reached its delivery time, and its
    ``ts`` and ``sent_ts`` are never later than that, so no terminal's clock looks ahead of the platform's
    (which would be a false ``clock_skew`` past ``clock_skew_ms``). A higher rate comes from more traffic
    (``TelemetrySimulator(traffic=...)``) or more elevators, never from running the simulated clock ahead.
    When the sink or ``rate`` cannot keep up, messages go out late (``lag_ms``): latency, not skew.
    ``progress`` is called with the report so far every ``progress_every_s``; ``sink`` None only
    generates (a dry run)."""
    report = PublishReport(sim_start_ms=sim.now_ms, sim_end_ms=sim.now_ms)
    started = clock()
    deadline = started + duration_s if duration_s > 0 else math.inf
    burst = min(batch, rate * 0.01 + 1)
    cap = max(batch, rate * 0.2)
    tokens = 0.0
    last = started
    next_progress = started + progress_every_s
    stream = _endless(sim)
    head = next(stream)
    try:
        while True:
            now = clock()
            if now >= deadline:
                break
            if progress is not None and now >= next_progress:
                report.seconds = now - started
                report.truth = len(sim.truth)
                progress(report)
                next_progress = now + progress_every_s
            tokens = min(tokens + (now - last) * rate, cap)
            last = now
            wall_ms = int(wall() * 1000)
            if head[0] > wall_ms:  # the next message is not due yet: wait for the wall clock
                sleep(min(0.05, (head[0] - wall_ms) / 1000, deadline - now))
                continue
            if tokens < burst:
                sleep(min(0.005, deadline - now))
                continue
            n = int(tokens)
            sent = 0
            while sent < n and head[0] <= wall_ms:
                deliver_ms, code, msg = head
                if sink is not None:
                    sink.send(code, kind_of(msg), encode(msg))
                sent += 1
                report.sim_end_ms = deliver_ms
                head = next(stream)
            tokens -= sent
            report.sent += sent
            report.lag_ms = wall_ms - report.sim_end_ms
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if sink is not None:
            sink.close()
    report.seconds = clock() - started
    report.truth = len(sim.truth)
    return report


def _endless(sim: TelemetrySimulator) -> Iterator[Delivery]:
    while True:
        yield from sim.messages(sim.now_ms + HOUR)
