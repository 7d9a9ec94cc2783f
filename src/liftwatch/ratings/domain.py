"""The ratings domain's plain types (星级评定, 红黑榜): a maintenance unit's figures for one period, the
criteria, the lists, and the rating with the figures behind it.

Pure: the standard library only, no database, no clock. ``UnitFigures`` is what the other domains know of one
unit over one rating period, already counted (a later read module gathers it from maintenance, rescue,
inspection and complaints); ``ratings/rate.py`` turns it into a ``Rating``. docs/RATINGS.md states the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "HIGHER_IS_BETTER",
    "Criterion",
    "CriterionPoints",
    "Listing",
    "Rating",
    "UnitFigures",
    "Why",
    "WhyCode",
]


class Criterion(StrEnum):
    """One line of a rating; its value is one of the unit's figures for the period."""

    ENTRAPMENTS = "entrapments"  # entrapments per 100 elevators a month (故障困人率, DOMAIN.md §6)
    RESPONSE_ON_TIME = "response_on_time"  # share answered within the limit (应急响应率, target 99%)
    ARRIVAL_ON_TIME = "arrival_on_time"  # share arrived within the area's limit (按时到达率, target 98%)
    OVERDUE_WORK = "overdue_work"  # share of the period's due work signed late or not at all (维保超期)
    INSPECTION_PASS = "inspection_pass"  # first-attempt pass rate (检验合格率, target 95%)
    FAKE_MAINTENANCE = "fake_maintenance"  # confirmed fake-maintenance flags per 100 elevators (假维保)
    COMPLAINTS = "complaints"  # complaints per 100 elevators a month (投诉率)


#: the criteria whose figure is a share where more is better; the others are rates where less is better
HIGHER_IS_BETTER = frozenset(
    {Criterion.RESPONSE_ON_TIME, Criterion.ARRIVAL_ON_TIME, Criterion.INSPECTION_PASS}
)


class Listing(StrEnum):
    """The period's public lists (红黑榜)."""

    RED = "red"  # 红榜: the best, with no black-list condition
    BLACK = "black"  # 黑榜: a hard condition, or the bottom of the period
    NONE = "none"


class WhyCode(StrEnum):
    """Why a unit is not rated, or is on a list; ``labels.RATING_WHY`` gives the sentence."""

    TOO_FEW_ELEVATORS = "too_few_elevators"  # {elevators, min}
    FAKE_MAINTENANCE = "fake_maintenance"  # {value, limit}: hard condition
    ARRIVAL_BELOW_FLOOR = "arrival_below_floor"  # {value, floor}: hard condition
    BOTTOM_SHARE = "bottom_share"  # {rank, rated, share}
    TOP_SHARE = "top_share"  # {rank, rated, share}


@dataclass(frozen=True, slots=True)
class Why:
    """A reason as data: its code and the figures it names (the page formats the sentence)."""

    code: WhyCode
    values: Mapping[str, int | float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code.value, **self.values}


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """What the platform counted of one maintenance unit over one rating period.

    Shares are 0..1. Entrapments and complaints are per 100 elevators **a month** (the KPIs' basis, so the
    same thresholds fit a quarter or a half-year); confirmed fake-maintenance flags are per 100 elevators over
    the whole period (rare, and each one is a regulator's finding). ``None`` is "no case in the period" (no
    rescue, no inspection): the criterion is met, a unit is not marked down for an event that never came."""

    unit: str  # the maintenance unit's code
    elevators: int  # elevators under its maintenance contracts in the period
    entrapments_per_100: float = 0.0
    response_on_time_share: float | None = None
    arrival_on_time_share: float | None = None
    overdue_work_share: float = 0.0
    inspection_pass_rate: float | None = None
    fake_flags_per_100: float = 0.0
    complaints_per_100: float = 0.0

    def value(self, criterion: Criterion) -> float | None:
        """The figure a criterion is rated on."""
        return {
            Criterion.ENTRAPMENTS: self.entrapments_per_100,
            Criterion.RESPONSE_ON_TIME: self.response_on_time_share,
            Criterion.ARRIVAL_ON_TIME: self.arrival_on_time_share,
            Criterion.OVERDUE_WORK: self.overdue_work_share,
            Criterion.INSPECTION_PASS: self.inspection_pass_rate,
            Criterion.FAKE_MAINTENANCE: self.fake_flags_per_100,
            Criterion.COMPLAINTS: self.complaints_per_100,
        }[criterion]


class CriterionPoints(NamedTuple):
    """One criterion's line: the figure it was rated on, the whole points it earned, and its weight."""

    criterion: Criterion
    value: float | None
    points: int
    weight: int

    def as_dict(self) -> dict[str, object]:
        return {
            "criterion": self.criterion.value,
            "value": self.value,
            "points": self.points,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True)
class Rating:
    """A unit's rating for a period. ``total`` is the sum of the lines' points; ``stars`` (1-5) and ``rank``
    (1 = best; equal totals share a rank) are None when the unit is not rated, and ``why`` says why."""

    unit: str
    elevators: int
    rated: bool
    lines: tuple[CriterionPoints, ...] = ()
    total: int = 0
    stars: int | None = None
    rank: int | None = None
    listing: Listing = Listing.NONE
    why: tuple[Why, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The JSON shape the API and the page will receive."""
        return {
            "unit": self.unit,
            "elevators": self.elevators,
            "rated": self.rated,
            "total": self.total,
            "stars": self.stars,
            "rank": self.rank,
            "listing": self.listing.value,
            "lines": [line.as_dict() for line in self.lines],
            "why": [w.as_dict() for w in self.why],
        }
