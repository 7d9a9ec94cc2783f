"""The risk score (风险分级, pure): monotone in every factor, its explanation sums to the score, the weights
and thresholds come from the settings (and the environment), grades fall at the thresholds, and the worked
example of docs/RISK.md comes out as written there."""

from __future__ import annotations

import random
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from liftwatch.core.config import LANGUAGES
from liftwatch.registry.domain import PlaceType
from liftwatch.risk import labels
from liftwatch.risk.domain import PLACE_TIER, Colour, ElevatorFacts, Factor, Grade, PlaceTier
from liftwatch.risk.score import Curve, RiskSettings, grade_of, score, score_many
from liftwatch.risk.settings import RISK_ENV_PREFIX, risk_settings_from_env, settings_group
from liftwatch.web.templating import LABELS

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = RiskSettings()

#: every numeric field of the facts, the factor it feeds and a grid of rising values
NUMERIC: dict[str, tuple[Factor, tuple[float, ...]]] = {
    "age_years": (Factor.AGE, (0, 5, 10, 10.1, 12.5, 20, 29.9, 30, 45)),
    "trips_per_day": (Factor.TRAFFIC, (0, 100, 333, 334, 1000, 3999, 4000, 9000)),
    "faults_90d": (Factor.FAULTS_90D, (0, 1, 2, 3, 7, 8, 9, 30)),
    "faults_365d": (Factor.FAULTS_365D, (0, 4, 5, 6, 7, 12, 17, 18, 60)),
    "entrapments_90d": (Factor.ENTRAPMENTS_90D, (0, 1, 2, 3, 4, 10)),
    "entrapments_365d": (Factor.ENTRAPMENTS_365D, (0, 1, 3, 4, 5, 12)),
    "maintenance_overdue_days": (Factor.MAINTENANCE_OVERDUE, (0, 0.5, 1, 2, 15, 39, 40, 41, 400)),
    "inspection_overdue_days": (Factor.INSPECTION_OVERDUE, (0, 0.1, 1, 10, 50, 99, 100, 101, 800)),
    "open_nonconformities": (Factor.NONCONFORMITIES, (0, 1, 2, 4, 5, 9)),
    "open_hazards_general": (Factor.HAZARDS_GENERAL, (0, 1, 2, 3, 4, 8)),
    "open_hazards_major": (Factor.HAZARDS_MAJOR, (0, 1, 2, 3, 6)),
    "confirmed_fake_flags": (Factor.FAKE_MAINTENANCE, (0, 1, 2, 3, 4, 10)),
    "complaints": (Factor.COMPLAINTS, (0, 1, 2, 3, 4, 5, 20)),
}


def random_facts(rng: random.Random, i: int = 0) -> ElevatorFacts:
    """Facts anywhere in (and past) the ranges a city has, unknowns included."""
    return ElevatorFacts(
        elevator=f"E{i}",
        place_type=rng.choice([*PlaceType, "unknown_place"]),
        age_years=None if rng.random() < 0.1 else round(rng.uniform(0, 45), 1),
        design_life_years=rng.choice([None, 15, 20, 25]),
        trips_per_day=None if rng.random() < 0.2 else rng.uniform(0, 6000),
        faults_90d=rng.randint(0, 12),
        faults_365d=rng.randint(0, 30),
        entrapments_90d=rng.randint(0, 4),
        entrapments_365d=rng.randint(0, 8),
        maintenance_overdue_days=rng.choice([0, 0, rng.uniform(0, 90)]),
        inspection_overdue_days=rng.choice([0, 0, rng.uniform(0, 200)]),
        open_nonconformities=rng.randint(0, 6),
        open_hazards_general=rng.randint(0, 4),
        open_hazards_major=rng.choice([0, 0, 0, 1, 3]),
        confirmed_fake_flags=rng.randint(0, 5),
        complaints=rng.randint(0, 8),
        three_no=rng.random() < 0.2,
    )


def points(result_factor: Factor, facts: ElevatorFacts, settings: RiskSettings = DEFAULT) -> int:
    return next(c.points for c in score(facts, settings).contributions if c.factor is result_factor)


# ---------------------------------------------------------------- the explanation


def test_the_explanation_lists_every_factor_once_and_sums_to_the_score() -> None:
    rng = random.Random(14)
    many = [random_facts(rng, i) for i in range(2000)]
    scores = score_many(many)
    assert [s.elevator for s in scores] == [f.elevator for f in many]
    assert len({s.score for s in scores}) > 40  # the draw spreads over the scale
    for s in scores:
        assert [c.factor for c in s.contributions] == list(Factor)
        assert sum(c.points for c in s.contributions) == s.score
        assert all(isinstance(c.points, int) and c.points >= 0 for c in s.contributions)
        assert s.grade is grade_of(s.score)
    # score() and score_many() agree, and as_dict carries the same numbers
    assert score(many[7]) == scores[7]
    d = scores[7].as_dict()
    assert d["score"] == sum(c["points"] for c in d["contributions"])  # type: ignore[attr-defined]


def test_a_well_kept_new_lift_scores_little_and_unknowns_score_nothing() -> None:
    quiet = score(ElevatorFacts("E1", age_years=3, design_life_years=20, trips_per_day=300, faults_365d=4))
    assert quiet.score == 1 and quiet.grade is Grade.A and quiet.colour is Colour.BLUE  # place 1 only
    unknown = score(ElevatorFacts("E2", place_type="no_such_place"))
    lines = {c.factor: c for c in unknown.contributions}
    assert lines[Factor.AGE].value is None and lines[Factor.AGE].points == 0
    assert lines[Factor.TRAFFIC].value is None and lines[Factor.TRAFFIC].points == 0
    assert lines[Factor.PLACE].points == 1  # an unknown place scores as "other"


# ---------------------------------------------------------------- monotone


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_each_factor_never_decreases_as_its_value_rises(name: str) -> None:
    """Over a grid of values (the caps and steps included) on many random elevators: the factor's own
    points and the total never go down as the value rises."""
    factor, grid = NUMERIC[name]
    rng = random.Random(name)
    rose = False
    for i in range(60):
        base = random_facts(rng, i)
        if name == "age_years":
            base = replace(base, design_life_years=rng.choice([None, 15, 20, 25]))
        previous_own, previous_total = -1, -1
        for value in grid:
            result = score(replace(base, **{name: value}))  # type: ignore[arg-type]
            own = next(c.points for c in result.contributions if c.factor is factor)
            assert own >= previous_own, (name, value, own, previous_own)
            assert result.score >= previous_total, (name, value)
            rose |= previous_own >= 0 and own > previous_own
            previous_own, previous_total = own, result.score
    assert rose, f"{name}: the grid never raised the factor (a test that cannot fail)"


def test_design_life_used_rises_with_age_and_three_no_adds_its_points() -> None:
    base = ElevatorFacts("E", design_life_years=20)
    used = [points(Factor.DESIGN_LIFE_USED, replace(base, age_years=a)) for a in (10, 16, 17, 20, 24, 30)]
    assert used == sorted(used) and used[0] == 0 and used[-1] == 6  # capped at 110% used
    assert points(Factor.DESIGN_LIFE_USED, replace(base, age_years=20, design_life_years=25)) == 0
    yes, no = score(replace(base, three_no=True)), score(base)
    assert yes.score - no.score == 8 == points(Factor.THREE_NO, replace(base, three_no=True))


def test_curves_round_half_up_and_respect_the_cap() -> None:
    c = Curve(free=5, step=0, per=0.5, cap=3)
    assert [c.points(v) for v in (4, 5, 6, 7, 8, 11, 12, 100)] == [0, 0, 1, 1, 2, 3, 3, 3]
    stepped = Curve(free=0, step=5, per=0.05, cap=10)
    assert [stepped.points(v) for v in (0, 0.01, 10, 100, 1000)] == [0, 5, 6, 10, 10]


def test_crowded_places_score_above_other_places() -> None:
    by_tier: dict[PlaceTier, set[int]] = {tier: set() for tier in PlaceTier}
    for place in PlaceType:
        by_tier[PLACE_TIER[place]].add(points(Factor.PLACE, ElevatorFacts("E", place_type=place)))
    assert by_tier == {PlaceTier.CROWDED: {4}, PlaceTier.PUBLIC: {3}, PlaceTier.OTHER: {1}}


# ---------------------------------------------------------------- settings


def test_weights_from_the_settings_change_the_score() -> None:
    facts = ElevatorFacts("E", confirmed_fake_flags=2, maintenance_overdue_days=20, faults_90d=2)
    before = score(facts)
    heavier = score(facts, replace(DEFAULT, fake_maintenance_per=15, fake_maintenance_cap=30))
    assert points(Factor.FAKE_MAINTENANCE, facts) == 16
    assert heavier.score == before.score - 16 + 30
    muted = score(facts, replace(DEFAULT, maintenance_overdue_per_day=0))
    assert muted.score == before.score - 8
    # thresholds too: the same score is graded by the settings' cuts
    assert before.score == 1 + 3 + 8 + 16 and before.grade is Grade.C
    assert score(facts, replace(DEFAULT, grade_c=30, grade_d=40)).grade is Grade.B


def test_the_environment_overrides_the_defaults_and_bad_values_are_named() -> None:
    env = {
        f"{RISK_ENV_PREFIX}FAKE_MAINTENANCE_PER": "10",
        "liftwatch_risk_grade_d": "50",  # any case
        f"{RISK_ENV_PREFIX}NOT_A_SETTING": "1",
        "LIFTWATCH_TOKEN_MINUTES": "5",
    }
    s = risk_settings_from_env(env)
    assert (s.fake_maintenance_per, s.grade_d, s.age_cap) == (10, 50, DEFAULT.age_cap)
    assert points(Factor.FAKE_MAINTENANCE, ElevatorFacts("E", confirmed_fake_flags=1), s) == 10
    with pytest.raises(ValueError) as bad:
        risk_settings_from_env({f"{RISK_ENV_PREFIX}AGE_CAP": "lots", f"{RISK_ENV_PREFIX}GRADE_B": "-1"})
    assert "LIFTWATCH_RISK_AGE_CAP='lots'" in str(bad.value) and "LIFTWATCH_RISK_GRADE_B" in str(bad.value)
    with pytest.raises(ValueError, match="grade_b"):
        risk_settings_from_env({f"{RISK_ENV_PREFIX}GRADE_B": "40"})  # above grade_c


def test_every_setting_has_a_reason_in_the_settings_table() -> None:
    group = settings_group()
    assert [r.env for r in group.rows] == [f"{RISK_ENV_PREFIX}{f.name.upper()}" for f in fields(RiskSettings)]
    assert all(r.description and r.default for r in group.rows)
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    assert "`LIFTWATCH_RISK_GRADE_D` | `35`" in operations


# ---------------------------------------------------------------- grades


def test_grades_fall_at_the_thresholds() -> None:
    assert [grade_of(p) for p in (0, 9, 10, 19, 20, 34, 35, 200)] == [
        Grade.A,
        Grade.A,
        Grade.B,
        Grade.B,
        Grade.C,
        Grade.C,
        Grade.D,
        Grade.D,
    ]
    # through a whole score: one major hazard alone (20 points) on a lift that scores 0 otherwise is C
    alone = score(
        ElevatorFacts("E", place_type="residential", open_hazards_major=1), replace(DEFAULT, place_other=0)
    )
    assert alone.score == 20 and alone.grade is Grade.C and alone.colour is Colour.ORANGE


# ---------------------------------------------------------------- the worked example of docs/RISK.md


WORKED = ElevatorFacts(
    elevator="31103101232015000123",
    place_type="mall",
    age_years=22.0,
    design_life_years=20,
    trips_per_day=900,
    faults_90d=3,
    faults_365d=11,
    entrapments_90d=0,
    entrapments_365d=1,
    maintenance_overdue_days=12,
    inspection_overdue_days=0,
    open_nonconformities=1,
    open_hazards_general=0,
    open_hazards_major=0,
    confirmed_fake_flags=1,
    complaints=2,
    three_no=False,
)


def test_the_worked_example_in_the_docs() -> None:
    result = score(WORKED)
    got = {c.factor.value: c.points for c in result.contributions}
    assert got == {
        "age": 5,
        "design_life_used": 6,
        "place": 4,
        "traffic": 1,
        "faults_90d": 5,
        "faults_365d": 6,
        "entrapments_90d": 0,
        "entrapments_365d": 2,
        "maintenance_overdue": 5,
        "inspection_overdue": 0,
        "nonconformities": 2,
        "hazards_general": 0,
        "hazards_major": 0,
        "fake_maintenance": 8,
        "complaints": 3,
        "three_no": 0,
    }
    assert result.score == 47 and result.grade is Grade.D
    doc = (ROOT / "docs" / "RISK.md").read_text()
    table = dict(re.findall(r"^\| `(\w+)` \|[^|]*\|[^|]*\| \*\*(\d+)\*\* \|$", doc, re.M))
    assert {k: int(v) for k, v in table.items()} == got, "docs/RISK.md's worked example is out of date"
    assert "**47 points, grade D (red)**" in doc


# ---------------------------------------------------------------- words


def test_every_factor_grade_colour_and_tier_has_both_labels_on_the_web() -> None:
    for enum, table in (
        (Factor, labels.RISK_FACTOR),
        (Factor, labels.RISK_FACTOR_UNIT),
        (Grade, labels.RISK_GRADE),
        (Colour, labels.RISK_COLOUR),
        (PlaceTier, labels.RISK_PLACE_TIER),
    ):
        assert LABELS.tables[table.name] is table
        for lang in LANGUAGES:
            texts = [table.get(m.value, lang) for m in enum]
            assert all(t.strip() and t != m.value for t, m in zip(texts, enum, strict=True)), (
                table.name,
                lang,
            )
            if table is not labels.RISK_FACTOR_UNIT:  # units repeat ("days"); names must tell apart
                assert len(set(texts)) == len(texts), (table.name, lang)


# ---------------------------------------------------------------- purity


def test_the_score_reaches_only_the_standard_library_and_the_place_types() -> None:
    """Stricter than the ``pure-risk`` contract: everything the pure modules import, followed through the
    package, is the standard library, the risk types or the registry's place types (fast: read, not run)."""
    import ast
    import sys

    package = ROOT / "src"
    allowed = {"liftwatch.risk.domain", "liftwatch.risk.score", "liftwatch.registry.domain"}
    todo, seen = ["liftwatch.risk.score"], set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        tree = ast.parse((package / (module.replace(".", "/") + ".py")).read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name.startswith("liftwatch"):
                    assert name in allowed, f"{module} imports {name}"
                    todo.append(name)
                else:
                    assert name.split(".")[0] in sys.stdlib_module_names | {"__future__"}, f"{module}: {name}"
    assert seen == allowed
