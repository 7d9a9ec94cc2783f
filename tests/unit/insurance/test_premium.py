"""The premium factor (pure): one factor per grade, never lower for a riskier grade, explained by the grade,
the score and its largest contributions; settings refuse factors that would fall from A to D."""

from __future__ import annotations

import pytest

from liftwatch.insurance.domain import PUBLIC_PLACE_TYPES, Cover, PolicyStatus, status_on
from liftwatch.insurance.premium import GRADES, PremiumSettings, adjusted_premium, premium_factor
from liftwatch.insurance.settings import premium_settings_from_env
from liftwatch.registry.domain import PlaceType
from liftwatch.risk.domain import Grade

CONTRIBUTIONS = [
    {"factor": "age", "value": 21.0, "points": 4},
    {"factor": "place", "value": "office", "points": 3},
    {"factor": "faults_90d", "value": 3, "points": 5},
    {"factor": "traffic", "value": None, "points": 0},
    {"factor": "maintenance_overdue", "value": 10.0, "points": 3},
]


def test_the_factor_never_falls_as_the_grade_rises() -> None:
    factors = [premium_factor(g, 10, CONTRIBUTIONS).factor for g in GRADES]
    assert factors == sorted(factors) == [0.85, 1.0, 1.2, 1.5]
    assert list(GRADES) == [g.value for g in Grade]  # the risk domain's grades, A lowest risk
    custom = PremiumSettings(factor_a=0.9, factor_b=0.9, factor_c=1.3, factor_d=2.0)
    assert [premium_factor(g, 1, [], custom).factor for g in GRADES] == [0.9, 0.9, 1.3, 2.0]


def test_the_factor_is_explained_by_the_grade_score_and_largest_contributions() -> None:
    pf = premium_factor("C", 15, CONTRIBUTIONS)
    assert (pf.factor, pf.grade, pf.score, pf.graded) == (1.2, "C", 15, True)
    # the three largest, equal points in the explanation's order; a factor with no points is no reason
    assert [(t.factor, t.points) for t in pf.top] == [("faults_90d", 5), ("age", 4), ("place", 3)]
    assert pf.top[0].as_dict() == {"factor": "faults_90d", "value": 3, "points": 5}
    five = premium_factor("C", 15, CONTRIBUTIONS, PremiumSettings(top_factors=5))
    assert len(five.top) == 4  # the zero-point line is left out


def test_an_elevator_not_graded_yet_pays_the_ungraded_factor_without_reasons() -> None:
    pf = premium_factor(None, None, [])
    assert (pf.factor, pf.grade, pf.score, pf.top, pf.graded) == (1.0, None, None, (), False)
    assert premium_factor(None, 12, CONTRIBUTIONS, PremiumSettings(factor_ungraded=1.1)).factor == 1.1
    with pytest.raises(ValueError, match="grade 'E'"):
        premium_factor("E", 1, [])


def test_the_adjusted_premium_is_in_whole_fen_rounded_half_up() -> None:
    assert adjusted_premium(120_000, 0.85) == 102_000
    assert adjusted_premium(120_000, 1.5) == 180_000
    assert adjusted_premium(101, 0.85) == 86  # 85.85
    assert adjusted_premium(3, 1.5) == 5  # 4.5 -> 5


def test_settings_refuse_factors_that_fall_and_are_read_from_the_environment() -> None:
    with pytest.raises(ValueError, match="must not decrease"):
        PremiumSettings(factor_c=0.8)
    with pytest.raises(ValueError, match="more than 0"):
        PremiumSettings(factor_a=0)
    env = {"LIFTWATCH_INSURANCE_FACTOR_D": "1.8", "LIFTWATCH_INSURANCE_EXPIRING_DAYS": "45", "OTHER": "x"}
    s = premium_settings_from_env(env)
    assert (s.factor_d, s.expiring_days, s.factor_a) == (1.8, 45, 0.85)
    with pytest.raises(ValueError, match="LIFTWATCH_INSURANCE_FACTOR_B"):
        premium_settings_from_env({"LIFTWATCH_INSURANCE_FACTOR_B": "cheap"})
    with pytest.raises(ValueError, match="LIFTWATCH_INSURANCE_"):
        premium_settings_from_env({"LIFTWATCH_INSURANCE_FACTOR_A": "1.6"})  # above B


def test_a_policy_status_follows_its_days_and_cancellation() -> None:
    from datetime import date

    start, end = date(2026, 1, 1), date(2026, 12, 31)
    assert status_on(start, end, False, date(2025, 12, 31)) is PolicyStatus.UPCOMING
    assert status_on(start, end, False, start) is PolicyStatus.VALID
    assert status_on(start, end, False, end) is PolicyStatus.VALID  # the last day is covered
    assert status_on(start, end, False, date(2027, 1, 1)) is PolicyStatus.EXPIRED
    assert status_on(start, end, True, date(2026, 6, 1)) is PolicyStatus.CANCELLED


def test_public_places_are_the_crowded_and_public_tiers_and_cover_is_checked() -> None:
    assert {PlaceType.RESIDENTIAL.value, PlaceType.OTHER.value}.isdisjoint(PUBLIC_PLACE_TYPES)
    assert PUBLIC_PLACE_TYPES | {PlaceType.RESIDENTIAL.value, PlaceType.OTHER.value} == {
        p.value for p in PlaceType
    }
    assert Cover(100, 200).problems() == []
    assert Cover(300, 200).problems() == [("limit_per_accident_fen", "must be at least the limit per person")]
    assert [f for f, _ in Cover(0, 0).problems()] == ["limit_per_person_fen", "limit_per_accident_fen"]
