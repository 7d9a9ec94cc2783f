"""Rating a period stores every unit's rating with its lines and figures; rating it again replaces it; the
periods make a unit's history; reads are scoped; the on-demand eligibility reads the stored stars.

On the hand-made quarter of test_queries (2026-Q3), rated with ``min_elevators=1`` so both units are rated,
default settings otherwise:

- MU-A: entrapments 22.2 a month (0 of 20), response 2/3 (0 of 10), arrival 2/3 (0 of 15), overdue 2/3
  (0 of 15), inspection 50% (0 of 15), fake 33.3 per 100 (0 of 15), complaints 0 (10 of 10): total 10,
  1 star; black list for confirmed fake maintenance above 1 per 100 and arrival below 90%.
- MU-B: entrapments 66.7 (0), response 100% (10), arrival 100% (15), overdue 0 (15), no inspection (15),
  no fake (15), complaints 0 (10): total 80, 4 stars, rank 1. With two rated units 20% is 0.4, rounded to
  none at either end: no red list, no bottom black list.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Forbidden, InvalidInput, NotFound
from liftwatch.maintenance.labels import reason_text
from liftwatch.maintenance.plans import QualificationInput
from liftwatch.ratings import service
from liftwatch.ratings.models import RatingPeriodRow, UnitRatingRow
from liftwatch.ratings.rate import RatingSettings
from liftwatch.registry import queries as registry_queries
from tests.unit.ratings.test_queries import AUG, B3, flag, hand_made_quarter

SMALL = RatingSettings(min_elevators=1)


def _actor(session: Session, role: Role, unit: str | None = None) -> Actor:
    unit_id = registry_queries.unit_by_code(session, unit).id if unit else None  # type: ignore[union-attr]
    return Actor(username=role.value, role=role, unit_id=unit_id)


@pytest.fixture
def rated(session: Session, clock: FixedClock) -> Session:
    hand_made_quarter(session, clock)
    service.compute(session, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
    return session


def _by_unit(session: Session, label: str) -> dict[str, UnitRatingRow]:
    _, rows = service.ratings_of(session, SYSTEM_ACTOR, label)
    return {r.unit_code: r for r in rows}


def test_a_period_is_rated_and_stored_as_worked_by_hand(rated: Session) -> None:
    period, rows = service.ratings_of(rated, SYSTEM_ACTOR, "2026-q3")
    assert (period.label, period.kind, str(period.start_date), str(period.end_date)) == (
        "2026-Q3",
        "quarter",
        "2026-07-01",
        "2026-10-01",
    )
    assert period.settings["min_elevators"] == 1 and period.computed_by == "system"
    assert [r.unit_code for r in rows] == ["MU-B", "MU-A"]
    b, a = rows
    assert [line["points"] for line in b.lines] == [0, 10, 15, 15, 15, 15, 10]
    assert (b.total, b.stars, b.rank, b.listing) == (80, 4, 1, "none")
    assert b.unit_name == "申城电梯工程有限公司" and b.figures["values"]["inspection_pass_rate"] is None
    assert [line["points"] for line in a.lines] == [0, 0, 0, 0, 0, 0, 10]
    assert (a.total, a.stars, a.rank, a.listing) == (10, 1, 2, "black")
    assert [w["code"] for w in a.why] == ["fake_maintenance", "arrival_below_floor"]
    assert a.figures["counts"]["work_late"] == 2 and a.figures["values"][
        "fake_flags_per_100"
    ] == pytest.approx(100 / 3)


def test_rating_a_period_again_replaces_it(rated: Session, clock: FixedClock) -> None:
    first = service.period_named(rated, "2026-Q3").id
    flag(rated, B3, "MU-B", "confirmed", AUG)  # a fake visit of MU-B confirmed since
    service.compute(rated, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
    assert rated.scalar(select(func.count()).select_from(RatingPeriodRow)) == 1
    assert rated.scalar(select(func.count()).select_from(UnitRatingRow)) == 2
    b = _by_unit(rated, "2026-Q3")["MU-B"]
    # fake 100 per 100: 0 of 15, total 65 (3 stars by points), capped to 1 by the hard condition
    assert service.period_named(rated, "2026-Q3").id == first
    assert (b.total, b.stars, b.listing) == (65, 1, "black")
    again = service.compute(rated, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
    assert again.id == first and _by_unit(rated, "2026-Q3")["MU-B"].total == 65  # idempotent


def test_two_ratings_of_a_new_period_at_once_both_land(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock
) -> None:
    """The ratings worker and a regulator's button rate the same new period at once: the second to write
    replaces the first's rows instead of failing on the period's label (it once did, as an IntegrityError,
    when the other committed between its look for the period and its insert)."""
    hand_made_quarter(session, clock)
    session.commit()
    first, second = session_factory(), session_factory()
    cut_in = []

    def the_other_commits_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not cut_in and statement.lstrip().upper().startswith("INSERT INTO RATING_PERIODS"):
            cut_in.append(statement)
            service.compute(second, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
            second.commit()

    bind = first.connection()
    event.listen(bind, "before_cursor_execute", the_other_commits_first)
    try:
        row = service.compute(first, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
        first.commit()
    finally:
        event.remove(bind, "before_cursor_execute", the_other_commits_first)
        first.close()
        second.close()
    assert cut_in, "the other rating never cut in"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RatingPeriodRow)) == 1
    assert service.period_named(session, "2026-Q3").id == row.id
    assert sorted(_by_unit(session, "2026-Q3")) == ["MU-A", "MU-B"]


def test_history_across_periods_and_the_latest_stars(rated: Session, clock: FixedClock) -> None:
    service.compute(rated, SYSTEM_ACTOR, clock, Settings(), "2026-08", SMALL)
    history = service.unit_history(rated, SYSTEM_ACTOR, "MU-B")
    assert [p.label for p, _ in history] == ["2026-Q3", "2026-08"]
    assert service.latest_stars(rated, ["MU-A", "MU-B", "MU-X"]) == {"MU-A": 1, "MU-B": 4}
    assert [p.label for p in service.periods(rated, SYSTEM_ACTOR)] == ["2026-Q3", "2026-08"]
    shown = service.public_period(rated)
    assert shown is not None and shown.period.label == "2026-Q3"
    assert [r.unit_code for r in shown.black] == ["MU-A"] and shown.red == []


def test_on_demand_eligibility_reads_the_stored_rating(rated: Session, clock: FixedClock) -> None:
    today = clock.now().date()
    low = service.qualify_on_demand(rated, "MU-A", QualificationInput(today), SMALL)
    assert not low.qualified and [r.as_dict() for r in low.reasons] == [
        {"code": "unit_rated_low", "stars": 1, "min": 3}
    ]
    assert reason_text(low.reasons[0], "zh-CN") == "维保单位评为1星，须达到3星"
    assert reason_text(low.reasons[0], "en") == "Maintenance unit rated 1 of 5 stars, 3 required"
    assert service.qualify_on_demand(rated, "MU-B", QualificationInput(today), SMALL).qualified
    assert service.qualify_on_demand(rated, "MU-X", QualificationInput(today), SMALL).qualified  # not rated
    strict = RatingSettings(min_elevators=1, on_demand_min_stars=5)
    assert not service.qualify_on_demand(rated, "MU-B", QualificationInput(today), strict).qualified


def test_scope(rated: Session, clock: FixedClock) -> None:
    maint_a = _actor(rated, Role.MAINTENANCE, "MU-A")
    _, own = service.ratings_of(rated, maint_a, "2026-Q3")
    assert [r.unit_code for r in own] == ["MU-A"] and own[0].lines  # its own, every line
    assert [p.label for p, _ in service.unit_history(rated, maint_a, "MU-A")] == ["2026-Q3"]
    with pytest.raises(NotFound):
        service.unit_history(rated, maint_a, "MU-B")
    regulator = _actor(rated, Role.REGULATOR)
    assert len(service.ratings_of(rated, regulator, "2026-Q3")[1]) == 2
    for role, unit in ((Role.USE_UNIT, "UU-B"), (Role.RESCUE_OPERATOR, None), (Role.INSPECTOR, None)):
        with pytest.raises(Forbidden):
            service.ratings_of(rated, _actor(rated, role, unit), "2026-Q3")
    with pytest.raises(Forbidden):
        service.compute(rated, maint_a, clock, Settings(), "2026-Q3", SMALL)
    with pytest.raises(NotFound):
        service.ratings_of(rated, regulator, "2025-Q1")
    with pytest.raises(InvalidInput):
        service.compute(rated, regulator, clock, Settings(), "2026-Q5", SMALL)
    with pytest.raises(InvalidInput):  # not begun
        service.compute(rated, regulator, clock, Settings(), "2027-H1", SMALL)
