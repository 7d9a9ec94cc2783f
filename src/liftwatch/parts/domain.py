"""The rules of main parts (主要部件) and recalls (召回), pure: which parts an elevator of a kind has, how
worn a part is against its design life in years or cycles, how many cycles it has run from the terminal's
counters, and whether a serial number lies in a recall's range. No SQL, no HTTP.

Design life (设计使用年限) is the manufacturer's figure, in years, in cycles, or both; whichever is reached
first ends it (DOMAIN.md section 1: "design life of the elevator and its main parts (in years or
cycles)"). A part is near its end from ``near_share`` of either figure on (a setting)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class PartKind(StrEnum):
    """The main parts the platform tracks (GB/T 7588 safety components and the parts that wear)."""

    TRACTION_MACHINE = "traction_machine"  # 曳引机 (an escalator's 驱动主机)
    CONTROLLER = "controller"  # 控制柜
    SAFETY_GEAR = "safety_gear"  # 安全钳
    OVERSPEED_GOVERNOR = "overspeed_governor"  # 限速器
    DOOR_SYSTEM = "door_system"  # 门系统 (门机)
    ROPES = "ropes"  # 曳引钢丝绳 (the set)
    BRAKE = "brake"  # 制动器
    STEPS = "steps"  # 梯级 (the set; escalators and moving walks)
    STEP_CHAIN = "step_chain"  # 梯级链


ESCALATOR_KINDS = frozenset({"escalator", "moving_walk"})
_LIFT_ONLY = frozenset(
    {PartKind.SAFETY_GEAR, PartKind.OVERSPEED_GOVERNOR, PartKind.DOOR_SYSTEM, PartKind.ROPES}
)
_ESCALATOR_ONLY = frozenset({PartKind.STEPS, PartKind.STEP_CHAIN})


def kinds_for(elevator_kind: str) -> tuple[PartKind, ...]:
    """The part kinds an elevator of this registry kind (an ``ElevatorKind`` value) has, in the enum's
    order: escalators and moving walks have steps and a step chain but no safety gear, governor, car door
    or ropes; lifts the other way round."""
    left_out = _LIFT_ONLY if elevator_kind in ESCALATOR_KINDS else _ESCALATOR_ONLY
    return tuple(k for k in PartKind if k not in left_out)


class Counter(StrEnum):
    """Which of the terminal's counters counts a part's cycles: the door system opens and closes, every
    other part runs once a trip."""

    TRIPS = "trips"
    DOOR_CYCLES = "door_cycles"


def counter_of(kind: PartKind) -> Counter:
    return Counter.DOOR_CYCLES if kind is PartKind.DOOR_SYSTEM else Counter.TRIPS


class Wear(StrEnum):
    """How far a part is through its design life."""

    OK = "ok"
    NEAR = "near"  # from near_share of its design life on (临近设计使用年限)
    PAST = "past"  # reached or beyond it (超过设计使用年限)
    UNKNOWN = "unknown"  # no figure to judge by: a cycles-only life and no counter heard


@dataclass(frozen=True)
class Reading:
    """A counter's value at a moment."""

    at: datetime
    value: int


@dataclass(frozen=True)
class Cycles:
    """The cycles a part has run: ``estimated`` when its counter at installation was not recorded, so the
    count was interpolated from the terminal's readings."""

    used: int
    estimated: bool
    since: date  # the day counting starts from (the installation)


def cycles_used(
    installed_at: datetime, at_install: int | None, first: Reading | None, now: Reading | None
) -> Cycles | None:
    """The cycles run since ``installed_at``: the counter now less its value at installation when that was
    recorded; otherwise the counter is taken as running at a steady rate between the terminal's first
    reading and now, which gives its value at installation by interpolation (before the first reading:
    extrapolation). None: the counter was never heard, or only once and not at installation.

    A counter lower now than at installation means the terminal (or its counter) was replaced: the
    recorded value is then no basis and the estimate is used."""
    if now is None:
        return None
    since = installed_at.date()
    if at_install is not None and now.value >= at_install:
        return Cycles(now.value - at_install, False, since)
    if first is None or now.at <= first.at or now.value < first.value:
        return None
    rate = (now.value - first.value) / (now.at - first.at).total_seconds()
    used = round(rate * max(0.0, (now.at - installed_at).total_seconds()))
    return Cycles(used, True, since)


@dataclass(frozen=True)
class Life:
    """A part's design life: years, cycles, or both (at least one)."""

    years: int | None
    cycles: int | None


@dataclass(frozen=True)
class Assessment:
    """A part against its design life: ``state``, the share of life used by years and by cycles (None:
    not judged by that figure), and the day the years run out (None: no life in years)."""

    state: Wear
    years_share: float | None
    cycles_share: float | None
    end_of_life_on: date | None


def end_of_life(installed_on: date, years: int | None) -> date | None:
    """The day the design life in years runs out (29 February moves to 28 February)."""
    if years is None:
        return None
    try:
        return installed_on.replace(year=installed_on.year + years)
    except ValueError:
        return installed_on.replace(year=installed_on.year + years, day=28)


def assess(
    life: Life, installed_on: date, today: date, cycles: Cycles | None, near_share: float
) -> Assessment:
    """Wear of a part: past once either figure is reached, near from ``near_share`` of either, unknown when
    neither can be judged."""
    ends = end_of_life(installed_on, life.years)
    years_share = None
    if ends is not None:
        span = (ends - installed_on).days
        years_share = (today - installed_on).days / span if span > 0 else 1.0
    cycles_share = None
    if life.cycles and cycles is not None:
        cycles_share = cycles.used / life.cycles
    shares = [s for s in (years_share, cycles_share) if s is not None]
    if not shares:
        return Assessment(Wear.UNKNOWN, None, None, ends)
    top = max(shares)
    state = Wear.PAST if top >= 1 else Wear.NEAR if top >= near_share else Wear.OK
    return Assessment(state, years_share, cycles_share, ends)


# ---------------------------------------------------------------- recalls

_SPACE = re.compile(r"\s+")
_TAIL = re.compile(r"^(.*?)(\d+)$")


def key(text: str) -> str:
    """A manufacturer's name, a model or a serial as compared: full-width forms folded (NFKC), case and
    spaces ignored, so "ＧＴＷ-２  a" and "gtw-2a" are the same model."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).upper()


def _split(serial: str) -> tuple[str, int] | None:
    m = _TAIL.match(serial)
    return (m.group(1), int(m.group(2))) if m else None


def in_serial_range(serial: str, first: str, last: str) -> bool:
    """Whether ``serial`` lies in [first, last], as keys. Serials that share their prefix with both ends
    and end in digits compare by that number (so "TM-999" < "TM-1000" even if padded differently);
    others compare as text."""
    s, lo, hi = key(serial), key(first), key(last)
    a, b, c = _split(s), _split(lo), _split(hi)
    if a is not None and b is not None and c is not None and a[0] == b[0] == c[0]:
        return b[1] <= a[1] <= c[1]
    return lo <= s <= hi


def range_error(first: str, last: str) -> str | None:
    """Why ``first``..``last`` is no serial range (None: it is one)."""
    lo, hi = key(first), key(last)
    if not lo or not hi:
        return "a serial range names its first and last serial"
    if not in_serial_range(lo, lo, hi) or not in_serial_range(hi, lo, hi):
        return f"the first serial '{first}' comes after the last '{last}'"
    return None
