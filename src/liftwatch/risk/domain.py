"""The risk domain's plain types (风险分级): what is known of an elevator, the factors, the grades.

Pure: the standard library and the registry's place types, no database, no clock. ``ElevatorFacts`` is what
the other domains know of one elevator, already counted (the read module of a later step gathers it from
the registry, telemetry, rescue, maintenance, inspection, hazards and complaints); ``risk/score.py`` turns
it into a ``RiskScore`` whose contributions sum to the score. docs/RISK.md states the rule.

Grades run A (lowest risk) to D (highest), the same direction as the maintenance units' ratings (A best,
``maintenance/plans.py``), so a letter means the same on every screen; each grade is shown in the colour of
the national four-colour risk scheme (低风险 blue, 一般风险 yellow, 较大风险 orange, 重大风险 red).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from liftwatch.registry.domain import PlaceType

__all__ = [
    "GRADE_COLOUR",
    "PLACE_TIER",
    "Colour",
    "Contribution",
    "ElevatorFacts",
    "Factor",
    "Grade",
    "PlaceTier",
    "RiskScore",
]


class Factor(StrEnum):
    """One line of a score's explanation; its value is what the elevator's facts say."""

    AGE = "age"  # years in use (使用年限)
    DESIGN_LIFE_USED = "design_life_used"  # age / design life (设计使用年限), a share
    PLACE = "place"  # the place type's tier (public places first)
    TRAFFIC = "traffic"  # trips a day, from the IoT terminal
    FAULTS_90D = "faults_90d"
    FAULTS_365D = "faults_365d"
    ENTRAPMENTS_90D = "entrapments_90d"  # 困人
    ENTRAPMENTS_365D = "entrapments_365d"
    MAINTENANCE_OVERDUE = "maintenance_overdue"  # days the due visit is late (维保超期)
    INSPECTION_OVERDUE = "inspection_overdue"  # days past the inspection's validity (超期未检)
    NONCONFORMITIES = "nonconformities"  # open inspection non-conformities (检验问题未整改)
    HAZARDS_GENERAL = "hazards_general"  # open general hidden dangers (一般隐患)
    HAZARDS_MAJOR = "hazards_major"  # open major hidden dangers (重大隐患)
    FAKE_MAINTENANCE = "fake_maintenance"  # confirmed fake-maintenance flags (假维保, confirmed)
    COMPLAINTS = "complaints"  # complaints about the elevator (投诉)
    THREE_NO = "three_no"  # 三无电梯: 1 when it is one


class Grade(StrEnum):
    """A = lowest risk ... D = highest (module docstring)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Colour(StrEnum):
    """The four-colour display of a grade (红橙黄蓝)."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


GRADE_COLOUR: dict[Grade, Colour] = {
    Grade.A: Colour.BLUE,
    Grade.B: Colour.YELLOW,
    Grade.C: Colour.ORANGE,
    Grade.D: Colour.RED,
}


class PlaceTier(StrEnum):
    """How many people an accident would reach, and how vulnerable they are."""

    CROWDED = "crowded"  # metro, mall, hospital, school, public building: crowds, the old, the sick, children
    PUBLIC = "public"  # office, hotel: busy, but people who know the building
    OTHER = "other"  # residential and other places


PLACE_TIER: dict[str, PlaceTier] = {
    PlaceType.METRO: PlaceTier.CROWDED,
    PlaceType.MALL: PlaceTier.CROWDED,
    PlaceType.HOSPITAL: PlaceTier.CROWDED,
    PlaceType.SCHOOL: PlaceTier.CROWDED,
    PlaceType.PUBLIC_BUILDING: PlaceTier.CROWDED,
    PlaceType.OFFICE: PlaceTier.PUBLIC,
    PlaceType.HOTEL: PlaceTier.PUBLIC,
    PlaceType.RESIDENTIAL: PlaceTier.OTHER,
    PlaceType.OTHER: PlaceTier.OTHER,
}


@dataclass(frozen=True, slots=True)
class ElevatorFacts:
    """What the platform knows of one elevator on the day of the score, counted.

    Windows end on that day: ``*_90d`` counts the last 90 days, ``*_365d`` the last 365 (the 90 included).
    ``None`` is unknown and scores nothing (an elevator without a terminal has no traffic; a file without a
    commissioning date has no age); an unknown design life is taken as the settings' default."""

    elevator: str  # registration code
    place_type: str = PlaceType.RESIDENTIAL.value
    age_years: float | None = None
    design_life_years: float | None = None
    trips_per_day: float | None = None
    faults_90d: int = 0
    faults_365d: int = 0
    entrapments_90d: int = 0
    entrapments_365d: int = 0
    maintenance_overdue_days: float = 0.0
    inspection_overdue_days: float = 0.0
    open_nonconformities: int = 0
    open_hazards_general: int = 0
    open_hazards_major: int = 0
    confirmed_fake_flags: int = 0  # confirmed by a regulator, last 365 days
    complaints: int = 0  # last 365 days
    three_no: bool = False


Value = float | str | None


class Contribution(NamedTuple):
    """One factor's line: its code, the value it was scored on and the whole points it adds."""

    factor: Factor
    value: Value
    points: int

    def as_dict(self) -> dict[str, Value | int]:
        return {"factor": self.factor.value, "value": self.value, "points": self.points}


@dataclass(frozen=True, slots=True)
class RiskScore:
    """An elevator's score: the sum of its contributions' points (every factor listed, zeros too)."""

    elevator: str
    score: int
    grade: Grade
    contributions: tuple[Contribution, ...]

    @property
    def colour(self) -> Colour:
        return GRADE_COLOUR[self.grade]

    def as_dict(self) -> dict[str, object]:
        """The JSON shape the API and the page will receive."""
        return {
            "elevator": self.elevator,
            "score": self.score,
            "grade": self.grade.value,
            "colour": self.colour.value,
            "contributions": [c.as_dict() for c in self.contributions],
        }
