"""Plain data the rescue algorithms work on (no SQL, no HTTP): incidents as the KPI formulas see them,
crews and incidents as the dispatcher and the surge planner see them, and the travel-time estimator."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar


class Source(StrEnum):
    PHONE = "phone"  # 96333 call
    IOT = "iot"  # entrapment detected by the terminal
    ALARM_BUTTON = "alarm_button"
    PUBLIC = "public"  # public report (app, WeChat)
    TRANSFER = "transfer"  # from 110 / 119 / 12345


class Level(StrEnum):
    """Three-level response (三级响应)."""

    L1 = "L1"  # the contracted maintenance unit
    L2 = "L2"  # a public rescue station / property / another unit
    L3 = "L3"  # fire service / police


class Cause(StrEnum):
    MISUSE = "misuse"
    ELECTRO_MECHANICAL = "electro_mechanical"
    POWER_CUT = "power_cut"
    OTHER = "other"


@dataclass(frozen=True)
class DispatchRecord:
    """One dispatch of an incident as the KPI formulas see it: who was sent at which level, and what that
    crew did. ``withdrawn_early``: the centre took it back before its acknowledgement limit (a surge re-plan,
    a re-dispatch), so the unit had no chance to answer and the response rate looks at the next one."""

    level: Level
    unit: str
    dispatched_at: datetime
    acknowledged_at: datetime | None = None
    arrived_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by_centre: bool = False


@dataclass(frozen=True)
class IncidentRecord:
    """One incident as the KPI formulas see it (docs/KPIS.md). Times are timezone-aware UTC."""

    id: int
    registration_code: str
    district: str
    street: str
    maintenance_unit: str  # code of the contracted maintenance unit
    place_type: str
    source: Source
    level: Level  # the highest level it reached
    alarm_at: datetime
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    released_at: datetime | None
    completed_at: datetime | None
    false_alarm: bool
    all_released: bool  # everyone trapped was released (rescue success)
    arrival_limit_min: int  # 30 in city districts, 60 elsewhere (TSG T5002)
    cause: Cause | None = None
    # Every dispatch, first first (empty for records made before dispatches were kept: the formulas then
    # read dispatched_at / acknowledged_at above, which are the first dispatch and the first answer).
    dispatches: tuple[DispatchRecord, ...] = ()
    closed_at: datetime | None = None  # when the case ended (completed, self-released, cancelled, false)
    cancelled: bool = False  # the call was cancelled: no entrapment confirmed (left out like a false alarm)
    self_released: bool = False  # 自行脱困: out before any crew arrived
    callback_at: datetime | None = None  # the operator's call-back (回访)


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    r = 6371.0
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp = p2 - p1
    dl = math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


class TravelEstimator(Protocol):
    def seconds(self, origin: GeoPoint, destination: GeoPoint) -> float: ...


@dataclass(frozen=True)
class RoadFactorEstimator:
    """Default estimator: straight-line distance x a road factor, at an average urban speed."""

    road_factor: float = 1.4
    speed_kmh: float = 25.0

    def seconds(self, origin: GeoPoint, destination: GeoPoint) -> float:
        return haversine_km(origin, destination) * self.road_factor / self.speed_kmh * 3600


@dataclass(frozen=True)
class CrewState:
    """A crew for planning: where it is and from when it is free (seconds on the plan's clock)."""

    id: str
    unit: str
    position: GeoPoint
    free_at_s: float = 0.0


@dataclass(frozen=True)
class OpenIncident:
    """An incident waiting for a crew: where, and when the alarm came (seconds on the plan's clock)."""

    id: str
    position: GeoPoint
    alarm_s: float
    maintenance_unit: str = ""  # code of the contracted maintenance unit ("": not known)
    arrival_limit_s: float = 1800.0  # arrival deadline after the alarm: 30 min in city districts (TSG T5002)


@dataclass(frozen=True)
class Assignment:
    incident_id: str
    crew_id: str
    start_s: float  # when the crew leaves for it
    arrival_s: float  # when it arrives


class IncidentStatus(StrEnum):
    RAISED = "raised"  # alarm received, no crew yet
    DISPATCHED = "dispatched"  # sent to a unit / crew
    ACKNOWLEDGED = "acknowledged"  # the crew answered
    ARRIVED = "arrived"
    RELEASED = "released"  # the trapped persons are out
    COMPLETED = "completed"  # cause reported, case closed
    FALSE_ALARM = "false_alarm"  # nobody was trapped (a reason is required)
    SELF_RELEASED = "self_released"  # 自行脱困: the passengers got out before any crew arrived
    CANCELLED = "cancelled"  # the caller cancelled the call


CLOSED_STATUSES = frozenset(
    {
        IncidentStatus.COMPLETED,
        IncidentStatus.FALSE_ALARM,
        IncidentStatus.SELF_RELEASED,
        IncidentStatus.CANCELLED,
    }
)


OPEN_STATUSES = frozenset(
    {IncidentStatus.RAISED, IncidentStatus.DISPATCHED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ARRIVED}
)


# ---------------------------------------------------------------- the console's board: most urgent first


@dataclass(frozen=True)
class Urgency:
    """What decides an incident's place on the operator's board. ``trapped``: someone may still be in the
    car (not released, and the number trapped is not known to be 0: an entrapment alarm says someone is
    inside until told otherwise). ``overdue``: a stage is past its deadline (acknowledgement, arrival) or
    the incident is stale (open past the closing limit)."""

    trapped: bool
    overdue: bool
    alarm_at: datetime


_T = TypeVar("_T")


def urgency_rank(u: Urgency) -> int:
    """0 overdue with someone trapped, 1 overdue, 2 someone trapped, 3 the rest (released, awaiting the
    cause report, or nobody trapped)."""
    if u.overdue:
        return 0 if u.trapped else 1
    return 2 if u.trapped else 3


def most_urgent_first(items: Sequence[_T], urgency: Callable[[_T], Urgency]) -> list[_T]:
    """The board's order: by :func:`urgency_rank`, then the newest alarm first (a new alarm lands at the
    top of its rank, never at the bottom of the board). Stable for equal alarm times."""
    keyed = [(urgency(item), n, item) for n, item in enumerate(items)]
    keyed.sort(key=lambda k: (urgency_rank(k[0]), -k[0].alarm_at.timestamp(), k[1]))
    return [item for _, _, item in keyed]


# ---------------------------------------------------------------- call-back numbers

_PHONE_FILLER = re.compile(r"[\s\-()（）\u2010-\u2015\u3000]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")


def normalise_phone(text: str) -> str:
    """A call-back number as the centre dials it, or ValueError. A mainland mobile (1[3-9] + 9 digits), or
    a landline with its area code (010, 02x: 3 digits; others 4) and a 7- or 8-digit local number, with or
    without +86 / 0086; spaces, dashes and brackets are allowed and dropped. Mobiles come back as 11 digits,
    landlines as ``area-local`` (``021-55551234``). Empty stays empty (the number is optional)."""
    raw = _PHONE_FILLER.sub("", text.strip().translate(_FULL_WIDTH))
    if not raw:
        return ""
    international = raw.startswith(("+86", "0086"))
    digits = raw.removeprefix("+86") if raw.startswith("+86") else raw.removeprefix("0086")
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("not a phone number: digits, spaces and dashes only (13800000000, 021-55551234)")
    if _MOBILE.fullmatch(digits):
        return digits
    if international and not digits.startswith("0"):
        digits = "0" + digits  # +86 21 5555 1234: the area code without its trunk 0
    if _LANDLINE.fullmatch(digits):
        area = 3 if digits[1] in "12" else 4
        local = digits[area:]
        if 7 <= len(local) <= 8:
            return f"{digits[:area]}-{local}"
    raise ValueError(
        "not a mainland mobile (11 digits from 13) or a landline with its area code (021-55551234)"
    )


_FULL_WIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＋－"}
