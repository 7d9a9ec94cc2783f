"""Reads of the telemetry domain for other domains, as plain data: an elevator's service history around a
time (online spans, spans per service mode, the counters at each change) and its counters now.

The history comes from ``service_state_changes`` (written by the detector worker with its checkpoints: a
row per change of service mode or online state, not per status) and ``live_status``. It is as current as
the pipeline: a change is there a checkpoint (seconds) after its message, a terminal's silence once the
detector has called it offline (``LIFTWATCH_DETECTOR_OFFLINE_AFTER_MS`` after its last message, dated
back to that message). Callers that judge a period wait that long after it (maintenance's judge timer).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from liftwatch.core.clock import as_utc
from liftwatch.telemetry.faults import FaultType
from liftwatch.telemetry.models import Fault, LiveStatus, ServiceStateChange
from liftwatch.telemetry.protocol import ServiceMode
from liftwatch.telemetry.service import MODE_CHANGE, ONLINE_CHANGE

__all__ = [
    "Change",
    "Counters",
    "ServiceHistory",
    "Span",
    "counters_after",
    "counters_at",
    "counters_now",
    "fault_counts_by_group",
    "fault_starts",
    "faults_started_between",
    "service_history",
]


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open time interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change: ``kind`` "mode" (``value`` a ServiceMode) or "online" (1 online, 0 silent),
    with the terminal's counters at that moment (None: not known)."""

    at: datetime
    kind: str
    value: int
    previous: int | None
    trips: int | None
    door_cycles: int | None


@dataclass(frozen=True, slots=True)
class Counters:
    """A terminal's trip and door-cycle counters (None: never reported) as of ``at``."""

    at: datetime
    trips: int | None
    door_cycles: int | None


@dataclass(frozen=True, slots=True)
class ServiceHistory:
    """One elevator over ``window``: when its terminal was online, and in which service mode while online
    (``modes`` by ServiceMode, each a sorted list of spans clipped to the window); ``changes`` the recorded
    changes inside the window, and ``before`` the last of each kind before it (the state the window starts
    in). ``heard`` is False when the pipeline never recorded anything of this elevator up to the window's
    end (no terminal, or one never heard): nothing can be told from it."""

    window: Span
    online: tuple[Span, ...]
    modes: dict[ServiceMode, tuple[Span, ...]]
    changes: tuple[Change, ...]
    before: tuple[Change, ...]
    heard: bool

    def spans(self, mode: ServiceMode) -> tuple[Span, ...]:
        return self.modes.get(mode, ())


def _change(row: ServiceStateChange) -> Change:
    return Change(as_utc(row.at), row.kind, row.value, row.previous, row.trips, row.door_cycles)


def _last_before(session: Session, code: str, kind: str, at: datetime) -> Change | None:
    row = session.scalars(
        select(ServiceStateChange)
        .where(
            ServiceStateChange.registration_code == code,
            ServiceStateChange.kind == kind,
            ServiceStateChange.at <= at,
        )
        .order_by(ServiceStateChange.at.desc(), ServiceStateChange.id.desc())
        .limit(1)
    ).first()
    return _change(row) if row is not None else None


def _steps(
    start: datetime, end: datetime, first: int | None, changes: list[Change]
) -> list[tuple[datetime, datetime, int]]:
    """Piecewise-constant values over [start, end): ``first`` at start (None: unknown until the first
    change), then each change's value from its time on. Unknown stretches are left out."""
    out: list[tuple[datetime, datetime, int]] = []
    at, value = start, first
    for ch in changes:
        if ch.at > at and value is not None:
            out.append((at, ch.at, value))
        at, value = max(at, ch.at), ch.value
    if end > at and value is not None:
        out.append((at, end, value))
    return out


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if lo < hi:
            out.append(Span(lo, hi))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return out


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if out and s.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(s)
    return out


def service_history(
    session: Session, registration_code: str, start: datetime, end: datetime
) -> ServiceHistory:
    """The elevator's online and service-mode spans over [start, end), from the recorded changes.

    Online: the last online change before ``start`` says how the window begins; without one, a terminal
    heard before (a recorded mode) was online, one first heard inside the window is online from then. The
    state of the last change holds to ``end``. Modes are known only while online (a silent terminal's
    last mode is not evidence), so mode spans are cut to the online spans."""
    start, end = as_utc(start), as_utc(end)
    code = registration_code
    rows = session.scalars(
        select(ServiceStateChange)
        .where(
            ServiceStateChange.registration_code == code,
            ServiceStateChange.at > start,
            ServiceStateChange.at < end,
        )
        .order_by(ServiceStateChange.at, ServiceStateChange.id)
    ).all()
    changes = [_change(r) for r in rows]
    mode0 = _last_before(session, code, MODE_CHANGE, start)
    online0 = _last_before(session, code, ONLINE_CHANGE, start)
    before = tuple(c for c in (mode0, online0) if c is not None)
    first_online = online0.value if online0 is not None else (1 if mode0 is not None else None)
    mode_changes = [c for c in changes if c.kind == MODE_CHANGE]
    online_changes = [c for c in changes if c.kind == ONLINE_CHANGE]
    if first_online is None and mode_changes:
        # first heard inside the window: online from its first status (unless an online row says otherwise)
        online_changes = sorted(
            [Change(mode_changes[0].at, ONLINE_CHANGE, 1, None, None, None), *online_changes],
            key=lambda c: c.at,
        )
    online = _merge([Span(a, b) for a, b, v in _steps(start, end, first_online, online_changes) if v])
    by_mode: dict[ServiceMode, list[Span]] = {}
    for a, b, v in _steps(start, end, mode0.value if mode0 is not None else None, mode_changes):
        by_mode.setdefault(ServiceMode(v), []).append(Span(a, b))
    modes = {m: tuple(_intersect(_merge(s), online)) for m, s in by_mode.items()}
    return ServiceHistory(
        window=Span(start, end),
        online=tuple(online),
        modes={m: s for m, s in modes.items() if s},
        changes=tuple(changes),
        before=before,
        heard=bool(before or changes),
    )


def counters_now(session: Session, registration_code: str) -> Counters | None:
    """The terminal's counters as the live status last flushed them (None: never heard)."""
    row = session.get(LiveStatus, registration_code)
    if row is None:
        return None
    return Counters(as_utc(row.last_seen_at), row.trips, row.door_cycles)


def counters_at(session: Session, registration_code: str, at: datetime) -> Counters | None:
    """The counters recorded at the newest changes at or before ``at`` that carried them (None: none
    recorded): each counter from the newest change that knew it, ``at`` of the result the older of the two."""
    at = as_utc(at)
    rows = session.scalars(
        select(ServiceStateChange)
        .where(ServiceStateChange.registration_code == registration_code, ServiceStateChange.at <= at)
        .order_by(ServiceStateChange.at.desc(), ServiceStateChange.id.desc())
        .limit(50)
    ).all()
    return _readings(rows, min)


def counters_after(
    session: Session, registration_code: str, at: datetime, until: datetime
) -> Counters | None:
    """The counters recorded at the first changes in [at, until) that carried them (None: none): each
    counter from the first change that knew it, ``at`` of the result the later of the two."""
    rows = session.scalars(
        select(ServiceStateChange)
        .where(
            ServiceStateChange.registration_code == registration_code,
            ServiceStateChange.at >= as_utc(at),
            ServiceStateChange.at < as_utc(until),
        )
        .order_by(ServiceStateChange.at, ServiceStateChange.id)
        .limit(50)
    ).all()
    return _readings(rows, max)


def _readings(rows: Sequence[ServiceStateChange], pick: Callable[..., datetime]) -> Counters | None:
    trips = doors = None
    trips_at = doors_at = None
    for r in rows:
        if trips is None and r.trips is not None:
            trips, trips_at = r.trips, as_utc(r.at)
        if doors is None and r.door_cycles is not None:
            doors, doors_at = r.door_cycles, as_utc(r.at)
        if trips is not None and doors is not None:
            break
    times = [t for t in (trips_at, doors_at) if t is not None]
    return Counters(pick(times), trips, doors) if times else None


@dataclass(frozen=True, slots=True)
class CounterHistory:
    """An elevator's counters as the platform knows them: ``now`` from the live status, ``first_trips`` and
    ``first_door_cycles`` the first recorded readings (at, value) in the service state changes (None: never
    recorded). Parts count their cycles from these (parts.domain.cycles_used)."""

    now: Counters | None
    first_trips: tuple[datetime, int] | None
    first_door_cycles: tuple[datetime, int] | None


def counter_histories(session: Session, codes: Collection[str]) -> dict[str, CounterHistory]:
    """The counters now and first recorded of each of ``codes`` (absent: never heard), in chunks of 2,000
    codes, four reads a chunk."""
    wanted = sorted(set(codes))
    out: dict[str, CounterHistory] = {}
    for i in range(0, len(wanted), 2000):
        chunk = wanted[i : i + 2000]
        now = {
            r.registration_code: Counters(as_utc(r.last_seen_at), r.trips, r.door_cycles)
            for r in session.scalars(select(LiveStatus).where(LiveStatus.registration_code.in_(chunk)))
        }
        firsts: dict[str, dict[str, tuple[datetime, int]]] = {"trips": {}, "door_cycles": {}}
        for name, column in (
            ("trips", ServiceStateChange.trips),
            ("door_cycles", ServiceStateChange.door_cycles),
        ):
            sub = (
                select(
                    ServiceStateChange.registration_code.label("code"),
                    func.min(ServiceStateChange.at).label("at"),
                )
                .where(ServiceStateChange.registration_code.in_(chunk), column.is_not(None))
                .group_by(ServiceStateChange.registration_code)
                .subquery()
            )
            rows = session.execute(
                select(ServiceStateChange.registration_code, ServiceStateChange.at, column)
                .join(
                    sub,
                    (sub.c.code == ServiceStateChange.registration_code)
                    & (sub.c.at == ServiceStateChange.at),
                )
                .where(column.is_not(None))
            )
            for code, at, value in rows:
                if value is not None:
                    firsts[name].setdefault(code, (as_utc(at), int(value)))
        for code in set(now) | set(firsts["trips"]) | set(firsts["door_cycles"]):
            out[code] = CounterHistory(
                now.get(code), firsts["trips"].get(code), firsts["door_cycles"].get(code)
            )
    return out


# ---------------------------------------------------------------- city-wide counts (risk grading)

#: Fault types that are not the elevator failing (the terminal, its clock, the supply) or that rescue counts
#: as incidents (entrapments, alarm presses): left out of the fault counts risk grading reads.
NOT_ELEVATOR_FAULTS = (
    FaultType.ENTRAPMENT.value,
    FaultType.ALARM_BUTTON.value,
    FaultType.TERMINAL_OFFLINE.value,
    FaultType.CLOCK_SKEW.value,
    FaultType.POWER_CUT.value,
)


def fault_counts(session: Session, since: datetime, codes: Collection[str] | None = None) -> dict[str, int]:
    """Faults that started from ``since`` on, per elevator, in one GROUP BY (``codes`` None: the whole city;
    elevators without a fault are absent). Entrapments and alarms are rescue's count, so are left out."""
    stmt = select(Fault.registration_code, func.count(Fault.id)).where(
        Fault.started_at >= as_utc(since), Fault.fault_type.not_in(NOT_ELEVATOR_FAULTS)
    )
    if codes is not None:
        stmt = stmt.where(Fault.registration_code.in_(list(codes)))
    return {code: int(n) for code, n in session.execute(stmt.group_by(Fault.registration_code))}


def trips_per_day(
    session: Session, now: datetime, days: int = 30, codes: Collection[str] | None = None
) -> dict[str, float]:
    """Trips a day per elevator: the trip counter now (live status) less the first one recorded in the last
    ``days`` days (service state changes), over the time between them; absent when the terminal recorded
    no counter in that window or the two readings are less than a day apart (too short to say)."""
    since = as_utc(now) - timedelta(days=days)
    first = (
        select(
            ServiceStateChange.registration_code.label("code"), func.min(ServiceStateChange.at).label("at")
        )
        .where(ServiceStateChange.at >= since, ServiceStateChange.trips.is_not(None))
        .group_by(ServiceStateChange.registration_code)
    )
    if codes is not None:
        first = first.where(ServiceStateChange.registration_code.in_(list(codes)))
    sub = first.subquery()
    rows = session.execute(
        select(LiveStatus.registration_code, LiveStatus.trips, LiveStatus.last_seen_at,
               ServiceStateChange.trips, ServiceStateChange.at)
        .join(sub, sub.c.code == LiveStatus.registration_code)
        .join(ServiceStateChange, (ServiceStateChange.registration_code == sub.c.code)
              & (ServiceStateChange.at == sub.c.at))
        .where(LiveStatus.trips.is_not(None), ServiceStateChange.trips.is_not(None))
    )  # fmt: skip
    out: dict[str, float] = {}
    for code, now_trips, seen, then_trips, then in rows:
        span_days = (as_utc(seen) - as_utc(then)).total_seconds() / 86400
        if now_trips is None or then_trips is None:
            continue
        if span_days >= 1 and now_trips >= then_trips:
            out[code] = round((now_trips - then_trips) / span_days, 1)
    return out


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """The elevators with a fault raised after ``since`` (what the risk worker rescores)."""
    return set(session.scalars(select(Fault.registration_code).where(Fault.raised_at > since).distinct()))


def faults_started_between(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, str, str, str, datetime]]:
    """The faults that started in [start, end), city-wide, oldest first: (fault id, registration code, fault
    type, severity, started at). What the hazard worker scans for dangerous and recurring faults."""
    stmt = (
        select(Fault.fault_id, Fault.registration_code, Fault.fault_type, Fault.severity, Fault.started_at)
        .where(Fault.started_at >= as_utc(start), Fault.started_at < as_utc(end))
        .order_by(Fault.started_at, Fault.id)
    )
    return [(f, c, t, sev, as_utc(at)) for f, c, t, sev, at in session.execute(stmt)]


def fault_starts(
    session: Session, since: datetime, pairs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], list[datetime]]:
    """For each (registration code, fault type) of ``pairs``, the start times of its faults from ``since``
    on, oldest first (one query per 1,000 elevators)."""
    wanted = set(pairs)
    codes = sorted({code for code, _ in wanted})
    out: dict[tuple[str, str], list[datetime]] = {}
    for i in range(0, len(codes), 1000):
        stmt = (
            select(Fault.registration_code, Fault.fault_type, Fault.started_at)
            .where(Fault.registration_code.in_(codes[i : i + 1000]), Fault.started_at >= as_utc(since))
            .order_by(Fault.started_at)
        )
        for code, kind, at in session.execute(stmt):
            if (code, kind) in wanted:
                out.setdefault((code, kind), []).append(as_utc(at))
    return out


def fault_counts_by_group(
    session: Session, groups: Subquery | None, start: datetime, end: datetime
) -> dict[str, int]:
    """Faults that started in [start, end) per group of elevators, in one COUNT ... GROUP BY (the city's
    figures): ``groups`` is a subquery of columns ``key`` and ``code`` (``registry.queries.
    group_key_subquery``), faults of elevators not in it left out; None counts the whole city as group "".
    The same faults as :func:`fault_counts` (entrapments and alarms are rescue's)."""
    where = (
        Fault.started_at >= as_utc(start),
        Fault.started_at < as_utc(end),
        Fault.fault_type.not_in(NOT_ELEVATOR_FAULTS),
    )
    if groups is None:
        n = int(session.scalar(select(func.count(Fault.id)).where(*where)) or 0)
        return {"": n} if n else {}
    stmt = (
        select(groups.c.key, func.count(Fault.id))
        .join(groups, groups.c.code == Fault.registration_code)
        .where(*where)
        .group_by(groups.c.key)
    )
    return {str(k): int(n) for k, n in session.execute(stmt)}
