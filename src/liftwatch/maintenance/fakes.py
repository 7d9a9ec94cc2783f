"""Fake-maintenance detection (假维保): each signed visit against telemetry and the worker's other visits.

Pure: plain records and times in, flags with their evidence out; no database, no HTTP, no clock (every time
is in the records). The service (later) loads a visit, the summary the telemetry pipeline keeps of the
elevator around it and the worker's visits of the days around it, calls ``judge_visits`` and stores the
flags for a regulator to confirm or dismiss. docs/MAINTENANCE.md "Fake maintenance" states each rule with a
worked example; the thresholds are ``FakeSettings``.

The six kinds (issue 13, item 5):

* ``no_inspection_mode``: the elevator never entered inspection mode (检修) during the visit;
* ``normal_service_during_visit``: it did, briefly, but stayed in normal service for most of the visit;
* ``too_short``: the visit is shorter than the minimum time of the items signed;
* ``far_check_in``: the check-in position is far from the elevator;
* ``two_places_at_once``: the same worker at another site at an overlapping time (travel time included);
* ``terminal_offline``: the terminal went offline around the visit and stayed so for most of it.

A kind that cannot be judged is never flagged: it is listed in ``Judgement.not_judged`` with the reason
(an elevator without an IoT terminal, a terminal offline for most of the visit, an unknown position).
Escalators and moving walks are judged like lifts: their maintenance also runs in inspection mode.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from liftwatch.maintenance.domain import Evidence

__all__ = [
    "TELEMETRY_KINDS",
    "FakeKind",
    "FakeSettings",
    "Flag",
    "Judgement",
    "NotJudged",
    "Point",
    "SignedItem",
    "Span",
    "Telemetry",
    "Visit",
    "expected_minutes",
    "haversine_m",
    "judge_visit",
    "judge_visits",
]


class FakeKind(StrEnum):
    """The signs of a fake visit (假维保), as issue 13 names them."""

    NO_INSPECTION_MODE = "no_inspection_mode"
    NORMAL_SERVICE_DURING_VISIT = "normal_service_during_visit"
    TOO_SHORT = "too_short"
    FAR_CHECK_IN = "far_check_in"
    TWO_PLACES_AT_ONCE = "two_places_at_once"
    TERMINAL_OFFLINE = "terminal_offline"


#: The kinds judged from the elevator's IoT terminal: never judged for an elevator without one.
TELEMETRY_KINDS = (
    FakeKind.NO_INSPECTION_MODE,
    FakeKind.NORMAL_SERVICE_DURING_VISIT,
    FakeKind.TERMINAL_OFFLINE,
)


@dataclass(frozen=True)
class FakeSettings:
    """Thresholds of the rules, with the defaults and why (docs/MAINTENANCE.md "Fake maintenance").

    Defaults lean to not flagging: a flag costs a regulator's review and a worker's reputation."""

    #: Less inspection time than this (minutes, inside the visit widened by ``mode_slack_minutes``) is
    #: "never entered inspection mode"; a real visit spends most of its time in it.
    min_inspection_minutes: float = 1.0
    #: The worker may switch to inspection a little before checking in or back after checking out.
    mode_slack_minutes: float = 10.0
    #: First and last minutes of a visit where normal service is expected (passengers riding until the
    #: switch to inspection, test runs after it); normal service is judged on the time between.
    service_grace_minutes: float = 5.0
    #: Normal service on this share of the (online) middle of the visit or more is "kept running normally"
    #: when inspection mode took less than ``token_inspection_share`` of the (online) visit: a real visit
    #: may spend a while in the machine room in normal mode, but not most of it with a token inspection.
    service_share: float = 0.6
    token_inspection_share: float = 0.25
    #: The telemetry kinds are judged only when the terminal was online for this share of the visit.
    judge_online_share: float = 0.5
    #: Minimum minutes of a visit: a fixed part (reaching the machine room, switching modes, the log) ...
    fixed_minutes: float = 5.0
    #: ... plus per item signed, by the evidence it needs (a tick, a photo, a measurement).
    item_minutes: float = 0.45
    photo_minutes: float = 1.0
    measurement_minutes: float = 2.0
    #: A check-in farther than this (metres, straight line) from the elevator is far ...
    far_metres: float = 500.0
    #: ... plus the phone's reported accuracy radius; a fix coarser than this (an indoor Wi-Fi or cell
    #: fix) cannot tell near from far and is not judged.
    coarse_fix_m: float = 500.0
    #: Travel between two sites: straight line at this speed is faster than any real trip across the city.
    travel_kmh: float = 40.0
    #: Late check-outs and clock drift: a gap this much shorter than the travel time is still possible.
    travel_slack_minutes: float = 5.0
    #: Sites closer than this are one site (elevators of one building or estate).
    same_site_m: float = 300.0
    #: Offline for this share of the visit, and at least ``min_offline_minutes``, is "signed while offline".
    offline_share: float = 0.5
    min_offline_minutes: float = 10.0
    #: Only an outage that began at most this long before check-in is tied to the visit; a terminal offline
    #: for longer was already down (its own offline fault stands) and the visit is not judged on it.
    offline_lead_minutes: float = 60.0


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS-84 position; ``accuracy_m`` is the phone's reported accuracy radius, if any."""

    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open time interval [start, end)."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds() / 60.0)


@dataclass(frozen=True, slots=True)
class SignedItem:
    """One catalogue item ticked on the visit (code like "A1-01") and the evidence it carries."""

    code: str
    evidence: Evidence = Evidence.NONE


@dataclass(frozen=True, slots=True)
class Visit:
    """A signed maintenance visit as the work order records it (check-in and check-out, the items)."""

    id: str
    elevator: str  # registration code
    worker: str
    check_in: datetime
    check_out: datetime
    items: tuple[SignedItem, ...]
    check_in_at: Point | None = None
    check_out_at: Point | None = None
    elevator_at: Point | None = None  # the elevator's registered position

    @property
    def minutes(self) -> float:
        return (self.check_out - self.check_in).total_seconds() / 60.0


@dataclass(frozen=True, slots=True)
class Telemetry:
    """What the elevator's terminal said around one visit: the pipeline's summary, spans sorted by start.

    ``window`` is the period summarised (say the visit +- 2 h); ``online`` the terminal's online spans in it;
    ``inspection`` and ``normal`` the spans in inspection (检修) and normal service mode (known only while
    online); ``runs`` the movements in normal service (a lift's trips, an escalator's running periods).
    An elevator without a terminal has no ``Telemetry`` at all (``None``)."""

    window: Span
    online: tuple[Span, ...]
    inspection: tuple[Span, ...] = ()
    normal: tuple[Span, ...] = ()
    runs: tuple[Span, ...] = ()


Value = float | int | str


@dataclass(frozen=True, slots=True)
class Flag:
    """One sign of a fake visit and the numbers that made it (JSON-ready)."""

    kind: FakeKind
    evidence: Mapping[str, Value]


@dataclass(frozen=True, slots=True)
class NotJudged:
    """A kind that could not be judged on this visit, and why (never a flag)."""

    kind: FakeKind
    reason: str


@dataclass(frozen=True, slots=True)
class Judgement:
    visit_id: str
    flags: tuple[Flag, ...] = ()
    not_judged: tuple[NotJudged, ...] = ()

    @property
    def kinds(self) -> frozenset[FakeKind]:
        return frozenset(f.kind for f in self.flags)


# ------------------------------------------------------------------------------------------------ helpers


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _overlap_minutes(spans: Iterable[Span], start: datetime, end: datetime) -> float:
    total = 0.0
    for s in spans:
        if s.end <= start:
            continue
        if s.start >= end:
            break
        total += (min(s.end, end) - max(s.start, start)).total_seconds()
    return total / 60.0


def _intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """The intersection of two sorted, non-overlapping span lists."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if lo < hi:
            out.append(Span(lo, hi))
        if a[i].end <= b[j].end:
            i += 1
        else:
            j += 1
    return out


def expected_minutes(items: Sequence[SignedItem], settings: FakeSettings) -> float:
    """The least time the items signed can take: the fixed part plus each item by its evidence."""
    per = {
        Evidence.NONE: settings.item_minutes,
        Evidence.PHOTO: settings.photo_minutes,
        Evidence.MEASUREMENT: settings.measurement_minutes,
    }
    return settings.fixed_minutes + sum(per.get(i.evidence, settings.item_minutes) for i in items)


def _r(x: float) -> float:
    return round(x, 1)


# ------------------------------------------------------------------------------------------------ rules


def _judge_duration(visit: Visit, s: FakeSettings) -> Flag | None:
    minutes = visit.minutes
    expected = expected_minutes(visit.items, s)
    if minutes >= expected:
        return None
    photos = sum(i.evidence is Evidence.PHOTO for i in visit.items)
    measurements = sum(i.evidence is Evidence.MEASUREMENT for i in visit.items)
    return Flag(
        FakeKind.TOO_SHORT,
        {
            "minutes": _r(max(0.0, minutes)),
            "expected_min": _r(expected),
            "items": len(visit.items),
            "photos": photos,
            "measurements": measurements,
        },
    )


def _judge_position(visit: Visit, s: FakeSettings) -> Flag | NotJudged | None:
    if visit.elevator_at is None:
        return NotJudged(FakeKind.FAR_CHECK_IN, "elevator position unknown")
    if visit.check_in_at is None:
        return NotJudged(FakeKind.FAR_CHECK_IN, "no check-in position")
    metres = haversine_m(visit.check_in_at, visit.elevator_at)
    accuracy = max(visit.check_in_at.accuracy_m or 0.0, 0.0)
    if accuracy > s.coarse_fix_m:
        return NotJudged(FakeKind.FAR_CHECK_IN, f"check-in fix too coarse ({accuracy:.0f} m)")
    limit = s.far_metres + accuracy
    if metres <= limit:
        return None
    evidence: dict[str, Value] = {"metres": round(metres), "limit_m": round(limit)}
    if visit.check_in_at.accuracy_m is not None:
        evidence["accuracy_m"] = round(visit.check_in_at.accuracy_m)
    if visit.check_out_at is not None:
        evidence["check_out_metres"] = round(haversine_m(visit.check_out_at, visit.elevator_at))
    return Flag(FakeKind.FAR_CHECK_IN, evidence)


def _judge_telemetry(visit: Visit, t: Telemetry | None, s: FakeSettings) -> list[Flag | NotJudged]:
    """no_inspection_mode, normal_service_during_visit and terminal_offline, from the terminal's summary."""
    if t is None:
        return [NotJudged(k, "no IoT terminal") for k in TELEMETRY_KINDS]
    ci, co = visit.check_in, visit.check_out
    minutes = visit.minutes
    if minutes <= 0:
        return [NotJudged(k, "check-out not after check-in") for k in TELEMETRY_KINDS]
    out: list[Flag | NotJudged] = []
    online = _overlap_minutes(t.online, ci, co)
    offline = minutes - online
    # When did the outage that covers the visit begin? The end of the last online span before check-in.
    began: datetime | None = None
    for span in t.online:
        if span.start > ci:
            break
        began = span.end
    if began is None or began < t.window.start:
        began = t.window.start  # offline since before the summary's window: long before
    lead = (ci - began).total_seconds() / 60.0 if began <= ci else 0.0
    offline_judged = offline >= s.min_offline_minutes and offline >= s.offline_share * minutes
    if offline_judged and lead > s.offline_lead_minutes:
        out.append(
            NotJudged(FakeKind.TERMINAL_OFFLINE, f"terminal offline since {round(lead)} min before check-in")
        )
    elif offline_judged:
        out.append(
            Flag(
                FakeKind.TERMINAL_OFFLINE,
                {
                    "offline_minutes": _r(offline),
                    "minutes": _r(minutes),
                    "share": round(offline / minutes, 2),
                    "offline_before_check_in_min": _r(lead),
                },
            )
        )
    if online < s.judge_online_share * minutes:
        reason = f"terminal online only {online:.0f} of {minutes:.0f} min"
        out.append(NotJudged(FakeKind.NO_INSPECTION_MODE, reason))
        out.append(NotJudged(FakeKind.NORMAL_SERVICE_DURING_VISIT, reason))
        return out
    slack = timedelta(minutes=s.mode_slack_minutes)
    inspection = _overlap_minutes(t.inspection, ci - slack, co + slack)
    runs = sum(1 for r in t.runs if ci <= r.start < co)
    if inspection < s.min_inspection_minutes:
        out.append(
            Flag(
                FakeKind.NO_INSPECTION_MODE,
                {
                    "inspection_minutes": _r(inspection),
                    "minutes": _r(minutes),
                    "online_minutes": _r(online),
                    "normal_minutes": _r(_overlap_minutes(t.normal, ci, co)),
                    "runs": runs,
                },
            )
        )
        return out  # normal service is judged only when the elevator did enter inspection mode
    grace = timedelta(minutes=s.service_grace_minutes)
    lo, hi = ci + grace, co - grace
    middle_online = _overlap_minutes(t.online, lo, hi) if lo < hi else 0.0
    if middle_online < s.service_grace_minutes:
        out.append(NotJudged(FakeKind.NORMAL_SERVICE_DURING_VISIT, "visit too short to judge the middle"))
        return out
    normal = _overlap_minutes(_intersect(t.normal, t.online), lo, hi)
    token = _overlap_minutes(_intersect(t.inspection, t.online), ci, co) < s.token_inspection_share * online
    if token and normal >= s.service_share * middle_online:
        out.append(
            Flag(
                FakeKind.NORMAL_SERVICE_DURING_VISIT,
                {
                    "normal_minutes": _r(normal),
                    "judged_minutes": _r(middle_online),
                    "share": round(normal / middle_online, 2),
                    "inspection_minutes": _r(inspection),
                    "runs": sum(1 for r in t.runs if lo <= r.start < hi),
                },
            )
        )
    return out


def _site(v: Visit) -> Point | None:
    return v.elevator_at or v.check_in_at


def _conflicts(visits: Sequence[Visit], s: FakeSettings) -> dict[str, list[Flag]]:
    """two_places_at_once over one worker's visits: every pair at different sites whose gap is shorter than
    the fastest possible trip between them (minus the slack). Both visits of a pair are flagged."""
    out: dict[str, list[Flag]] = defaultdict(list)
    ordered = sorted(visits, key=lambda v: (v.check_in, v.id))
    speed_m_per_min = s.travel_kmh * 1000.0 / 60.0
    # a pair farther apart in time than the longest trip can never conflict: look ahead this far only
    horizon = timedelta(hours=4)
    for i, a in enumerate(ordered):
        pa = _site(a)
        if pa is None:
            continue
        for b in ordered[i + 1 :]:
            if b.check_in - a.check_out > horizon:
                break
            pb = _site(b)
            if pb is None or a.elevator == b.elevator:
                continue
            metres = haversine_m(pa, pb)
            if metres < s.same_site_m:
                continue
            # from leaving the first site to reaching the second (negative: the visits overlap)
            gap = (b.check_in - a.check_out).total_seconds() / 60.0
            travel = metres / speed_m_per_min
            if gap >= travel - s.travel_slack_minutes:
                continue
            for this, other in ((a, b), (b, a)):
                out[this.id].append(
                    Flag(
                        FakeKind.TWO_PLACES_AT_ONCE,
                        {
                            "other_visit": other.id,
                            "other_elevator": other.elevator,
                            "km": round(metres / 1000.0, 2),
                            "gap_minutes": _r(gap),
                            "travel_minutes": _r(travel),
                        },
                    )
                )
    return out


# ------------------------------------------------------------------------------------------------ entry


def judge_visit(
    visit: Visit,
    telemetry: Telemetry | None,
    others: Sequence[Visit] = (),
    settings: FakeSettings | None = None,
) -> Judgement:
    """Judge one visit against its elevator's telemetry summary and the same worker's ``others`` visits."""
    s = settings or FakeSettings()
    same_worker = [v for v in others if v.worker == visit.worker and v.id != visit.id]
    pair = _conflicts([visit, *same_worker], s).get(visit.id, [])
    return _assemble(visit, telemetry, pair, s)


def judge_visits(
    visits: Iterable[Visit],
    telemetry: Mapping[str, Telemetry | None],
    settings: FakeSettings | None = None,
) -> list[Judgement]:
    """Judge many visits at once (``telemetry`` by visit id; missing = no terminal), in the input order."""
    s = settings or FakeSettings()
    visits = list(visits)
    by_worker: dict[str, list[Visit]] = defaultdict(list)
    for v in visits:
        by_worker[v.worker].append(v)
    pairs: dict[str, list[Flag]] = {}
    for group in by_worker.values():
        pairs.update(_conflicts(group, s))
    return [_assemble(v, telemetry.get(v.id), pairs.get(v.id, []), s) for v in visits]


def _assemble(visit: Visit, telemetry: Telemetry | None, pair: list[Flag], s: FakeSettings) -> Judgement:
    flags: list[Flag] = []
    not_judged: list[NotJudged] = []
    results: list[Flag | NotJudged | None] = [
        *_judge_telemetry(visit, telemetry, s),
        _judge_duration(visit, s),
        _judge_position(visit, s),
    ]
    for r in results:
        if isinstance(r, Flag):
            flags.append(r)
        elif isinstance(r, NotJudged):
            not_judged.append(r)
    flags.extend(pair)
    return Judgement(visit.id, tuple(flags), tuple(not_judged))
