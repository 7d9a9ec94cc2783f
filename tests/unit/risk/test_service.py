"""Recomputation stores every elevator's score with an explanation that sums to it, ranks a poorly
maintained elevator (visits overdue, a confirmed fake visit, frequent faults) above a well-kept one, runs
incrementally for named elevators, drops the rows of elevators no longer in use; reads are scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.registry import queries as registry_queries
from liftwatch.risk import service
from liftwatch.risk.domain import Grade
from liftwatch.risk.score import RiskSettings
from tests.conftest import NOW
from tests.factories import seed
from tests.unit.risk.test_queries import A1, A2, B3, B4, _fault, _flag, _order

WEIGHTS = RiskSettings()


def _actor(session: Session, role: Role, unit: str | None = None) -> Actor:
    unit_id = registry_queries.unit_by_code(session, unit).id if unit else None  # type: ignore[union-attr]
    return Actor(username=role.value, role=role, unit_id=unit_id)


@pytest.fixture
def city(session: Session, clock: FixedClock) -> Session:
    seed(session, clock)
    return session


def _poorly_maintain(session: Session, code: str) -> None:
    _order(session, code, NOW - timedelta(days=30))  # a visit a month late
    _flag(session, code, "confirmed", 20)
    for day in range(1, 8):
        _fault(session, code, day * 10)
    session.flush()


def test_recompute_stores_scores_that_explain_themselves(city: Session, clock: FixedClock) -> None:
    s = city
    # A2 (office, 2019) and A1 (residential, 2005) are both kept well before A1 is neglected
    done = service.recompute(s, clock, Settings(), WEIGHTS)
    assert done.elevators == 4 and sum(done.by_grade.values()) == 4
    regulator = _actor(s, Role.REGULATOR)
    before = service.score_of(s, regulator, A1).score
    _poorly_maintain(s, A1)
    service.recompute(s, clock, Settings(), WEIGHTS, codes=[A1])  # incremental: only A1
    row = service.score_of(s, regulator, A1)
    assert row.score > before + 20 and row.grade in (Grade.C.value, Grade.D.value)
    assert sum(c["points"] for c in row.contributions) == row.score
    points = {c["factor"]: c["points"] for c in row.contributions}
    assert points["fake_maintenance"] == 8 and points["maintenance_overdue"] == 12  # 30 days x 0.4: the cap
    assert row.facts["faults_365d"] == 7 and row.facts["confirmed_fake_flags"] == 1
    top = service.top_risks(s, regulator)
    assert top[0].registration_code == A1 and top[0].score > service.score_of(s, regulator, A2).score
    dist = service.distribution(s, regulator)
    assert dist.total == 4 and sum(dist.counts.values()) == 4
    assert service.distribution(s, regulator, district="静安区").total == 2
    assert service.districts(s, regulator) == ["徐汇区", "静安区"]


def test_a_full_run_drops_elevators_no_longer_in_use(city: Session, clock: FixedClock) -> None:
    from liftwatch.registry import service as registry
    from liftwatch.registry.domain import EventKind
    from liftwatch.registry.schemas import EventIn

    s = city
    service.recompute(s, clock, Settings(), WEIGHTS)
    admin = _actor(s, Role.ADMIN)
    registry.record_event(s, admin, B4, EventIn(kind=EventKind.SUSPENSION), clock)
    clock.advance(timedelta(hours=1))
    done = service.recompute(s, clock, Settings(), WEIGHTS)
    assert done.elevators == 3 and done.dropped == 1
    with pytest.raises(NotFound):
        service.score_of(s, admin, B4)


def test_reads_are_scoped(city: Session, clock: FixedClock) -> None:
    s = city
    service.recompute(s, clock, Settings(), WEIGHTS)
    maint_a = _actor(s, Role.MAINTENANCE, "MU-A")
    owner_b = _actor(s, Role.USE_UNIT, "UU-B")
    assert service.score_of(s, maint_a, A1).registration_code == A1
    with pytest.raises(NotFound):  # another unit's elevator: not found, as the registry decides
        service.score_of(s, maint_a, B3)
    assert {r.registration_code for r in service.top_risks(s, owner_b)} == {B3, B4}
    for who in (maint_a, _actor(s, Role.INSPECTOR), _actor(s, Role.RESCUE_OPERATOR)):
        with pytest.raises(Forbidden):  # the city's distribution is the centre's
            service.distribution(s, who)
    with pytest.raises(Forbidden):
        service.score_of(s, _actor(s, Role.RESCUE_OPERATOR), A1)


def test_the_recompute_command_prints_the_grades(sqlite_engine: Engine, clock: FixedClock) -> None:
    from typer.testing import CliRunner

    from liftwatch.cli import app as cli

    with Session(sqlite_engine) as s:
        seed(s, clock)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["risk", "recompute", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "4 elevators scored: A " in result.output and " s" in result.output
    with Session(sqlite_engine) as s:
        assert service.distribution(s, _actor(s, Role.ADMIN)).total == 4
    one = CliRunner().invoke(cli, ["risk", "recompute", "--database-url", url, "--code", A1])
    assert one.exit_code == 0 and "1 elevators scored" in one.output
