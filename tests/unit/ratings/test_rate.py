"""The rating of maintenance units (星级评定, 红黑榜, pure): a hand-made period of six units whose points,
stars, ranks and lists are worked out by hand below (the worked example of docs/RATINGS.md), monotone in
every criterion, the settings (and the environment) change the result, the not-rated case, every label in
both languages."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from liftwatch.core.config import LANGUAGES
from liftwatch.ratings import labels
from liftwatch.ratings.domain import (
    HIGHER_IS_BETTER,
    Criterion,
    Listing,
    Rating,
    UnitFigures,
    Why,
    WhyCode,
)
from liftwatch.ratings.rate import RatingSettings, criterion_points, rank_period, rate, stars_of
from liftwatch.ratings.settings import RATING_ENV_PREFIX, rating_settings_from_env, settings_group
from liftwatch.web.templating import LABELS

# Default levels (weight: full .. zero), a line earns weight * (value - zero) / (full - zero), clamped to
# 0..1, rounded half up:
#   entrapments 20: 0.2 .. 1.2 /100/month   response 10: 0.99 .. 0.89   arrival 15: 0.98 .. 0.88
#   overdue 15: 0.02 .. 0.22                inspection 15: 0.95 .. 0.75 fake 15: 0 .. 3 /100
#   complaints 10: 0.5 .. 2.5 /100/month    stars: 2 from 40, 3 from 60, 4 from 75, 5 from 90
UNITS = (
    # U1: every figure at or past "full": 20 + 10 + 15 + 15 + 15 + 15 + 10 = 100 -> 5 stars
    UnitFigures("U1", 120, 0.15, 1.0, 0.99, 0.01, 0.97, 0.0, 0.4),
    # U2: entrapments (1.2-0.45)/1.0 = .75 -> 15; response (0.97-0.89)/0.10 = .8 -> 8;
    #     arrival (0.96-0.88)/0.10 = .8 -> 12; overdue (0.22-0.06)/0.20 = .8 -> 12;
    #     inspection (0.91-0.75)/0.20 = .8 -> 12; fake 0 -> 15; complaints (2.5-0.9)/2 = .8 -> 8
    #     15 + 8 + 12 + 12 + 12 + 15 + 8 = 82 -> 4 stars
    UnitFigures("U2", 80, 0.45, 0.97, 0.96, 0.06, 0.91, 0.0, 0.9),
    # U3: entrapments .5 -> 10; response .8 -> 8; arrival (0.93-0.88)/0.10 = .5 -> 7.5 -> 8 (half up);
    #     overdue (0.22-0.12)/0.20 = .5 -> 8; inspection (0.85-0.75)/0.20 = .5 -> 8;
    #     fake (3-0.5)/3 = .8333 -> 12.5 -> 13; complaints (2.5-1.5)/2 = .5 -> 5
    #     10 + 8 + 8 + 8 + 8 + 13 + 5 = 60 -> 3 stars (60 is the threshold: the upper star)
    UnitFigures("U3", 200, 0.7, 0.97, 0.93, 0.12, 0.85, 0.5, 1.5),
    # U4: entrapments .9 -> 18; response 10; arrival .9 -> 13.5 -> 14; overdue .9 -> 14; inspection 15;
    #     fake 2.0/100 (3 confirmed flags on 150 elevators): (3-2)/3 = .333 -> 5; complaints 10
    #     18 + 10 + 14 + 14 + 15 + 5 + 10 = 86 -> 4 stars by points, but 2.0 > 1 (fake_black_limit):
    #     black list, stars capped at 1 (hard_max_stars); it keeps its rank by total
    UnitFigures("U4", 150, 0.3, 0.99, 0.97, 0.04, 0.95, 2.0, 0.5),
    # U5: entrapments (1.2-1.1)/1 = .1 -> 2; response .1 -> 1; arrival .3 -> 4.5 -> 5; overdue .2 -> 3;
    #     inspection .2 -> 3; fake 0 -> 15; complaints (2.5-2.1)/2 = .2 -> 2
    #     2 + 1 + 5 + 3 + 3 + 15 + 2 = 31 -> 1 star; arrival 0.91 is not below the 0.90 floor
    UnitFigures("U5", 60, 1.1, 0.90, 0.91, 0.18, 0.79, 0.0, 2.1),
    # U6: 12 elevators, fewer than 20 (min_elevators): not rated, whatever its figures
    UnitFigures("U6", 12, 0.0, None, None, 0.0, None, 0.0, 0.0),
)

# The period: 5 rated units ranked by total U1 100, U4 86, U2 82, U3 60, U5 31.
# red_share 0.2 * 5 = 1 unit from the top: U1 (5 stars >= red_min_stars 4, no hard condition) -> red.
# black_share 0.2 * 5 = 1 unit from the bottom: U5 (1 star <= black_max_stars 2) -> black.
# U4 is black for its hard condition; U2 and U3 are on no list; U6 is not rated (last).
EXPECTED = {
    # unit: (lines in Criterion order, total, stars, rank, listing, why codes)
    "U1": ((20, 10, 15, 15, 15, 15, 10), 100, 5, 1, Listing.RED, [WhyCode.TOP_SHARE]),
    "U4": ((18, 10, 14, 14, 15, 5, 10), 86, 1, 2, Listing.BLACK, [WhyCode.FAKE_MAINTENANCE]),
    "U2": ((15, 8, 12, 12, 12, 15, 8), 82, 4, 3, Listing.NONE, []),
    "U3": ((10, 8, 8, 8, 8, 13, 5), 60, 3, 4, Listing.NONE, []),
    "U5": ((2, 1, 5, 3, 3, 15, 2), 31, 1, 5, Listing.BLACK, [WhyCode.BOTTOM_SHARE]),
}


def by_unit(ratings: list[Rating]) -> dict[str, Rating]:
    return {r.unit: r for r in ratings}


def test_the_hand_worked_period() -> None:
    ratings = rank_period(UNITS)
    assert [r.unit for r in ratings] == ["U1", "U4", "U2", "U3", "U5", "U6"]
    for r in ratings[:5]:
        lines, total, stars, rank, listing, why = EXPECTED[r.unit]
        assert r.rated
        assert tuple(line.points for line in r.lines) == lines, r.unit
        assert [line.criterion for line in r.lines] == list(Criterion)
        assert r.total == total == sum(lines)
        assert (r.stars, r.rank, r.listing, [w.code for w in r.why]) == (stars, rank, listing, why), r.unit
    # the figures behind the points are kept on each line
    u4 = by_unit(ratings)["U4"]
    assert u4.lines[5].value == 2.0 and u4.lines[5].weight == 15
    assert u4.why[0].values == {"value": 2.0, "limit": 1}
    assert by_unit(ratings)["U5"].why[0].values == {"rank": 5, "rated": 5, "share": 0.2}


def test_a_unit_with_too_few_elevators_is_not_rated_and_says_why() -> None:
    u6 = rate(UNITS[5])
    assert not u6.rated
    assert (u6.stars, u6.rank, u6.listing, u6.lines, u6.total) == (None, None, Listing.NONE, (), 0)
    assert u6.why == (Why(WhyCode.TOO_FEW_ELEVATORS, {"elevators": 12, "min": 20}),)
    assert labels.why_text(u6.why[0], "zh-CN") == "维保电梯12台，少于20台，不参评"
    assert labels.why_text(u6.why[0], "en") == "12 elevators maintained, fewer than 20: not rated"
    assert by_unit(rank_period(UNITS))["U6"] == u6
    # with a lower minimum it is rated, on its own figures (all at "full"; None earns the whole weight)
    rated = rate(UNITS[5], RatingSettings(min_elevators=10))
    assert rated.rated and rated.total == 100 and rated.stars == 5


def test_arrival_below_the_floor_is_a_hard_condition() -> None:
    # arrival 0.89: (0.89-0.88)/0.10 = .1 -> 1.5 -> 2 points, and below the 0.90 floor: black, 1 star
    r = rate(replace(UNITS[1], arrival_on_time_share=0.89))
    assert r.lines[2].points == 2 and r.total == 82 - 12 + 2
    assert (r.listing, r.stars, [w.code for w in r.why]) == (Listing.BLACK, 1, [WhyCode.ARRIVAL_BELOW_FLOOR])
    assert labels.why_text(r.why[0], "en") == "rescue arrival on time 89%, below 90%"


GRID: dict[Criterion, tuple[float, ...]] = {
    # from worse to better
    Criterion.ENTRAPMENTS: (5, 1.3, 1.2, 1.15, 0.7, 0.45, 0.21, 0.2, 0.1, 0),
    Criterion.RESPONSE_ON_TIME: (0, 0.85, 0.89, 0.895, 0.93, 0.95, 0.989, 0.99, 1),
    Criterion.ARRIVAL_ON_TIME: (0, 0.8, 0.88, 0.9, 0.93, 0.97, 0.98, 1),
    Criterion.OVERDUE_WORK: (1, 0.3, 0.22, 0.2, 0.12, 0.05, 0.02, 0),
    Criterion.INSPECTION_PASS: (0, 0.6, 0.75, 0.8, 0.85, 0.9, 0.95, 1),
    Criterion.FAKE_MAINTENANCE: (10, 3, 2.9, 2, 1, 0.5, 0.1, 0),
    Criterion.COMPLAINTS: (9, 2.5, 2.4, 1.5, 1, 0.6, 0.5, 0),
}

FIELD = {
    Criterion.ENTRAPMENTS: "entrapments_per_100",
    Criterion.RESPONSE_ON_TIME: "response_on_time_share",
    Criterion.ARRIVAL_ON_TIME: "arrival_on_time_share",
    Criterion.OVERDUE_WORK: "overdue_work_share",
    Criterion.INSPECTION_PASS: "inspection_pass_rate",
    Criterion.FAKE_MAINTENANCE: "fake_flags_per_100",
    Criterion.COMPLAINTS: "complaints_per_100",
}


def with_figure(figures: UnitFigures, criterion: Criterion, value: float) -> UnitFigures:
    change: dict[str, Any] = {FIELD[criterion]: value}
    return replace(figures, **change)


@pytest.mark.parametrize("criterion", list(Criterion))
def test_a_better_figure_never_lowers_the_points(criterion: Criterion) -> None:
    points = [criterion_points(criterion, v).points for v in GRID[criterion]]
    assert points == sorted(points)
    assert points[0] == 0 and points[-1] == criterion_points(criterion, None).points > 0
    # and through the whole rating's total, from a middling unit (U3)
    totals = [rate(with_figure(UNITS[2], criterion, v)).total for v in GRID[criterion]]
    assert totals == sorted(totals) and totals[0] < totals[-1]
    assert (criterion in HIGHER_IS_BETTER) == (GRID[criterion][0] < GRID[criterion][-1])


def test_stars_fall_at_the_thresholds() -> None:
    assert [stars_of(t) for t in (0, 39, 40, 59, 60, 74, 75, 89, 90, 100)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_settings_change_the_result() -> None:
    # a wider red share: 0.6 * 5 = 3 from the top (U1, U4, U2); U4 is black, so U1 and U2 are red
    wide = by_unit(rank_period(UNITS, RatingSettings(red_share=0.6)))
    assert [u for u, r in wide.items() if r.listing is Listing.RED] == ["U1", "U2"]
    # a laxer fake-maintenance limit: U4 (2.0/100) is off the black list with its 4 stars, and in a red
    # share of 0.4 (2 units: U1, U4)
    lax = by_unit(rank_period(UNITS, RatingSettings(fake_black_limit=2.5, red_share=0.4)))
    assert (lax["U4"].listing, lax["U4"].stars) == (Listing.RED, 4)
    # the top is red only with enough stars: from 5 stars U1 (100) still is; the bottom is black only with
    # few enough stars: U5's 31 is 3 stars when 3 stars start at 30, above black_max_stars 2: no list
    strict = by_unit(rank_period(UNITS, RatingSettings(red_min_stars=5)))
    assert strict["U1"].listing is Listing.RED
    kinder = by_unit(rank_period(UNITS, RatingSettings(stars_2=20, stars_3=30)))
    assert kinder["U5"].stars == 3 and kinder["U5"].listing is Listing.NONE
    # ... no red list when the best of the period has too few stars: U3 (60, 3 stars) first of three
    weak = by_unit(
        rank_period([u for u in UNITS if u.unit in ("U2", "U3", "U5")], RatingSettings(red_share=0.4))
    )
    assert weak["U3"].rank == 2 and weak["U2"].listing is Listing.RED  # 0.4 * 3 = 1.2 -> 1: U2 (4 stars)
    weak = by_unit(rank_period([u for u in UNITS if u.unit in ("U3", "U5")], RatingSettings(red_share=0.5)))
    assert weak["U3"].listing is Listing.NONE  # 0.5 * 2 = 1 from the top, but 3 stars < 4
    # ... and a share of a small period rounds half up: black_share 0.2 * 2 = 0.4 -> no unit at the bottom
    assert (weak["U5"].stars, weak["U5"].listing) == (1, Listing.NONE)
    # weights: entrapments count double (40) -> U2 gains 15 more points: 97 -> 5 stars
    heavy = rate(UNITS[1], RatingSettings(entrapments_weight=40))
    assert (heavy.lines[0].points, heavy.lines[0].weight, heavy.total, heavy.stars) == (30, 40, 97, 5)


def test_equal_totals_share_a_rank_and_a_list() -> None:
    twins = (UNITS[0], replace(UNITS[0], unit="U0"), UNITS[2], UNITS[4])
    ratings = rank_period(twins)
    assert [(r.unit, r.rank, r.listing) for r in ratings] == [
        ("U0", 1, Listing.RED),  # 0.2 * 4 = 0.8 -> 1 unit; both have no unit above them
        ("U1", 1, Listing.RED),
        ("U3", 3, Listing.NONE),
        ("U5", 4, Listing.BLACK),
    ]


def test_bad_settings_are_refused() -> None:
    for bad in (
        {"stars_3": 30},  # below stars_2
        {"entrapments_full": 2},  # worse than its zero
        {"response_full": 0.8},  # a share rated on more-is-better: full must be above zero
        {"red_share": 1.5},
        {"red_min_stars": 6},
        {"fake_weight": 7.5},
        {"complaints_weight": -1},
    ):
        with pytest.raises(ValueError):
            RatingSettings(**bad)


def test_settings_from_the_environment() -> None:
    s = rating_settings_from_env(
        {"liftwatch_rating_min_elevators": "100", "LIFTWATCH_RATING_RED_SHARE": "0.1"}
    )
    assert (s.min_elevators, s.red_share, s.black_share) == (100, 0.1, 0.2)
    period = by_unit(rank_period(UNITS, s))
    # 100 elevators at least: U1 (120), U3 (200), U4 (150) rated; U2 (80), U5 (60), U6 (12) not
    assert [u for u, r in period.items() if r.rated] == ["U1", "U4", "U3"]
    with pytest.raises(ValueError, match="LIFTWATCH_RATING_STARS_2"):
        rating_settings_from_env({"LIFTWATCH_RATING_STARS_2": "many"})
    with pytest.raises(ValueError, match="stars_2"):
        rating_settings_from_env({"LIFTWATCH_RATING_STARS_2": "95"})
    rows = settings_group().rows
    assert len(rows) == len(RatingSettings.__dataclass_fields__)
    assert all(row.env.startswith(RATING_ENV_PREFIX) and row.description for row in rows)


def test_every_criterion_star_list_and_reason_has_both_labels_on_the_web() -> None:
    tables = (
        (labels.RATING_CRITERION, [c.value for c in Criterion]),
        (labels.RATING_CRITERION_UNIT, [c.value for c in Criterion]),
        (labels.RATING_STARS, [labels.stars_key(s) for s in (1, 2, 3, 4, 5, None)]),
        (labels.RATING_LISTING, [x.value for x in Listing]),
        (labels.RATING_WHY, [w.value for w in WhyCode]),
    )
    for table, keys in tables:
        assert set(table.entries) == set(keys), table.name
        for lang in LANGUAGES:
            texts = [LABELS.label(table.name, key, lang) for key in keys]
            assert all(t and t != key for t, key in zip(texts, keys, strict=True)), (table.name, lang)
            assert len(set(texts)) == len(texts) or table is labels.RATING_CRITERION_UNIT
    assert LABELS.label("rating_listing", "red", "zh-CN") == "红榜"
    assert LABELS.label("rating_listing", "black", "en") == "Black list"
    # every reason's sentence fills its places in both languages
    period = rank_period(UNITS)
    whys = [w for r in period for w in r.why] + list(rate(replace(UNITS[1], arrival_on_time_share=0.5)).why)
    assert {w.code for w in whys} == set(WhyCode)
    for w in whys:
        for lang in LANGUAGES:
            text = labels.why_text(w, lang)
            assert "{" not in text and text


def test_the_worked_example_of_the_doc_is_the_tests() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "RATINGS.md").read_text()
    rows = re.findall(r"^\| (U\d) \| (\d+) \| [^|]+ \| [^|]+ \| (\d+|—) \|", doc, re.MULTILINE)
    period = by_unit(rank_period(UNITS))
    got = {u: (str(period[u].elevators), str(period[u].total) if period[u].rated else "—") for u in period}
    assert {u: (e, t) for u, e, t in rows} == got, "docs/RATINGS.md's worked example is out of date"
