"""The risk score of an elevator (风险分级), pure: ``ElevatorFacts`` in, ``RiskScore`` out.

Every factor but the place is one capped line over its value ``v`` (docs/RISK.md)::

    raw = 0                                   when v <= free
    raw = min(cap, step + per * (v - free))   when v >  free
    points = floor(raw + 0.5)                 rounded half up to a whole point

and the place adds the points of its tier (``PLACE_TIER``). The score is the sum of the factors' whole
points, so the explanation sums to the score exactly; the grade is A below ``grade_b`` points, B below
``grade_c``, C below ``grade_d``, D from ``grade_d`` on. Each line never decreases as its value rises
(``per`` and ``step`` are not negative, the cap only flattens it, rounding half up keeps the order), so more
faults, more days overdue or an older elevator never lower a score.

``RiskSettings`` holds every weight, cap and threshold with its reason; the wiring reads them once from
``LIFTWATCH_RISK_*`` (``risk/settings.py``) and passes them in. ``score_many`` scores a whole city with
the settings prepared once (bench/risk.py: 300,000 elevators).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import NamedTuple

from liftwatch.risk.domain import (
    PLACE_TIER,
    Contribution,
    ElevatorFacts,
    Factor,
    Grade,
    PlaceTier,
    RiskScore,
)

__all__ = ["Curve", "RiskSettings", "Scorer", "grade_of", "score", "score_many"]


def _w(default: float, why: str) -> float:
    """A setting with its reason (shown in the settings table of docs/OPERATIONS.md)."""
    return field(default=default, metadata={"why": why})


@dataclass(frozen=True)
class RiskSettings:
    """Weights, caps and grade thresholds of the score, in points. The defaults put a well-kept residential
    elevator in A, and one with confirmed fake maintenance, overdue work and frequent faults in C or D."""

    age_free_years: float = _w(10, "years in use that add nothing (a young lift's wear is not a risk)")
    age_per_year: float = _w(0.4, "points per year in use beyond the free years (wear, older standards)")
    age_cap: float = _w(
        6, "most points age adds (reached at 25 years; design life weighs the same wear again)"
    )
    design_life_default_years: float = _w(
        20, "design life taken when the elevator file lacks one (the commonest registered value)"
    )
    design_life_free_share: float = _w(0.8, "share of the design life used that adds nothing")
    design_life_per_10pct: float = _w(2, "points per 10% of the design life used beyond the free share")
    design_life_cap: float = _w(6, "most points design life adds (reached at 110% used)")
    place_crowded: float = _w(
        4,
        "metro, mall, hospital, school, public building: crowds and vulnerable people (public places first)",
    )
    place_public: float = _w(3, "office and hotel: busy, but people who know the building")
    place_other: float = _w(1, "residential and other places")
    traffic_per_1000_trips: float = _w(1.5, "points per 1,000 trips a day (wear and people exposed)")
    traffic_cap: float = _w(6, "most points traffic adds (4,000 trips a day, a busy office lift)")
    faults_90d_per: float = _w(1.5, "points per fault in the last 90 days (a recent fault counts again)")
    faults_90d_cap: float = _w(12, "most points recent faults add")
    faults_365d_free: float = _w(5, "faults a year that add nothing (an average lift stops 4-6 times)")
    faults_365d_per: float = _w(1, "points per fault in the last 365 days beyond the free ones")
    faults_365d_cap: float = _w(10, "most points the year's faults add (15 faults)")
    entrapments_90d_per: float = _w(4, "points per entrapment in the last 90 days (0.11 a year is usual)")
    entrapments_90d_cap: float = _w(12, "most points recent entrapments add")
    entrapments_365d_per: float = _w(2, "points per entrapment in the last 365 days")
    entrapments_365d_cap: float = _w(8, "most points the year's entrapments add")
    maintenance_overdue_per_day: float = _w(
        0.4, "points per day the due maintenance visit is late (TSG T5002: at most 15 days apart)"
    )
    maintenance_overdue_cap: float = _w(12, "most points overdue maintenance adds (30 days late)")
    inspection_overdue_step: float = _w(
        5, "points from the first day past the inspection's validity (unlawful use)"
    )
    inspection_overdue_per_day: float = _w(0.05, "points per day past the inspection's validity")
    inspection_overdue_cap: float = _w(10, "most points an overdue inspection adds (100 days)")
    nonconformities_per: float = _w(2, "points per open inspection non-conformity")
    nonconformities_cap: float = _w(8, "most points open non-conformities add")
    hazards_general_per: float = _w(4, "points per open general hidden danger (一般隐患)")
    hazards_general_cap: float = _w(12, "most points open general hidden dangers add")
    hazards_major_per: float = _w(
        20, "points per open major hidden danger (重大隐患): one alone makes grade C"
    )
    hazards_major_cap: float = _w(40, "most points open major hidden dangers add")
    fake_maintenance_per: float = _w(8, "points per confirmed fake-maintenance flag in the last 365 days")
    fake_maintenance_cap: float = _w(24, "most points confirmed fake maintenance adds")
    complaints_per: float = _w(1.5, "points per complaint about the elevator in the last 365 days")
    complaints_cap: float = _w(6, "most points complaints add")
    three_no_points: float = _w(8, "a three-no elevator (三无电梯): nobody manages, maintains or pays for it")
    grade_b: float = _w(10, "score from which an elevator is B (yellow); below it A (blue)")
    grade_c: float = _w(20, "score from which an elevator is C (orange)")
    grade_d: float = _w(35, "score from which an elevator is D (red)")

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if not (getattr(self, f.name) >= 0)]  # NaN fails too
        if bad:
            raise ValueError(f"risk settings must not be negative: {', '.join(bad)}")
        if self.design_life_default_years <= 0:
            raise ValueError("risk settings: design_life_default_years must be positive")
        if not 0 < self.grade_b < self.grade_c < self.grade_d:
            raise ValueError(
                f"risk settings: need 0 < grade_b ({self.grade_b}) < grade_c ({self.grade_c}) "
                f"< grade_d ({self.grade_d})"
            )


DEFAULT_SETTINGS = RiskSettings()


class Curve(NamedTuple):
    """One factor's capped line (module docstring)."""

    free: float
    step: float
    per: float
    cap: float

    def points(self, value: float) -> int:
        if value <= self.free:
            return 0
        return math.floor(min(self.cap, self.step + self.per * (value - self.free)) + 0.5)


def _curves(s: RiskSettings) -> dict[Factor, Curve]:
    return {
        Factor.AGE: Curve(s.age_free_years, 0.0, s.age_per_year, s.age_cap),
        Factor.DESIGN_LIFE_USED: Curve(
            s.design_life_free_share, 0.0, s.design_life_per_10pct * 10, s.design_life_cap
        ),
        Factor.TRAFFIC: Curve(0.0, 0.0, s.traffic_per_1000_trips / 1000, s.traffic_cap),
        Factor.FAULTS_90D: Curve(0.0, 0.0, s.faults_90d_per, s.faults_90d_cap),
        Factor.FAULTS_365D: Curve(s.faults_365d_free, 0.0, s.faults_365d_per, s.faults_365d_cap),
        Factor.ENTRAPMENTS_90D: Curve(0.0, 0.0, s.entrapments_90d_per, s.entrapments_90d_cap),
        Factor.ENTRAPMENTS_365D: Curve(0.0, 0.0, s.entrapments_365d_per, s.entrapments_365d_cap),
        Factor.MAINTENANCE_OVERDUE: Curve(0.0, 0.0, s.maintenance_overdue_per_day, s.maintenance_overdue_cap),
        Factor.INSPECTION_OVERDUE: Curve(
            0.0, s.inspection_overdue_step, s.inspection_overdue_per_day, s.inspection_overdue_cap
        ),
        Factor.NONCONFORMITIES: Curve(0.0, 0.0, s.nonconformities_per, s.nonconformities_cap),
        Factor.HAZARDS_GENERAL: Curve(0.0, 0.0, s.hazards_general_per, s.hazards_general_cap),
        Factor.HAZARDS_MAJOR: Curve(0.0, 0.0, s.hazards_major_per, s.hazards_major_cap),
        Factor.FAKE_MAINTENANCE: Curve(0.0, 0.0, s.fake_maintenance_per, s.fake_maintenance_cap),
        Factor.COMPLAINTS: Curve(0.0, 0.0, s.complaints_per, s.complaints_cap),
        Factor.THREE_NO: Curve(0.0, s.three_no_points, 0.0, s.three_no_points),
    }


def grade_of(points: float, settings: RiskSettings = DEFAULT_SETTINGS) -> Grade:
    """A below ``grade_b``, B below ``grade_c``, C below ``grade_d``, else D (a threshold is in the upper
    grade: a score equal to ``grade_d`` is D)."""
    if points >= settings.grade_d:
        return Grade.D
    if points >= settings.grade_c:
        return Grade.C
    if points >= settings.grade_b:
        return Grade.B
    return Grade.A


_Getter = Callable[[ElevatorFacts], float | None]

#: Where each counted factor's value comes from (attrgetter: a C call, not a lambda, per factor and elevator);
#: the design life's share is computed by the scorer.
_VALUES: tuple[tuple[Factor, _Getter], ...] = (
    (Factor.TRAFFIC, attrgetter("trips_per_day")),
    (Factor.FAULTS_90D, attrgetter("faults_90d")),
    (Factor.FAULTS_365D, attrgetter("faults_365d")),
    (Factor.ENTRAPMENTS_90D, attrgetter("entrapments_90d")),
    (Factor.ENTRAPMENTS_365D, attrgetter("entrapments_365d")),
    (Factor.MAINTENANCE_OVERDUE, attrgetter("maintenance_overdue_days")),
    (Factor.INSPECTION_OVERDUE, attrgetter("inspection_overdue_days")),
    (Factor.NONCONFORMITIES, attrgetter("open_nonconformities")),
    (Factor.HAZARDS_GENERAL, attrgetter("open_hazards_general")),
    (Factor.HAZARDS_MAJOR, attrgetter("open_hazards_major")),
    (Factor.FAKE_MAINTENANCE, attrgetter("confirmed_fake_flags")),
    (Factor.COMPLAINTS, attrgetter("complaints")),
    (Factor.THREE_NO, lambda f: 1 if f.three_no else 0),
)


class Scorer:
    """The settings prepared once (curves, tier points) for scoring many elevators."""

    def __init__(self, settings: RiskSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        curves = _curves(settings)
        self._age = curves[Factor.AGE]
        self._life = curves[Factor.DESIGN_LIFE_USED]
        self._counted = tuple((factor, getter, curves[factor]) for factor, getter in _VALUES)
        tier_points = {
            PlaceTier.CROWDED: settings.place_crowded,
            PlaceTier.PUBLIC: settings.place_public,
            PlaceTier.OTHER: settings.place_other,
        }
        self._place = {place: math.floor(tier_points[tier] + 0.5) for place, tier in PLACE_TIER.items()}
        self._place_other = math.floor(settings.place_other + 0.5)
        self._default_life = settings.design_life_default_years
        self._thresholds = (settings.grade_b, settings.grade_c, settings.grade_d)

    def score(self, facts: ElevatorFacts) -> RiskScore:
        """Every factor's line, in ``Factor`` order, and their sum."""
        age = facts.age_years
        if age is None:
            lines = [
                Contribution(Factor.AGE, None, 0),
                Contribution(Factor.DESIGN_LIFE_USED, None, 0),
            ]
        else:
            used = round(age / (facts.design_life_years or self._default_life), 3)
            lines = [
                Contribution(Factor.AGE, age, self._age.points(age)),
                Contribution(Factor.DESIGN_LIFE_USED, used, self._life.points(used)),
            ]
        place = facts.place_type
        lines.append(Contribution(Factor.PLACE, place, self._place.get(place, self._place_other)))
        for factor, getter, curve in self._counted:
            value = getter(facts)
            # most counts are zero, which no curve scores (settings are never negative): skip the call
            lines.append(Contribution(factor, value, curve.points(value) if value else 0))
        total = sum(line.points for line in lines)
        b, c, d = self._thresholds
        grade = Grade.D if total >= d else Grade.C if total >= c else Grade.B if total >= b else Grade.A
        return RiskScore(facts.elevator, total, grade, tuple(lines))


def score(facts: ElevatorFacts, settings: RiskSettings = DEFAULT_SETTINGS) -> RiskScore:
    """One elevator's score with its explanation."""
    return Scorer(settings).score(facts)


def score_many(facts: Iterable[ElevatorFacts], settings: RiskSettings = DEFAULT_SETTINGS) -> list[RiskScore]:
    """A whole city's scores, the settings prepared once: the full recomputation."""
    scorer = Scorer(settings)
    return [scorer.score(f) for f in facts]
