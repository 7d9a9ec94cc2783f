"""Ride by ride: one lift or escalator as a process that yields its terminal's messages in time order.

A lift answers hall calls that arrive by a Poisson process whose hourly rate follows the place type's day
(residential morning and evening peaks, office lunch peak...); the car runs at rated speed between floors,
stops in the door zone, opens, dwells and closes its door. Injected faults are scenarios that start from an
idle car and return to one; each records its ground truth (``TruthRecord``) with start and end defined as
the fault rules of ``liftwatch.telemetry.faults`` define them (DOMAIN.md §3): the moment the condition
began on the terminal and the moment it stopped. Noise (chatter shorter than the confirmation window,
short silences, passengers standing in a closed car for less than the hold time) records no truth.

Times are platform (true) milliseconds; a terminal's ``ts`` is that plus its clock offset.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace

from liftwatch.registry.domain import ElevatorKind, PlaceType
from liftwatch.telemetry.faults import DetectorSettings, FaultType
from liftwatch.telemetry.protocol import (
    Direction,
    DoorCommand,
    Event,
    EventCode,
    Heartbeat,
    Message,
    ServiceMode,
    Status,
)

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: The city runs on China Standard Time; traffic peaks are local hours.
LOCAL_OFFSET_MS = 8 * HOUR  # Asia/Shanghai, the default city time zone (no daylight saving)
NEVER = 2**62

Timed = tuple[int, Message]
Operate = Callable[[int], Iterator[Timed]]

# Hall calls per lift per hour, by local hour 0..23 (escalators: passenger groups per hour / 4).
_RESIDENTIAL = (1, 0.5, 0.3, 0.3, 0.5, 2, 8, 30, 32, 12, 8, 8, 12, 8, 8, 8, 10, 28, 30, 26, 18, 10, 5, 3)
_OFFICE = (0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 1, 15, 60, 30, 20, 20, 45, 35, 20, 20, 20, 50, 25, 10, 4, 3, 2, 1)
_MALL = (0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 5, 15, 20, 25, 25, 35, 35, 35, 35, 40, 40, 40, 25, 5, 1)
_METRO = (0.2, 0, 0, 0, 0, 3, 10, 25, 28, 12, 8, 8, 8, 8, 8, 8, 10, 25, 28, 12, 6, 6, 5, 2)
_HOSPITAL = (3, 3, 2, 2, 2, 3, 6, 15, 35, 35, 35, 35, 20, 30, 30, 30, 30, 15, 8, 8, 8, 8, 4, 4)
_SCHOOL = (0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1, 20, 15, 15, 15, 15, 25, 15, 15, 15, 20, 10, 2, 1, 1, 1, 0.5, 0.2)
_HOTEL = (3, 2, 1, 1, 1, 2, 8, 20, 20, 20, 15, 15, 8, 8, 8, 8, 8, 12, 12, 15, 15, 15, 15, 8)
_PUBLIC = (
    0.3,
    0.2,
    0.2,
    0.2,
    0.2,
    0.2,
    0.5,
    5,
    20,
    25,
    25,
    25,
    15,
    20,
    20,
    20,
    20,
    15,
    3,
    1,
    1,
    0.5,
    0.3,
    0.3,
)
_OTHER = (1, 0.5, 0.5, 0.5, 0.5, 1, 2, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 6, 5, 4, 3, 2, 1)

TRAFFIC: dict[str, tuple[float, ...]] = {
    PlaceType.RESIDENTIAL.value: _RESIDENTIAL,
    PlaceType.OFFICE.value: _OFFICE,
    PlaceType.MALL.value: _MALL,
    PlaceType.METRO.value: _METRO,
    PlaceType.HOSPITAL.value: _HOSPITAL,
    PlaceType.SCHOOL.value: _SCHOOL,
    PlaceType.HOTEL.value: _HOTEL,
    PlaceType.PUBLIC_BUILDING.value: _PUBLIC,
    PlaceType.OTHER.value: _OTHER,
}
#: Escalator opening hours (local, [open, close)); outside them the escalator is out of service.
OPENING: dict[str, tuple[int, int]] = {
    PlaceType.MALL.value: (10, 22),
    PlaceType.METRO.value: (5, 23),
    PlaceType.HOSPITAL.value: (7, 21),
    PlaceType.OFFICE.value: (7, 21),
    PlaceType.PUBLIC_BUILDING.value: (8, 20),
}
_STOREY_M = {PlaceType.OFFICE.value: 4.0, PlaceType.MALL.value: 5.0, PlaceType.METRO.value: 5.0}

LIFT_FAULTS = (
    FaultType.SAFETY_CIRCUIT,
    FaultType.DOOR_CLOSE_FAILURE,
    FaultType.DOOR_OPEN_FAILURE,
    FaultType.STOPPED_OUTSIDE_DOOR_ZONE,
    FaultType.UNINTENDED_MOVEMENT,
    FaultType.MOTOR_RUNTIME_LIMITER,
    FaultType.FLOOR_POSITION_LOST,
    FaultType.RESTART_PREVENTED,
    FaultType.OVERRUN_TOP,
    FaultType.OVERRUN_BOTTOM,
    FaultType.ENTRAPMENT,
    FaultType.OVERSPEED,
    FaultType.POWER_CUT,
    FaultType.ALARM_BUTTON,
)
ESCALATOR_FAULTS = (
    FaultType.ESC_SAFETY_CIRCUIT,
    FaultType.ESC_OVERSPEED,
    FaultType.ESC_UNINTENDED_REVERSAL,
    FaultType.ESC_MISSING_STEP,
    FaultType.ESC_RESTART_PREVENTED,
)
ANY_FAULTS = (FaultType.TERMINAL_OFFLINE, FaultType.CLOCK_SKEW)
#: Controller events and the fault each reports.
EVENT_OF: dict[FaultType, EventCode] = {
    FaultType.MOTOR_RUNTIME_LIMITER: EventCode.MOTOR_RUNTIME_LIMITER,
    FaultType.FLOOR_POSITION_LOST: EventCode.FLOOR_POSITION_LOST,
    FaultType.RESTART_PREVENTED: EventCode.RESTART_PREVENTED,
    FaultType.ESC_SAFETY_CIRCUIT: EventCode.ESC_SAFETY_CIRCUIT,
    FaultType.ESC_OVERSPEED: EventCode.ESC_OVERSPEED,
    FaultType.ESC_UNINTENDED_REVERSAL: EventCode.ESC_UNINTENDED_REVERSAL,
    FaultType.ESC_MISSING_STEP: EventCode.ESC_MISSING_STEP,
    FaultType.ESC_RESTART_PREVENTED: EventCode.ESC_RESTART_PREVENTED,
}
#: Overspeed scenarios run at least this long above the warning ratio (the 5 s confirmation window + margin).
OVERSPEED_MIN_MS = 10 * SECOND
_NOISE_KINDS = ("zone_flicker", "power_blip", "short_outage", "escalator_stop")


@dataclass(frozen=True, slots=True)
class FleetElevator:
    """What the simulator needs to know of one registered elevator."""

    registration_code: str
    kind: str = ElevatorKind.TRACTION.value
    floors: int | None = None
    rated_speed: float | None = None
    place_type: str = PlaceType.RESIDENTIAL.value

    @property
    def is_lift(self) -> bool:
        return self.kind not in (ElevatorKind.ESCALATOR.value, ElevatorKind.MOVING_WALK.value)

    @property
    def speed(self) -> float:
        return self.rated_speed or (1.0 if self.is_lift else 0.5)


@dataclass(frozen=True, slots=True)
class Hold:
    """A stretch of true time when the terminal does not report normal service: a maintenance worker on
    site switched the elevator to ``mode`` (inspection 检修, or out of service), or, ``mode`` None, the
    terminal was unplugged (silent; the elevator runs on unobserved)."""

    start_ms: int
    end_ms: int
    mode: ServiceMode | None = None


@dataclass(slots=True)
class TruthRecord:
    """One fault as the rules define it: when its condition began and ended on the terminal (true time).

    ``cause`` is the injected scenario that produced it (an entrapment caused by a power cut has
    fault_type entrapment and cause power_cut); ``end_ms`` is None while it still lasts.
    """

    registration_code: str
    fault_type: FaultType
    start_ms: int
    end_ms: int | None
    cause: FaultType
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "registration_code": self.registration_code,
            "fault_type": self.fault_type.value,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "cause": self.cause.value,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class FaultRates:
    """How often each fault scenario and each kind of noise starts, per elevator per day.

    Defaults are near real life (DOMAIN.md §7: 4-6 stoppages per lift-year, 0.11 entrapments per
    lift-year, more misuse alarms); ``scaled`` multiplies the faults for demos, ``stress`` gives every
    fault type the same high rate for the detector's scoring test. Probabilities are per message or call.
    """

    per_day: Mapping[FaultType, float] = field(
        default_factory=lambda: {
            FaultType.SAFETY_CIRCUIT: 0.001,
            FaultType.DOOR_CLOSE_FAILURE: 0.004,
            FaultType.DOOR_OPEN_FAILURE: 0.002,
            FaultType.STOPPED_OUTSIDE_DOOR_ZONE: 0.001,
            FaultType.UNINTENDED_MOVEMENT: 0.0001,
            FaultType.MOTOR_RUNTIME_LIMITER: 0.0005,
            FaultType.FLOOR_POSITION_LOST: 0.001,
            FaultType.RESTART_PREVENTED: 0.0005,
            FaultType.OVERRUN_TOP: 0.0002,
            FaultType.OVERRUN_BOTTOM: 0.0002,
            FaultType.ENTRAPMENT: 0.0003,
            FaultType.OVERSPEED: 0.0002,
            FaultType.POWER_CUT: 0.0008,
            FaultType.ALARM_BUTTON: 0.01,
            FaultType.TERMINAL_OFFLINE: 0.02,
            FaultType.CLOCK_SKEW: 0.001,
            FaultType.ESC_SAFETY_CIRCUIT: 0.002,
            FaultType.ESC_OVERSPEED: 0.0002,
            FaultType.ESC_UNINTENDED_REVERSAL: 0.0001,
            FaultType.ESC_MISSING_STEP: 0.0003,
            FaultType.ESC_RESTART_PREVENTED: 0.001,
        }
    )
    noise_per_day: Mapping[str, float] = field(
        default_factory=lambda: {
            "zone_flicker": 2.0,
            "power_blip": 0.5,
            "short_outage": 1.0,
            "escalator_stop": 0.5,
        }
    )
    loiter: float = 0.03  # per call: a passenger stands in the closed car 5-25 s before choosing a floor
    slow_door: float = 0.02  # per door movement: the door takes 4-9 s (still inside the 15 s timeout)
    duplicate: float = 0.01  # per message: delivered twice (same msg_id)
    reorder: float = 0.01  # per message: delayed 150-500 ms, overtaken by its successors

    def scaled(self, factor: float) -> FaultRates:
        """Faults ``factor`` times as often; noise unchanged."""
        return FaultRates(
            per_day={k: v * factor for k, v in self.per_day.items()},
            noise_per_day=self.noise_per_day,
            loiter=self.loiter,
            slow_door=self.slow_door,
            duplicate=self.duplicate,
            reorder=self.reorder,
        )

    def only(self, kinds: Iterable[FaultType]) -> FaultRates:
        """Only these fault scenarios start (``liftwatch simulate --faults``); noise unchanged. A scenario
        may still raise other faults on its way (an entrapment between floors is also a stop outside the
        door zone, a trapped passenger presses the alarm)."""
        keep = set(kinds)
        return FaultRates(
            per_day={k: v for k, v in self.per_day.items() if k in keep},
            noise_per_day=self.noise_per_day,
            loiter=self.loiter,
            slow_door=self.slow_door,
            duplicate=self.duplicate,
            reorder=self.reorder,
        )

    @classmethod
    def stress(cls, per_hour: float = 0.12, noise_per_hour: float = 0.3) -> FaultRates:
        """Every fault type at ``per_hour`` per elevator (where it applies), noise at ``noise_per_hour``."""
        return cls(
            per_day={t: per_hour * 24 for t in FaultType},
            noise_per_day={k: noise_per_hour * 24 for k in _NOISE_KINDS},
            loiter=0.05,
            slow_door=0.05,
            duplicate=0.02,
            reorder=0.02,
        )

    @classmethod
    def quiet(cls) -> FaultRates:
        """No faults, no noise: normal service only."""
        return cls(per_day={}, noise_per_day={}, loiter=0.0, slow_door=0.0, duplicate=0.0, reorder=0.0)


@dataclass(slots=True)
class SimContext:
    """What every device shares: thresholds, rates, and the truth list they append to."""

    settings: DetectorSettings
    rates: FaultRates
    truth: list[TruthRecord]
    traffic: float = 1.0
    utc_offset_ms: int = LOCAL_OFFSET_MS  # the city clock: rush hours, opening hours


def local_hour(t_ms: int, offset_ms: int = LOCAL_OFFSET_MS) -> int:
    """The hour of the day on the city's clock (``offset_ms``: its offset from UTC)."""
    return ((t_ms + offset_ms) // HOUR) % 24


class Device:
    """A terminal on one elevator: identity, clock, sequence numbers, heartbeats, mute (offline) state."""

    def __init__(self, spec: FleetElevator, rng: random.Random, start_ms: int, ctx: SimContext) -> None:
        self.spec = spec
        self.code = spec.registration_code
        self.rng = rng
        self.ctx = ctx
        self.settings = ctx.settings
        self.hb_ms = ctx.settings.heartbeat_interval_ms
        self.t = start_ms + rng.randrange(0, 5 * SECOND)
        self.base_offset = rng.randint(-500, 500)  # NTP-synced terminals are off by under a second
        self.offset = self.base_offset
        self.seq = rng.randrange(1_000, 1_000_000)
        self.prefix = f"{rng.getrandbits(32):08x}-"
        self.last_sent = self.t
        self.beats = 0
        self.mute = False  # offline: messages are produced (seq advances) but never delivered
        self.holds: list[Hold] = []  # pending maintenance holds, by start (``add_hold``)
        self.profile = TRAFFIC.get(spec.place_type, _OTHER)
        self.rated = spec.speed
        self.cur: Status = Status(
            msg_id="-", seq=0, ts=0, mode=ServiceMode.NORMAL, running=False, door_zone=True, door_closed=True
        )
        rates = ctx.rates
        kinds = self.fault_kinds()
        self.fault_types = [k for k in kinds if rates.per_day.get(k, 0.0) > 0]
        self.fault_cum = _cumulative([rates.per_day[k] for k in self.fault_types])
        noise = [k for k in self.noise_kinds() if rates.noise_per_day.get(k, 0.0) > 0]
        self.noise_types = noise
        self.noise_cum = _cumulative([rates.noise_per_day[k] for k in noise])
        self.next_fault = self._draw(self.t, self.fault_cum)
        self.next_noise = self._draw(self.t, self.noise_cum)

    # -- what applies to this device

    def fault_kinds(self) -> list[FaultType]:
        return list(ANY_FAULTS)

    def noise_kinds(self) -> list[str]:
        return ["short_outage"]

    def _draw(self, t: int, cum: list[float]) -> int:
        total = cum[-1] if cum else 0.0
        if total <= 0:
            return NEVER
        return t + int(self.rng.expovariate(total / DAY))

    # -- messages

    def st(self, **changes: Any) -> Timed:
        """The status after ``changes`` at the current time."""
        self.seq = seq = self.seq + 1
        t = self.t
        self.cur = s = replace(
            self.cur, msg_id=f"{self.prefix}{seq:x}", seq=seq, ts=t + self.offset, **changes
        )
        self.last_sent = t
        return t, s

    def event(self, code: EventCode, active: bool = True, detail: str = "") -> Timed:
        self.seq = seq = self.seq + 1
        t = self.t
        self.last_sent = t
        return t, Event(
            msg_id=f"{self.prefix}{seq:x}",
            seq=seq,
            ts=t + self.offset,
            code=code,
            active=active,
            detail=detail,
        )

    def beat(self) -> Timed:
        """After 30 s of silence: a heartbeat, and every fifth time the full status again."""
        self.beats += 1
        if self.beats % 5 == 0:
            return self.st()
        self.seq = seq = self.seq + 1
        t = self.t
        self.last_sent = t
        return t, Heartbeat(msg_id=f"{self.prefix}{seq:x}", seq=seq, ts=t + self.offset)

    def wait(self, until: int) -> Iterator[Timed]:
        """Advance to ``until``, with heartbeats whenever the terminal has been silent for an interval."""
        hb = self.hb_ms
        while self.last_sent + hb <= until:
            self.t = self.last_sent + hb
            yield self.beat()
        if until > self.t:
            self.t = until

    def ms(self, lo: float, hi: float) -> int:
        return int(lo + (hi - lo) * self.rng.random())

    # -- maintenance holds (the live crews: ``TelemetrySimulator.hold_mode`` / ``silence``)

    def add_hold(self, hold: Hold) -> None:
        """Keep ``hold`` for when the process gets there. Exact when added before the device has produced
        its messages up to ``hold.start_ms`` (a minute ahead is always enough: the simulator looks one
        message ahead); a hold that starts in an episode (a fault, a ride) starts when that ends, and one
        that ended meanwhile is dropped."""
        at = next((i for i, h in enumerate(self.holds) if h.start_ms > hold.start_ms), len(self.holds))
        self.holds.insert(at, hold)

    def held(self) -> bool:
        """A hold is due now."""
        return bool(self.holds) and self.holds[0].start_ms <= self.t

    def idle(self, until: int) -> Iterator[Timed]:
        """``wait(until)``, but stop early where a hold starts (check ``held()`` after it). The same
        messages and draws as ``wait`` while no hold is pending, so a city without crews is unchanged."""
        hb = self.hb_ms
        while True:
            stop = min(until, self.holds[0].start_ms) if self.holds else until
            if self.last_sent + hb <= stop:
                self.t = self.last_sent + hb
                yield self.beat()
                continue
            if stop > self.t:
                self.t = stop
            return

    def hold_state(self, mode: ServiceMode) -> dict[str, Any]:
        """The status fields while held in ``mode`` (the car stands: no rides)."""
        return {"mode": mode, "running": False}

    def resume_state(self) -> dict[str, Any]:
        return {"mode": ServiceMode.NORMAL}

    def run_hold(self, operate: Operate) -> Iterator[Timed]:
        """The due hold: the mode from its start (or now) to its end, then normal service again; or the
        terminal silent over it (the elevator in service, unobserved), reconnecting with a full status. A
        silence longer than the offline limit is an offline fault on the terminal: its truth is recorded."""
        hold = self.holds.pop(0)
        if hold.end_ms <= self.t:
            return
        if hold.mode is None:
            since = self.last_sent
            self.mute = True
            yield from operate(hold.end_ms)
            self.mute = False
            yield from self.reconnect()
            if self.t - since > self.settings.offline_after_ms:
                self.ctx.truth.append(
                    TruthRecord(
                        self.code,
                        FaultType.TERMINAL_OFFLINE,
                        since,
                        self.t,
                        FaultType.TERMINAL_OFFLINE,
                        {"maintenance": True},
                    )
                )
            return
        self.t += 1
        yield self.st(**self.hold_state(hold.mode))
        yield from self.wait(hold.end_ms)
        self.t += 1
        yield self.st(**self.resume_state())

    def calm(self) -> None:
        """A minute's calm after an episode, so one never runs into the next one's clear window."""
        self.next_fault = max(self.next_fault, self.t + MINUTE)
        self.next_noise = max(self.next_noise, self.t + MINUTE)

    # -- ground truth

    def begin(self, fault_type: FaultType, cause: FaultType, **detail: Any) -> TruthRecord:
        record = TruthRecord(self.code, fault_type, self.t, None, cause, detail)
        self.ctx.truth.append(record)
        return record

    def finish(self, record: TruthRecord | None) -> None:
        if record is not None and record.end_ms is None:
            record.end_ms = self.t

    # -- the process

    def process(self) -> Iterator[Timed]:  # pragma: no cover - overridden
        raise NotImplementedError

    def next_arrival(self, t: int, scale: float = 1.0) -> int:
        """The next arrival of a Poisson process whose hourly rate follows the place type's day."""
        rng = self.rng
        profile = self.profile
        traffic = self.ctx.traffic * scale
        while True:
            offset = self.ctx.utc_offset_ms
            hour_end = t - (t + offset) % HOUR + HOUR
            rate = profile[local_hour(t, offset)] * traffic
            if rate > 0:
                dt = int(rng.expovariate(rate) * HOUR)
                if t + dt < hour_end:
                    return t + dt
            t = hour_end

    def pick(self, types: list[Any], cum: list[float]) -> Any:
        return self.rng.choices(types, cum_weights=cum)[0]

    def offline(self, operate: Operate) -> Iterator[Timed]:
        """Terminal offline (长时间离线): silent for longer than the offline limit, then reconnects with a
        full status. The truth starts at the last message delivered before the silence."""
        s = self.settings
        record = TruthRecord(
            self.code, FaultType.TERMINAL_OFFLINE, self.last_sent, None, FaultType.TERMINAL_OFFLINE, {}
        )
        self.ctx.truth.append(record)
        lo = s.offline_after_ms + 60 * SECOND
        until = self.t + self.ms(lo, max(lo, 60 * MINUTE))
        self.mute = True
        yield from operate(until)
        self.mute = False
        yield from self.reconnect()
        record.end_ms = self.t

    def short_outage(self, operate: Operate) -> Iterator[Timed]:
        """Noise: messages lost for a while, the whole silence staying 30 s inside the offline limit."""
        del operate  # the car waits: a ride would stretch the silence
        budget = self.settings.offline_after_ms - 30 * SECOND - (self.t - self.last_sent)
        gap = self.ms(min(20 * SECOND, budget // 2), min(60 * SECOND, budget))
        if gap > 0:
            self.mute = True  # the heartbeats due in the gap are lost
            yield from self.wait(self.t + gap)
            self.mute = False
            yield from self.reconnect()

    def reconnect(self) -> Iterator[Timed]:
        self.t += 1
        yield self.st()

    def clock_skew(self, operate: Operate) -> Iterator[Timed]:
        """A terminal whose clock is hours off (dead RTC battery after a reboot) until NTP corrects it."""
        s = self.settings
        hours = max(HOUR, 10 * s.clock_skew_ms)
        skew = self.ms(hours, max(hours, 12 * HOUR)) * self.rng.choice((-1, 1))
        self.offset = self.base_offset + skew
        self.t += 1
        yield self.st()
        record = self.begin(FaultType.CLOCK_SKEW, FaultType.CLOCK_SKEW, skew_ms=skew)
        yield from operate(self.t + self.ms(10 * MINUTE, 2 * HOUR))
        self.offset = self.base_offset
        self.t += 1
        yield self.st()
        self.finish(record)


def _log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return int(math.exp(rng.uniform(math.log(lo), math.log(max(lo, hi)))))


def _cumulative(weights: list[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


class Lift(Device):
    """A lift (traction, hydraulic, dumbwaiter): rides, doors, passengers, counters, injected faults."""

    def __init__(self, spec: FleetElevator, rng: random.Random, start_ms: int, ctx: SimContext) -> None:
        self.lo = 1
        self.hi = max(2, spec.floors or 2)
        self.storey = _STOREY_M.get(spec.place_type, 3.0)
        self.has_pax = spec.kind != ElevatorKind.DUMBWAITER.value  # goods only: no passenger sensor
        self.alarm_open: TruthRecord | None = None
        super().__init__(spec, rng, start_ms, ctx)
        self.floor = self.lo if rng.random() < 0.5 else rng.randint(self.lo, self.hi)
        self.trips = rng.randrange(20_000, 2_000_000)
        self.door_cycles = self.trips * 2 + rng.randrange(0, 5_000)
        self.run_ms = self.trips * rng.randrange(8_000, 14_000)
        self.cur = Status(
            msg_id="-",
            seq=0,
            ts=0,
            mode=ServiceMode.NORMAL,
            running=False,
            door_zone=True,
            door_closed=True,
            passenger=False if self.has_pax else None,
            direction=Direction.NONE,
            door_command=DoorCommand.CLOSE,
            floor=self.floor,
            speed=0.0,
            rated_speed=self.rated,
            run_hours=round(self.run_ms / HOUR, 3),
            trips=self.trips,
            door_cycles=self.door_cycles,
        )

    def fault_kinds(self) -> list[FaultType]:
        kinds = [*LIFT_FAULTS, *ANY_FAULTS]
        if not self.has_pax:
            kinds = [k for k in kinds if k not in (FaultType.ENTRAPMENT, FaultType.ALARM_BUTTON)]
        if self._overspeed_ceiling() < 1.3:
            kinds.remove(FaultType.OVERSPEED)
        return kinds

    def noise_kinds(self) -> list[str]:
        return ["zone_flicker", "power_blip", "short_outage"]

    def _overspeed_ceiling(self) -> float:
        """The highest speed ratio at which an end-to-end run still lasts OVERSPEED_MIN_MS."""
        run_s = (OVERSPEED_MIN_MS - 2 * SECOND) / SECOND
        return (self.hi - self.lo) * self.storey / (run_s * self.rated)

    # -- the main loop

    def process(self) -> Iterator[Timed]:
        yield self.st()
        while True:
            t_call = self.next_arrival(self.t)
            if self.next_fault <= t_call or self.next_noise <= t_call:
                yield from self.idle(min(self.next_fault, self.next_noise))
                if self.held():
                    yield from self.run_hold(self.operate)
                elif self.next_fault <= self.next_noise:
                    yield from self.fault(self.pick(self.fault_types, self.fault_cum))
                    self.next_fault = self._draw(self.t, self.fault_cum)
                else:
                    yield from self.noise(self.pick(self.noise_types, self.noise_cum))
                    self.next_noise = self._draw(self.t, self.noise_cum)
                self.calm()
            else:
                yield from self.idle(t_call)
                if self.held():
                    yield from self.run_hold(self.operate)
                    self.calm()
                else:
                    yield from self.serve_call()

    def operate(self, until: int) -> Iterator[Timed]:
        """Normal service only (no injected episodes) until ``until``; returns with the car idle."""
        while True:
            t_call = self.next_arrival(self.t)
            if t_call >= until:
                yield from self.wait(until)
                return
            yield from self.wait(t_call)
            yield from self.serve_call()

    # -- normal service

    def other_floor(self) -> int:
        f = self.rng.randint(self.lo, self.hi - 1)
        return f + 1 if f >= self.floor else f

    def trip(self) -> tuple[int, int]:
        """Origin and destination of a call, following the place type's flows (morning down to the lobby in
        homes, up to the offices in office towers...)."""
        rng = self.rng
        lo, hi = self.lo, self.hi
        h = local_hour(self.t, self.ctx.utc_offset_ms)
        r = rng.random()
        upper = rng.randint(lo + 1, hi)
        place = self.spec.place_type
        if place == PlaceType.RESIDENTIAL.value:
            if 6 <= h < 10:
                return (upper, lo) if r < 0.8 else (lo, upper)
            if 17 <= h < 21:
                return (lo, upper) if r < 0.8 else (upper, lo)
        elif place == PlaceType.OFFICE.value:
            if 7 <= h < 10:
                return (lo, upper) if r < 0.85 else (upper, lo)
            if 17 <= h < 20:
                return (upper, lo) if r < 0.85 else (lo, upper)
        if r < 0.25:
            return lo, upper
        if r < 0.5:
            return upper, lo
        a = rng.randint(lo, hi)
        b = rng.randint(lo, hi - 1)
        return a, (b + 1 if b >= a else b)

    def serve_call(self) -> Iterator[Timed]:
        origin, dest = self.trip()
        if self.floor != origin:
            yield from self.travel(origin)
        yield from self.board()
        if self.rng.random() < self.ctx.rates.loiter:
            # someone stands in the closed car before pressing a button: stopped, door closed, passenger
            # present, but for far less than the entrapment hold time
            limit = min(25 * SECOND, self.settings.entrapment_outside_zone_ms - 5 * SECOND)
            yield from self.wait(self.t + self.ms(5 * SECOND, max(5 * SECOND, limit)))
        self.t += self.ms(500, 1500)
        yield from self.travel(dest)
        yield from self.alight()

    def open_door(self) -> Iterator[Timed]:
        self.t += self.ms(300, 800)
        yield self.st(door_command=DoorCommand.OPEN)
        self.t += self._door_time()
        self.door_cycles += 1
        yield self.st(door_closed=False, door_cycles=self.door_cycles)

    def close_door(self) -> Iterator[Timed]:
        yield self.st(door_command=DoorCommand.CLOSE)
        self.t += self._door_time()
        yield self.st(door_closed=True)

    def _door_time(self) -> int:
        if self.rng.random() < self.ctx.rates.slow_door:
            limit = min(self.settings.door_open_timeout_ms, self.settings.door_close_timeout_ms)
            return self.ms(4 * SECOND, max(4 * SECOND, min(9 * SECOND, limit - 5 * SECOND)))
        return self.ms(1200, 2500)

    def board(self) -> Iterator[Timed]:
        """Open at the current floor, a passenger steps in, the door closes."""
        yield from self.open_door()
        self.t += self.ms(1500, 4000)
        if self.has_pax:
            yield self.st(passenger=True)
        self.t += self.ms(2000, 5000)
        yield from self.close_door()

    def alight(self) -> Iterator[Timed]:
        yield from self.open_door()
        self.t += self.ms(1500, 3000)
        if self.has_pax:
            yield self.st(passenger=False)
        self.t += self.ms(2000, 5000)
        yield from self.close_door()

    def travel(
        self, dest: int, factor: float = 1.0, mode: str = "stop", halt_after: int = 0
    ) -> Iterator[Timed]:
        """Run to ``dest`` at ``factor`` x rated speed with a floor update at each floor passed.

        mode ``stop``: level and stop in the door zone; ``halt``: leave the car running between floors
        after ``halt_after`` floors (the caller emits the stop); ``overshoot``: pass ``dest`` still running.
        """
        up = dest > self.floor
        v = self.rated * factor
        per = int(self.storey / v * SECOND)
        speed = round(v * (0.98 + 0.04 * self.rng.random()), 2)
        yield self.st(
            running=True, direction=Direction.UP if up else Direction.DOWN, door_zone=False, speed=speed
        )
        start = self.t
        self.t += SECOND  # acceleration
        step = 1 if up else -1
        f = self.floor
        passed = 0
        while f != dest:
            if mode == "halt" and passed >= halt_after:
                self.t += per // 2
                self._count(start)
                return
            self.t += per
            f += step
            passed += 1
            self.floor = f
            if f != dest or mode == "overshoot":
                yield self.st(floor=f)
        if mode == "halt":
            self.t += per // 2
            self._count(start)
            return
        if mode == "overshoot":
            self.t += per // 3
            self._count(start)
            return
        self.t += SECOND  # levelling
        self._count(start)
        yield self.st(
            running=False,
            direction=Direction.NONE,
            door_zone=True,
            speed=0.0,
            floor=f,
            trips=self.trips,
            run_hours=round(self.run_ms / HOUR, 3),
        )

    def _count(self, start: int) -> None:
        self.trips += 1
        self.run_ms += self.t - start

    def halt(self, **changes: Any) -> Timed:
        """The car stops where it is (emergency stop)."""
        return self.st(
            running=False,
            direction=Direction.NONE,
            speed=0.0,
            trips=self.trips,
            run_hours=round(self.run_ms / HOUR, 3),
            **changes,
        )

    def release(self) -> Iterator[Timed]:
        """The rescuer opens the door at a landing; the passengers step out; later the door is closed."""
        self.door_cycles += 1
        yield self.st(door_command=DoorCommand.OPEN, door_closed=False, door_cycles=self.door_cycles)
        self.t += self.ms(5 * SECOND, 30 * SECOND)
        if self.has_pax and self.cur.passenger:
            yield self.st(passenger=False)
        yield from self.wait(self.t + self.ms(MINUTE, 5 * MINUTE))
        yield from self.close_door()

    def rescue_ms(self) -> int:
        """96333 rescues: arrival 10-13 min on average, 2-5 min on site (DOMAIN.md §5): 10-40 min here."""
        return self.ms(10 * MINUTE, 40 * MINUTE)

    def maybe_alarm(self, t0: int, p: float = 0.5) -> int | None:
        """Trapped passengers often press the alarm button: when (or None)."""
        if self.rng.random() < p:
            return t0 + self.ms(30 * SECOND, 180 * SECOND)
        return None

    def wait_trapped(self, until: int, alarm_at: int | None, cause: FaultType) -> Iterator[Timed]:
        """Wait while trapped, pressing the alarm button at ``alarm_at`` (cleared after the auto-clear)."""
        if alarm_at is not None and alarm_at < until:
            yield from self.wait(alarm_at)
            yield self.press_alarm(cause)  # nobody clears it: it ends by the auto-clear
        yield from self.wait(until)

    def press_alarm(self, cause: FaultType) -> Timed:
        """The alarm event; a press while an earlier alarm is still open continues that alarm (the
        auto-clear counts from the newest press), else a new one starts."""
        out = self.event(EventCode.ALARM_BUTTON)
        until = self.t + self.settings.alarm_auto_clear_ms
        record = self.alarm_open
        if record is None or record.end_ms is None or record.end_ms <= self.t:
            record = self.alarm_open = self.begin(FaultType.ALARM_BUTTON, cause)
        record.end_ms = until
        return out

    def clear_alarm(self) -> Timed:
        out = self.event(EventCode.ALARM_BUTTON, False)
        record = self.alarm_open
        if record is not None and record.end_ms is not None and record.end_ms > self.t:
            record.end_ms = self.t
        self.alarm_open = None
        return out

    # -- injected faults

    def fault(self, kind: FaultType) -> Iterator[Timed]:
        if kind is FaultType.TERMINAL_OFFLINE:
            yield from self.offline(self.operate)
        elif kind is FaultType.CLOCK_SKEW:
            yield from self.clock_skew(self.operate)
        elif kind in EVENT_OF:
            yield from self.controller_event(kind)
        elif kind is FaultType.ALARM_BUTTON:
            yield from self.alarm()
        elif kind is FaultType.STOPPED_OUTSIDE_DOOR_ZONE:
            yield from self.stuck(kind, with_pax=self.has_pax and self.rng.random() < 0.6)
        elif kind is FaultType.ENTRAPMENT:
            if self.rng.random() < 0.6:
                yield from self.trapped_at_landing()
            else:
                yield from self.stuck(kind, with_pax=True)
        elif kind is FaultType.POWER_CUT:
            yield from self.power_cut()
        elif kind is FaultType.UNINTENDED_MOVEMENT:
            yield from self.unintended_movement()
        elif kind in (FaultType.OVERRUN_TOP, FaultType.OVERRUN_BOTTOM):
            yield from self.overrun(kind is FaultType.OVERRUN_TOP)
        elif kind is FaultType.OVERSPEED:
            yield from self.overspeed()
        elif kind is FaultType.SAFETY_CIRCUIT:
            yield from self.safety_circuit()
        elif kind is FaultType.DOOR_CLOSE_FAILURE:
            yield from self.door_close_failure()
        elif kind is FaultType.DOOR_OPEN_FAILURE:
            yield from self.door_open_failure()
        else:  # pragma: no cover
            raise ValueError(kind)

    def controller_event(self, kind: FaultType) -> Iterator[Timed]:
        """06 / 07 / 08: the controller reports the fault and the car stays idle until it is cleared."""
        code = EVENT_OF[kind]
        yield self.event(code, True)
        record = self.begin(kind, kind)
        yield from self.wait(self.t + self.ms(2 * MINUTE, 60 * MINUTE))
        yield self.event(code, False)
        self.finish(record)

    def alarm(self) -> Iterator[Timed]:
        """A passenger presses the alarm button instead of a floor button (misuse); the ride goes on; the
        operator clears the alarm after 20-240 s, or nobody does (auto-clear)."""
        yield from self.board()
        self.t += self.ms(300, 1500)
        yield self.press_alarm(FaultType.ALARM_BUTTON)
        pressed = self.t
        auto = self.settings.alarm_auto_clear_ms
        clear_at = pressed + self.ms(20 * SECOND, min(240 * SECOND, auto - 30 * SECOND))
        self.t += self.ms(2000, 6000)
        yield from self.travel(self.other_floor())
        yield from self.alight()
        # the operator clears it (unless the ride outlasted the auto-clear), or nobody does
        if self.rng.random() < 0.8 and self.t < pressed + auto - 10 * SECOND:
            yield from self.wait(max(self.t + 200, clear_at))
            yield self.clear_alarm()

    def stuck(self, cause: FaultType, with_pax: bool) -> Iterator[Timed]:
        """The car stops between floors (门区外停梯); with passengers inside that is an entrapment (困人)
        outside the door zone, held 30 s. Rescue: wind the car to a landing, then open the door."""
        if with_pax:
            yield from self.board()
            self.t += self.ms(500, 1500)
        dest = self.other_floor()
        yield from self.travel(dest, mode="halt", halt_after=self.rng.randint(0, abs(dest - self.floor) - 1))
        yield self.halt()
        t0 = self.t
        outside = self.begin(FaultType.STOPPED_OUTSIDE_DOOR_ZONE, cause)
        trapped = self.begin(FaultType.ENTRAPMENT, cause, in_door_zone=False) if with_pax else None
        done = t0 + self.rescue_ms()
        alarm_at = self.maybe_alarm(t0) if with_pax else None
        yield from self.wait_trapped(done - self.ms(60 * SECOND, 120 * SECOND), alarm_at, cause)
        yield self.st(door_zone=True)
        self.finish(outside)
        if trapped is not None:
            yield from self.wait(done)
            yield from self.release_and_finish(trapped)

    def release_and_finish(self, trapped: TruthRecord) -> Iterator[Timed]:
        gen = self.release()
        yield next(gen)  # the door opens: the entrapment ends
        self.finish(trapped)
        yield from gen

    def trapped_at_landing(self) -> Iterator[Timed]:
        """平层关人: the car reaches a landing but the controller never opens the door (no open command,
        so no door open failure); the passenger is released 10-40 min later."""
        yield from self.board()
        self.t += self.ms(500, 1500)
        yield from self.travel(self.other_floor())
        trapped = self.begin(FaultType.ENTRAPMENT, FaultType.ENTRAPMENT, in_door_zone=True)
        done = self.t + self.rescue_ms()
        yield from self.wait_trapped(done, self.maybe_alarm(self.t), FaultType.ENTRAPMENT)
        yield from self.release_and_finish(trapped)

    def power_cut(self) -> Iterator[Timed]:
        """停电: main power off for minutes to hours. Idle, or mid-ride: the car stops where it is, in or
        outside the door zone, trapping whoever is inside; power back first: the car levels and opens."""
        rng = self.rng
        if rng.random() < 0.5:
            duration = _log_uniform(rng, 2 * MINUTE, 3 * HOUR)
            yield self.st(power=False)
            record = self.begin(FaultType.POWER_CUT, FaultType.POWER_CUT, during_ride=False)
            yield from self.wait(self.t + duration)
            yield self.st(power=True)
            self.finish(record)
            return
        cause = FaultType.POWER_CUT
        # long enough that an in-zone entrapment is past its hold time with a margin
        duration = _log_uniform(rng, max(5 * MINUTE, self.settings.entrapment_in_zone_ms * 2), 3 * HOUR)
        with_pax = self.has_pax and rng.random() < 0.7
        if with_pax:
            yield from self.board()
            self.t += self.ms(500, 1500)
        dest = self.other_floor()
        up = dest > self.floor
        yield from self.travel(dest, mode="halt", halt_after=rng.randint(0, abs(dest - self.floor) - 1))
        in_zone = rng.random() < 0.3
        if in_zone:  # stopped right at the next landing
            self.t += int(self.storey / self.rated * SECOND) // 2
            self.floor += 1 if up else -1
            yield self.halt(power=False, door_zone=True, floor=self.floor)
        else:
            yield self.halt(power=False)
        t0 = self.t
        power = self.begin(FaultType.POWER_CUT, cause, during_ride=True)
        outside = None if in_zone else self.begin(FaultType.STOPPED_OUTSIDE_DOOR_ZONE, cause)
        trapped = self.begin(FaultType.ENTRAPMENT, cause, in_door_zone=in_zone) if with_pax else None
        back = t0 + duration
        rescue = t0 + self.rescue_ms() if with_pax else NEVER
        alarm_at = self.maybe_alarm(t0, 0.4) if with_pax else None
        if back <= rescue:
            yield from self.wait_trapped(back, alarm_at, cause)
            yield self.st(power=True)
            self.finish(power)
            if not in_zone:  # the controller levels to the nearest landing: the car runs, the condition ends
                self.t += self.ms(2 * SECOND, 5 * SECOND)
                yield self.st(running=True, direction=Direction.UP if up else Direction.DOWN, speed=0.3)
                self.finish(outside)  # (whoever is inside is trapped until the door opens)
                start = self.t
                self.t += self.ms(2 * SECOND, 4 * SECOND)
                self.floor += 1 if up else -1
                self._count(start)
                yield self.halt(door_zone=True, floor=self.floor)
            yield from self.open_door()
            self.finish(trapped)
            self.t += self.ms(1500, 3000)
            if self.cur.passenger:
                yield self.st(passenger=False)
            self.t += self.ms(2000, 5000)
            yield from self.close_door()
            return
        if not in_zone:
            # wound by hand back to the landing it last passed (the floor it reports)
            yield from self.wait_trapped(rescue - self.ms(60 * SECOND, 120 * SECOND), alarm_at, cause)
            yield self.st(door_zone=True)
            self.finish(outside)
        else:
            yield from self.wait_trapped(rescue, alarm_at, cause)
        yield from self.wait(rescue)
        assert trapped is not None
        yield from self.release_and_finish(trapped)
        yield from self.wait(max(self.t, back))
        yield self.st(power=True)
        self.finish(power)

    def unintended_movement(self) -> Iterator[Timed]:
        """轿厢意外移动: with the door open at a landing the car moves off (brake failure) for a few seconds
        until the UCMP device stops it outside the door zone, door still open."""
        yield from self.open_door()
        if self.has_pax and self.rng.random() < 0.5:
            self.t += self.ms(1000, 3000)
            yield self.st(passenger=True)
        self.t += self.ms(500, 3000)
        up = self.rng.random() < 0.5 if self.lo < self.floor < self.hi else self.floor == self.lo
        yield self.st(
            running=True,
            direction=Direction.UP if up else Direction.DOWN,
            speed=round(self.rng.uniform(0.15, 0.4), 2),
        )
        moving = self.begin(FaultType.UNINTENDED_MOVEMENT, FaultType.UNINTENDED_MOVEMENT)
        start = self.t
        confirm = self.settings.unintended_movement_confirm_ms
        stop_at = start + self.ms(confirm + 1500, confirm + 5000)
        self.t += self.ms(300, 700)
        yield self.st(door_zone=False)
        self.t = stop_at
        self._count(start)
        yield self.halt()
        self.finish(moving)
        outside = self.begin(FaultType.STOPPED_OUTSIDE_DOOR_ZONE, FaultType.UNINTENDED_MOVEMENT)
        if self.cur.passenger:
            self.t += self.ms(20 * SECOND, 120 * SECOND)
            yield self.st(passenger=False)
        yield from self.wait(moving.start_ms + self.ms(10 * MINUTE, 60 * MINUTE))
        yield self.st(door_zone=True)
        self.finish(outside)
        yield from self.wait(self.t + self.ms(30 * SECOND, 2 * MINUTE))
        yield from self.close_door()

    def overrun(self, top: bool) -> Iterator[Timed]:
        """冲顶 / 蹲底: the car runs past the terminal landing onto the final limit switch."""
        kind = FaultType.OVERRUN_TOP if top else FaultType.OVERRUN_BOTTOM
        end = self.hi if top else self.lo
        if self.floor == end:
            yield from self.travel(self.lo if top else self.hi)
            yield from self.wait(self.t + self.ms(2 * SECOND, 10 * SECOND))
        with_pax = self.has_pax and self.rng.random() < 0.5
        if with_pax:
            yield from self.board()
            self.t += self.ms(500, 1500)
        yield from self.travel(end, mode="overshoot")
        yield self.halt(up_limit=True) if top else self.halt(down_limit=True)
        t0 = self.t
        over = self.begin(kind, kind)
        outside = self.begin(FaultType.STOPPED_OUTSIDE_DOOR_ZONE, kind)
        trapped = self.begin(FaultType.ENTRAPMENT, kind, in_door_zone=False) if with_pax else None
        done = t0 + self.rescue_ms()
        alarm_at = self.maybe_alarm(t0) if with_pax else None
        yield from self.wait_trapped(done - self.ms(60 * SECOND, 120 * SECOND), alarm_at, kind)
        yield self.st(door_zone=True, up_limit=False) if top else self.st(door_zone=True, down_limit=False)
        self.finish(over)
        self.finish(outside)
        if trapped is not None:
            yield from self.wait(done)
            yield from self.release_and_finish(trapped)

    def overspeed(self) -> Iterator[Timed]:
        """超速: a whole end-to-end run at 1.25-1.6x rated speed (both severities), then a normal stop."""
        ceiling = min(1.6, self._overspeed_ceiling())
        factor = self.rng.uniform(1.25, max(1.25, ceiling))
        far = self.hi if self.floor - self.lo < self.hi - self.floor else self.lo
        if self.floor != (self.lo if far == self.hi else self.hi):
            yield from self.travel(self.lo if far == self.hi else self.hi)
            yield from self.wait(self.t + self.ms(2 * SECOND, 10 * SECOND))
        if self.has_pax and self.rng.random() < 0.5:
            yield from self.board()
            self.t += self.ms(500, 1500)
        gen = self.travel(far, factor=factor)
        yield next(gen)
        record = self.begin(FaultType.OVERSPEED, FaultType.OVERSPEED, ratio=round(factor, 3))
        yield from gen
        self.finish(record)
        if self.cur.passenger:
            yield from self.alight()

    def safety_circuit(self) -> Iterator[Timed]:
        """运行中安全回路断路: the safety circuit opens while the car runs; the car stops between floors."""
        with_pax = self.has_pax and self.rng.random() < 0.5
        if with_pax:
            yield from self.board()
            self.t += self.ms(500, 1500)
        dest = self.other_floor()
        yield from self.travel(dest, mode="halt", halt_after=self.rng.randint(0, abs(dest - self.floor) - 1))
        yield self.st(safety_circuit=False)
        circuit = self.begin(FaultType.SAFETY_CIRCUIT, FaultType.SAFETY_CIRCUIT)
        self.t += self.ms(300, 800)
        yield self.halt()
        t0 = self.t
        outside = self.begin(FaultType.STOPPED_OUTSIDE_DOOR_ZONE, FaultType.SAFETY_CIRCUIT)
        trapped = (
            self.begin(FaultType.ENTRAPMENT, FaultType.SAFETY_CIRCUIT, in_door_zone=False)
            if with_pax
            else None
        )
        done = t0 + self.rescue_ms()
        alarm_at = self.maybe_alarm(t0) if with_pax else None
        yield from self.wait_trapped(
            done - self.ms(90 * SECOND, 150 * SECOND), alarm_at, FaultType.SAFETY_CIRCUIT
        )
        yield self.st(safety_circuit=True)
        self.finish(circuit)
        yield from self.wait(self.t + self.ms(20 * SECOND, 50 * SECOND))
        yield self.st(door_zone=True)
        self.finish(outside)
        if trapped is not None:
            yield from self.wait(done)
            yield from self.release_and_finish(trapped)

    def door_close_failure(self) -> Iterator[Timed]:
        """关门故障: the close command is given, the door stays open (obstruction, door operator)."""
        yield from self.open_door()
        self.t += self.ms(3000, 8000)
        yield self.st(door_command=DoorCommand.CLOSE)
        record = self.begin(FaultType.DOOR_CLOSE_FAILURE, FaultType.DOOR_CLOSE_FAILURE)
        lo = self.settings.door_close_timeout_ms + 10 * SECOND
        yield from self.wait(self.t + self.ms(lo, max(lo, 10 * MINUTE)))
        yield self.st(door_closed=True)
        self.finish(record)

    def door_open_failure(self) -> Iterator[Timed]:
        """开门故障: at a landing the open command is given and the door stays shut. With a passenger inside
        for longer than the in-zone hold this is also an entrapment (平层关人) from the moment it stopped."""
        s = self.settings
        with_pax = self.has_pax and self.rng.random() < 0.5
        long = with_pax and self.rng.random() < 0.5
        if with_pax:
            yield from self.board()
            self.t += self.ms(500, 1500)
        yield from self.travel(self.other_floor())
        trapped = (
            self.begin(FaultType.ENTRAPMENT, FaultType.DOOR_OPEN_FAILURE, in_door_zone=True) if long else None
        )
        stopped = self.t
        self.t += self.ms(300, 800)
        yield self.st(door_command=DoorCommand.OPEN)
        record = self.begin(FaultType.DOOR_OPEN_FAILURE, FaultType.DOOR_OPEN_FAILURE)
        lo = s.door_open_timeout_ms + 10 * SECOND
        if long:
            lo2 = s.entrapment_in_zone_ms + 60 * SECOND
            until = stopped + self.ms(lo2, max(lo2, 40 * MINUTE))
        elif with_pax:  # opens before the in-zone entrapment hold
            until = stopped + self.ms(lo, max(lo, s.entrapment_in_zone_ms - 30 * SECOND))
        else:
            until = self.t + self.ms(lo, max(lo, 10 * MINUTE))
        alarm_at = self.maybe_alarm(stopped, 0.3) if long else None
        yield from self.wait_trapped(until, alarm_at, FaultType.DOOR_OPEN_FAILURE)
        self.door_cycles += 1
        yield self.st(door_closed=False, door_cycles=self.door_cycles)
        self.finish(record)
        self.finish(trapped)
        self.t += self.ms(1500, 3000)
        if self.cur.passenger:
            yield self.st(passenger=False)
        self.t += self.ms(2000, 5000)
        yield from self.close_door()

    # -- noise

    def noise(self, kind: str) -> Iterator[Timed]:
        confirm = self.settings.confirm_ms
        blip_hi = max(SECOND, min(3 * SECOND, confirm - 2 * SECOND))
        if kind == "zone_flicker":  # the door zone sensor flickers for 1-3 s at a landing
            yield self.st(door_zone=False)
            self.t += self.ms(SECOND // 2, blip_hi)
            yield self.st(door_zone=True)
        elif kind == "power_blip":
            yield self.st(power=False)
            self.t += self.ms(SECOND // 2, blip_hi)
            yield self.st(power=True)
        elif kind == "short_outage":
            yield from self.short_outage(self.operate)


class Escalator(Device):
    """An escalator or moving walk: running / direction / mode / speed; faults are controller events."""

    SLOW = 0.2  # m/s, energy-saving crawl when nobody is on it

    def __init__(self, spec: FleetElevator, rng: random.Random, start_ms: int, ctx: SimContext) -> None:
        super().__init__(spec, rng, start_ms, ctx)
        self.opening = OPENING.get(spec.place_type, (8, 22))
        self.saver = spec.place_type != PlaceType.METRO.value  # metro escalators never crawl
        self.direction = Direction.UP if rng.random() < 0.5 else Direction.DOWN
        self.run_ms = rng.randrange(1_000, 60_000) * HOUR
        self.cur = Status(
            msg_id="-",
            seq=0,
            ts=0,
            mode=ServiceMode.NORMAL,
            running=False,
            door_zone=True,  # no doors: the lift rules must never fire on an escalator
            door_closed=True,
            direction=Direction.NONE,
            speed=0.0,
            rated_speed=self.rated,
            run_hours=round(self.run_ms / HOUR, 1),
        )

    def fault_kinds(self) -> list[FaultType]:
        return [*ESCALATOR_FAULTS, *ANY_FAULTS]

    def noise_kinds(self) -> list[str]:
        return ["escalator_stop", "short_outage"]

    def is_open(self, t: int) -> bool:
        h = local_hour(t, self.ctx.utc_offset_ms)
        return self.opening[0] <= h < self.opening[1]

    def next_change(self, t: int) -> int:
        """When the escalator next opens or closes."""
        start = t - (t + self.ctx.utc_offset_ms) % HOUR
        for k in range(1, 25):
            at = start + k * HOUR
            if self.is_open(at) != self.is_open(t):
                return at
        return NEVER

    def state(self, t: int) -> dict[str, Any]:
        if not self.is_open(t):
            return {
                "mode": ServiceMode.OUT_OF_SERVICE,
                "running": False,
                "direction": Direction.NONE,
                "speed": 0.0,
            }
        return {
            "mode": ServiceMode.NORMAL,
            "running": True,
            "direction": self.direction,
            "speed": self.SLOW if self.saver else self.rated,
        }

    def process(self) -> Iterator[Timed]:
        yield self.st(**self.state(self.t))
        busy_until = 0
        while True:
            t_change = self.next_change(self.t)
            t_pax = self.next_arrival(self.t, 4.0) if self.is_open(self.t) else NEVER
            fast = self.saver and self.cur.running and self.cur.speed == self.rated
            t_slow = busy_until if fast and busy_until > self.t else NEVER
            t_ep = min(self.next_fault, self.next_noise)
            first = min(t_change, t_pax, t_slow, t_ep)
            yield from self.idle(first)
            if self.held():
                yield from self.run_hold(self.operate)
                self.calm()
                busy_until = 0
            elif first == t_ep:
                if self.next_fault <= self.next_noise:
                    kind = self.pick(self.fault_types, self.fault_cum)
                    if kind in ANY_FAULTS or self.is_open(self.t):
                        yield from self.fault(kind)
                    self.next_fault = self._draw(self.t, self.fault_cum)
                else:
                    kind = self.pick(self.noise_types, self.noise_cum)
                    if kind == "short_outage" or self.is_open(self.t):
                        yield from self.noise(kind)
                    self.next_noise = self._draw(self.t, self.noise_cum)
                self.calm()
                busy_until = 0
            elif first == t_change:
                yield self.st(**self.state(self.t))
            elif first == t_pax:
                busy_until = self.t + 40 * SECOND
                if self.saver and self.cur.speed == self.SLOW:
                    yield self.st(speed=self.rated)
            else:
                yield self.st(speed=self.SLOW)

    def hold_state(self, mode: ServiceMode) -> dict[str, Any]:
        return {"mode": mode, "running": False, "direction": Direction.NONE, "speed": 0.0}

    def resume_state(self) -> dict[str, Any]:
        return self.state(self.t)

    def operate(self, until: int) -> Iterator[Timed]:
        """Normal service until ``until`` (opening hours, no speed changes recorded while unobserved)."""
        while True:
            t_change = self.next_change(self.t)
            if t_change >= until:
                yield from self.wait(until)
                return
            yield from self.wait(t_change)
            yield self.st(**self.state(self.t))

    def fault(self, kind: FaultType) -> Iterator[Timed]:
        if kind is FaultType.TERMINAL_OFFLINE:
            yield from self.offline(self.operate)
            return
        if kind is FaultType.CLOCK_SKEW:
            yield from self.clock_skew(self.operate)
            return
        code = EVENT_OF[kind]
        if kind is FaultType.ESC_UNINTENDED_REVERSAL:
            reverse = Direction.DOWN if self.direction is Direction.UP else Direction.UP
            yield self.st(direction=reverse)
            self.t += self.ms(300, 800)
        yield self.event(code, True)
        record = self.begin(kind, kind)
        self.t += self.ms(100, 400)
        yield self.st(running=False, direction=Direction.NONE, speed=0.0)
        yield from self.wait(self.t + self.ms(5 * MINUTE, 60 * MINUTE))
        yield self.event(code, False)
        self.finish(record)
        self.t += self.ms(SECOND, 30 * SECOND)
        yield self.st(**self.state(self.t))

    def noise(self, kind: str) -> Iterator[Timed]:
        if kind == "escalator_stop":  # someone pressed the emergency stop: no fault, no event
            yield self.st(running=False, direction=Direction.NONE, speed=0.0)
            yield from self.wait(self.t + self.ms(MINUTE, 5 * MINUTE))
            yield self.st(**self.state(self.t))
        elif kind == "short_outage":
            yield from self.short_outage(self.operate)


def make_device(spec: FleetElevator, rng: random.Random, start_ms: int, ctx: SimContext) -> Device:
    return Lift(spec, rng, start_ms, ctx) if spec.is_lift else Escalator(spec, rng, start_ms, ctx)
