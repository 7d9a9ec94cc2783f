"""The rating of maintenance units (星级评定, 红黑榜), pure: ``UnitFigures`` in, ``Rating`` out.

Each criterion earns up to its weight in whole points on a line between two levels of its figure (the figure
where it earns everything, ``full``, and where it earns nothing, ``zero``)::

    share  = clamp((value - zero) / (full - zero), 0, 1)    # works both ways: full < zero when less is better
    points = floor(weight * share + 0.5)                   # rounded half up to a whole point

and ``None`` (no case in the period) earns the whole weight. The total is the sum of the whole points, so
the lines sum to it exactly; stars come from the total (``stars_2`` .. ``stars_5``, a threshold is in the
upper star). A hard condition (confirmed fake maintenance above ``fake_black_limit`` per 100 elevators,
arrival on time below ``arrival_floor``) puts the unit on the black list whatever its total and caps its
stars. ``rank_period`` ranks the period's rated units by total and adds the shares: the top ``red_share``
with at least ``red_min_stars`` and no hard condition on the red list, the bottom ``black_share`` with at
most ``black_max_stars`` on the black list. A unit with fewer than ``min_elevators`` is not rated.

A better figure never lowers a line (the line rises towards ``full``, the clamp only flattens it, rounding
half up keeps the order), so never lowers the total or the stars. docs/RATINGS.md has the worked example.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace

from liftwatch.ratings.domain import (
    HIGHER_IS_BETTER,
    Criterion,
    CriterionPoints,
    Listing,
    Rating,
    UnitFigures,
    Why,
    WhyCode,
)

__all__ = ["DEFAULT_SETTINGS", "RatingSettings", "criterion_points", "rank_period", "rate", "stars_of"]


def _w(default: float, why: str) -> float:
    """A setting with its reason (shown in the settings table of docs/OPERATIONS.md)."""
    return field(default=default, metadata={"why": why})


def _half_up(x: float) -> int:
    """Rounded half up; the 9-decimal rounding first keeps 7.5 from becoming 7.4999999 in binary."""
    return math.floor(round(x, 9) + 0.5)


@dataclass(frozen=True)
class RatingSettings:
    """Weights (whole points, 100 in all by default), the levels of each criterion, the star thresholds and
    the list rules. Shares are 0..1; entrapments and complaints per 100 elevators a month; fake maintenance
    per 100 elevators over the period."""

    entrapments_weight: float = _w(20, "most points for few entrapments: the harm the public feels first")
    entrapments_full: float = _w(0.2, "entrapments per 100 elevators a month that still earn every point")
    entrapments_zero: float = _w(1.2, "entrapments per 100 a month that earn none (Huai'an 2023: 1.3)")
    response_weight: float = _w(10, "most points for answering rescue calls in time")
    response_full: float = _w(0.99, "response-on-time share that earns every point (the 99% KPI target)")
    response_zero: float = _w(0.89, "response-on-time share that earns none (ten points below the target)")
    arrival_weight: float = _w(15, "most points for arriving at rescues in time")
    arrival_full: float = _w(0.98, "arrival-on-time share that earns every point (the 98% KPI target)")
    arrival_zero: float = _w(0.88, "arrival-on-time share that earns none (ten points below the target)")
    overdue_weight: float = _w(15, "most points for doing the due work on time (TSG T5002)")
    overdue_full: float = _w(0.02, "share of due work late that still earns every point")
    overdue_zero: float = _w(0.22, "share of due work late that earns none")
    inspection_weight: float = _w(15, "most points for passing inspections at the first attempt")
    inspection_full: float = _w(0.95, "first-attempt pass rate that earns every point (the 95% KPI target)")
    inspection_zero: float = _w(0.75, "first-attempt pass rate that earns none")
    fake_weight: float = _w(15, "most points for no confirmed fake maintenance (假维保)")
    fake_full: float = _w(0, "confirmed fake-maintenance flags per 100 elevators that earn every point")
    fake_zero: float = _w(3, "confirmed flags per 100 elevators in the period that earn none")
    complaints_weight: float = _w(10, "most points for few complaints")
    complaints_full: float = _w(0.5, "complaints per 100 elevators a month that still earn every point")
    complaints_zero: float = _w(2.5, "complaints per 100 elevators a month that earn none")
    stars_2: float = _w(40, "total from which a unit has 2 stars; below it 1")
    stars_3: float = _w(60, "total from which a unit has 3 stars")
    stars_4: float = _w(75, "total from which a unit has 4 stars")
    stars_5: float = _w(90, "total from which a unit has 5 stars: close to every target met")
    min_elevators: float = _w(
        20, "fewer elevators are not rated: a single entrapment would swing the figures"
    )
    fake_black_limit: float = _w(
        1, "confirmed fake-maintenance flags per 100 elevators above which a unit is black-listed"
    )
    arrival_floor: float = _w(0.9, "arrival-on-time share below which a unit is black-listed")
    hard_max_stars: float = _w(1, "most stars of a unit black-listed for a hard condition")
    red_share: float = _w(0.2, "share of the rated units, from the top, that may be on the red list")
    red_min_stars: float = _w(4, "fewest stars for the red list: the top of a weak period is not honoured")
    black_share: float = _w(0.2, "share of the rated units, from the bottom, on the black list")
    black_max_stars: float = _w(
        2, "most stars for the bottom's black list: a good field's last is not shamed"
    )
    on_demand_min_stars: float = _w(
        3, "fewest stars of the latest rating for on-demand maintenance (按需维保): the pass mark, 60 points"
    )

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if not (getattr(self, f.name) >= 0)]  # NaN fails too
        if bad:
            raise ValueError(f"rating settings must not be negative: {', '.join(bad)}")
        problems = []
        for criterion in Criterion:
            weight, full, zero = self.levels(criterion)
            if weight != int(weight):
                problems.append(f"{criterion.value}: the weight must be whole points")
            if (full <= zero) if criterion in HIGHER_IS_BETTER else (full >= zero):
                problems.append(f"{criterion.value}: full ({full}) must be better than zero ({zero})")
        if not 0 < self.stars_2 < self.stars_3 < self.stars_4 < self.stars_5:
            problems.append("need 0 < stars_2 < stars_3 < stars_4 < stars_5")
        for name in ("red_share", "black_share", "arrival_floor"):
            if getattr(self, name) > 1:
                problems.append(f"{name} is a share: at most 1")
        for name in ("hard_max_stars", "red_min_stars", "black_max_stars", "on_demand_min_stars"):
            value = getattr(self, name)
            if value != int(value) or not 1 <= value <= 5:
                problems.append(f"{name} is a number of stars: a whole number from 1 to 5")
        if problems:
            raise ValueError("rating settings: " + "; ".join(problems))

    def levels(self, criterion: Criterion) -> tuple[float, float, float]:
        """(weight, full, zero) of a criterion."""
        prefix = _PREFIX[criterion]
        return (
            getattr(self, f"{prefix}_weight"),
            getattr(self, f"{prefix}_full"),
            getattr(self, f"{prefix}_zero"),
        )


_PREFIX: dict[Criterion, str] = {
    Criterion.ENTRAPMENTS: "entrapments",
    Criterion.RESPONSE_ON_TIME: "response",
    Criterion.ARRIVAL_ON_TIME: "arrival",
    Criterion.OVERDUE_WORK: "overdue",
    Criterion.INSPECTION_PASS: "inspection",
    Criterion.FAKE_MAINTENANCE: "fake",
    Criterion.COMPLAINTS: "complaints",
}

DEFAULT_SETTINGS = RatingSettings()


def criterion_points(
    criterion: Criterion, value: float | None, settings: RatingSettings = DEFAULT_SETTINGS
) -> CriterionPoints:
    """One criterion's line (module docstring); no case in the period (None) earns the whole weight."""
    weight, full, zero = settings.levels(criterion)
    whole = _half_up(weight)
    if value is None:
        return CriterionPoints(criterion, None, whole, whole)
    share = min(1.0, max(0.0, (value - zero) / (full - zero)))
    return CriterionPoints(criterion, value, _half_up(weight * share), whole)


def stars_of(total: float, settings: RatingSettings = DEFAULT_SETTINGS) -> int:
    """1 below ``stars_2`` ... 5 from ``stars_5`` on (a threshold is in the upper star)."""
    thresholds = (settings.stars_2, settings.stars_3, settings.stars_4, settings.stars_5)
    return 1 + sum(1 for t in thresholds if total >= t)


def _hard_conditions(figures: UnitFigures, settings: RatingSettings) -> tuple[Why, ...]:
    why = []
    if figures.fake_flags_per_100 > settings.fake_black_limit:
        why.append(
            Why(
                WhyCode.FAKE_MAINTENANCE,
                {"value": figures.fake_flags_per_100, "limit": settings.fake_black_limit},
            )
        )
    arrival = figures.arrival_on_time_share
    if arrival is not None and arrival < settings.arrival_floor:
        why.append(Why(WhyCode.ARRIVAL_BELOW_FLOOR, {"value": arrival, "floor": settings.arrival_floor}))
    return tuple(why)


def rate(figures: UnitFigures, settings: RatingSettings = DEFAULT_SETTINGS) -> Rating:
    """One unit's lines, total, stars and hard conditions (no rank: that needs the whole period)."""
    if figures.elevators < settings.min_elevators:
        why = Why(WhyCode.TOO_FEW_ELEVATORS, {"elevators": figures.elevators, "min": settings.min_elevators})
        return Rating(figures.unit, figures.elevators, rated=False, why=(why,))
    lines = tuple(criterion_points(c, figures.value(c), settings) for c in Criterion)
    total = sum(line.points for line in lines)
    stars = stars_of(total, settings)
    hard = _hard_conditions(figures, settings)
    if hard:
        stars = min(stars, int(settings.hard_max_stars))
    listing = Listing.BLACK if hard else Listing.NONE
    return Rating(figures.unit, figures.elevators, True, lines, total, stars, None, listing, hard)


def _count(share: float, rated: int) -> int:
    """How many units a share of the rated ones is, rounded half up."""
    return _half_up(share * rated)


def rank_period(units: Iterable[UnitFigures], settings: RatingSettings = DEFAULT_SETTINGS) -> list[Rating]:
    """The period's ratings, best first (then by unit code), the units not rated last.

    Equal totals share a rank (1 + the units with a higher total) and are treated alike at a list's edge: a
    unit is in the top share when fewer than that many units have a higher total, in the bottom share when
    fewer than that many have a lower one."""
    ratings = [rate(f, settings) for f in units]
    rated = [r for r in ratings if r.rated]
    totals = [r.total for r in rated]
    top, bottom = _count(settings.red_share, len(rated)), _count(settings.black_share, len(rated))
    out = []
    for r in rated:
        higher = sum(1 for t in totals if t > r.total)
        lower = sum(1 for t in totals if t < r.total)
        rank = higher + 1
        facts = {"rank": rank, "rated": len(rated)}
        listing, why, stars = r.listing, r.why, r.stars or 0
        if listing is Listing.NONE and lower < bottom and stars <= settings.black_max_stars:
            listing = Listing.BLACK
            why = (Why(WhyCode.BOTTOM_SHARE, {**facts, "share": settings.black_share}),)
        elif listing is Listing.NONE and higher < top and stars >= settings.red_min_stars:
            listing = Listing.RED
            why = (Why(WhyCode.TOP_SHARE, {**facts, "share": settings.red_share}),)
        out.append(replace(r, rank=rank, listing=listing, why=why))
    out.sort(key=lambda r: (r.rank, r.unit))
    return out + sorted((r for r in ratings if not r.rated), key=lambda r: r.unit)
