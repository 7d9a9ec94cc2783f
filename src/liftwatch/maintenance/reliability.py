"""MTBF and MTTR (平均故障间隔时间 / 平均修复时间) of an elevator or a maintenance unit over a period: the
project's own definitions (no national one exists; docs/MAINTENANCE.md, "Reliability"), as pure formulas
over plain numbers, so the planner, the elevator file and a report compute them alike.

* **MTBF** = hours in service in the period / failures in the period. Failures are the elevator's own
  faults as its IoT terminal reported them (entrapments and alarm presses left out there and counted once,
  as their 96333 incidents; a terminal offline, a clock skew or a power cut are not the elevator failing)
  plus its incidents. A unit's MTBF pools its elevators: their hours summed over their failures summed (not
  the mean of per-elevator MTBFs, which a single quiet elevator would blow up). No failure: no MTBF (None;
  the screen says "no failure in the period"), never an infinite number.
* **MTTR** = the mean of (worker signed - work order opened) over the corrective work orders signed in the
  period. The order opens when the fault or the call arrives, so this is the time from failure to a signed
  repair. Left out: cancelled and unsigned orders (no repair yet), rectifications after an inspection and
  hazards (due by a date the inspection body set, not a breakdown: they would measure the deadline, not the
  repair), and a negative duration (a clock error).

Pure: the standard library only (the ``pure-plans`` import contract lists this module).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

HOUR_S = 3600.0


@dataclass(frozen=True)
class ElevatorPeriod:
    """What one elevator did in the period: hours in service and failures (faults + incidents)."""

    registration_code: str
    service_hours: float
    faults: int = 0  # the terminal's own faults (entrapments, alarms, offline, clock, power left out)
    incidents: int = 0  # 96333 incidents: entrapments and alarm calls, each once

    @property
    def failures(self) -> int:
        return self.faults + self.incidents


@dataclass(frozen=True)
class Repair:
    """One corrective work order: opened (the failure reported) and signed by the worker (repaired)."""

    opened_at: datetime
    repaired_at: datetime

    @property
    def hours(self) -> float:
        return (self.repaired_at - self.opened_at).total_seconds() / HOUR_S


@dataclass(frozen=True)
class Reliability:
    """MTBF and MTTR with what they were computed from (so a screen can show the working)."""

    elevators: int
    service_hours: float
    failures: int
    mtbf_h: float | None  # None: no failure in the period
    repairs: int
    mttr_h: float | None  # None: no signed repair in the period


def service_hours(start: datetime, end: datetime, in_service_from: datetime | None = None) -> float:
    """Hours of [start, end) the elevator was in service: from ``in_service_from`` when it came into
    service inside the period; 0 when it came after the period or the period is empty."""
    begin = max(start, in_service_from) if in_service_from is not None else start
    return max(0.0, (end - begin).total_seconds() / HOUR_S)


def mtbf_hours(hours: float, failures: int) -> float | None:
    """Hours in service per failure; None without a failure (or without hours)."""
    if failures <= 0 or hours <= 0:
        return None
    return hours / failures


def mttr_hours(repairs: Iterable[Repair]) -> float | None:
    """The mean repair time in hours; a negative duration (a clock error) is left out. None: no repair."""
    durations = [r.hours for r in repairs if r.hours >= 0]
    if not durations:
        return None
    return sum(durations) / len(durations)


def reliability(periods: Sequence[ElevatorPeriod], repairs: Sequence[Repair]) -> Reliability:
    """One elevator's or a unit's figures: hours and failures pooled over ``periods``, repairs averaged."""
    hours = sum(p.service_hours for p in periods)
    failures = sum(p.failures for p in periods)
    counted = [r for r in repairs if r.hours >= 0]
    return Reliability(
        elevators=len(periods),
        service_hours=hours,
        failures=failures,
        mtbf_h=mtbf_hours(hours, failures),
        repairs=len(counted),
        mttr_h=mttr_hours(counted),
    )
