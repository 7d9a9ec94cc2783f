"""The demo's preparation files every elevator's last periodic inspection once, so due dates spread over
the coming year and only a few are overdue, and books the coming month with the city's inspection body and
the demo inspector, who belongs to that body and sees its schedule."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import get_settings
from liftwatch.core.db import make_engine
from liftwatch.inspection import service as inspection
from liftwatch.inspection.domain import Conclusion, InspectionKind, Schedule, next_due
from liftwatch.inspection.models import Inspection
from liftwatch.registry import queries as registry
from liftwatch.sim.inspections import _draw, inspection_body
from tests.conftest import NOW

TODAY = (NOW + timedelta(hours=8)).date()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """A 200-elevator demo city prepared as `liftwatch demo` does, on the clock of the tests."""
    from liftwatch import demo

    var = tmp_path_factory.mktemp("demo") / "var"
    var.mkdir()
    shutil.copy(sqlite_template, var / "liftwatch.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIFTWATCH_VAR_DIR", str(var))
        mp.setenv("LIFTWATCH_DATABASE_URL", "")
        get_settings.cache_clear()
        mp.setattr(demo, "SystemClock", lambda: FixedClock(NOW))
        demo.prepare(elevators=200)
        yield get_settings().resolved_database_url
    get_settings.cache_clear()


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Inspection)) or 0)


def test_prepare_files_the_history_once_with_few_overdue(demo_url: str) -> None:
    from liftwatch import demo

    settings = get_settings()
    engine = make_engine(demo_url)
    with Session(engine) as session:
        in_use, _ = registry.list_elevators(
            session, SYSTEM_ACTOR, registry.ElevatorFilter(status="in_use"), FixedClock(NOW), size=10_000
        )
        dues = [inspection.due_for(session, e, settings, TODAY).due for e in in_use]
        rate = inspection.pass_rate(session, SYSTEM_ACTOR, TODAY - timedelta(days=400), TODAY, settings)
        late = inspection.overdue(session, SYSTEM_ACTOR, FixedClock(NOW), settings)
        before = _count(session)
    overdue = [d for d in dues if d < TODAY]
    assert len(in_use) > 150 and rate.concluded > 0.8 * len(in_use)
    assert 0.9 <= (rate.rate or 0) < 1  # a plausible first-attempt pass rate, some not passed
    assert 1 <= len(late) <= 0.05 * len(in_use) and len(overdue) <= 0.05 * len(in_use)
    late_codes = {e.registration_code for e, d in zip(in_use, dues, strict=True) if d < TODAY}
    assert {d.registration_code for d in late} <= late_codes
    months = {(d - TODAY).days // 30 for d in dues if d >= TODAY}
    assert len(months) >= 10  # spread over the coming year
    demo.prepare(elevators=200)
    with Session(engine) as session:
        assert _count(session) == before
    engine.dispose()


def test_the_inspector_of_the_body_sees_the_coming_month(demo_url: str) -> None:
    settings = get_settings()
    engine = make_engine(demo_url)
    clock = FixedClock(NOW)
    with Session(engine) as session:
        body = inspection_body(session)
        account = accounts.account_of(session, "inspector")
        assert body and account is not None and account.unit == body
        unit = registry.unit_by_code(session, body)
        assert unit is not None
        actor = Actor("inspector", Role.INSPECTOR, unit.id)
        seen = inspection.list_inspections(session, actor, limit=10_000)
        assert seen and {i.body_unit_code for i in seen} == {body}
        board = inspection.schedule_board(session, actor, clock, settings, limit=1_000)
        assert board.due_soon and board.overdue
        assert all(TODAY <= i.due_date <= TODAY + timedelta(days=30) for i in board.due_soon)
        assert all(i.inspector == "inspector" and i.signed_at is None for i in board.due_soon)
        failed = [i for i in seen if i.conclusion == Conclusion.FAIL.value]
        for row in failed:  # rectification under way, the re-inspection booked
            (item,) = inspection.nonconformities_of(session, row)
            assert item.work_order_id is not None
            assert any(i.original_id == row.id and i.kind == InspectionKind.RE_INSPECTION.value for i in seen)
    engine.dispose()


@pytest.mark.parametrize(("commissioned", "years"), [(date(2022, 5, 1), 3), (date(2014, 5, 1), 2)])
def test_reform_draws_the_last_inspection_within_the_interval(commissioned: date, years: int) -> None:
    settings = get_settings().model_copy(update={"inspection_schedule": Schedule.REFORM.value})
    rule = inspection.rule_from(settings)
    dues = []
    for n in range(200):
        drawn = _draw(random.Random(n), commissioned, TODAY, settings)
        assert drawn is not None and drawn.performed < TODAY
        dues.append(next_due(drawn.performed, commissioned, rule))
    assert {d.interval_years for d in dues} == {years}
    ahead = [d.due for d in dues if d.due >= TODAY]
    assert len(ahead) >= 190 and max(ahead) > TODAY + timedelta(days=365 * (years - 1))
