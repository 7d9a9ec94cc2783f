"""The roll-up of settled months (``analytics.models``, ``service.rollup``): every figure read from it
equals the figure counted live from the events, by every dimension, for the city and for a maintenance
unit; a late change shows once the roll-up is a day old while late data may arrive, and after that only
when the month is rolled up again; on SQLite and PostgreSQL.

The fixed city of tests/unit/analytics/city.py; the clock fixture stands in late November 2026, so
October (with its faults, complaints, rescues and inspections) has settled.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.analytics import domain, service
from liftwatch.analytics.domain import KpiTable
from liftwatch.analytics.models import AnalyticsCell, AnalyticsMonth
from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import InvalidInput
from liftwatch.telemetry.faults import FaultType
from tests.unit.analytics.city import A1, B3, CITY, _fault, analytics_city, maintenance_actor

#: October settles at its last rescue's closing limit (24 h) after 1 November 00:00 in Shanghai.
OCTOBER_SETTLES = datetime(2026, 10, 31, 16, 0, tzinfo=UTC) + timedelta(hours=24)


def _live(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count everything from the events, as for a use unit's staff (the roll-up answers for nobody)."""
    monkeypatch.setattr(service, "_rollup_scope", lambda session, actor: None)


def _faults(table: KpiTable) -> int:
    return table.total.figures["fault"].count


def test_every_dimension_from_the_rollup_equals_the_live_count(
    city: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    actors = (SYSTEM_ACTOR, maintenance_actor(city, "MU-A"), maintenance_actor(city, "MU-B"))
    # a rolled-up month; a year of rolled-up months only; a year of both kinds
    periods = ({"month": "2026-10"}, {"year": 2025}, {"year": 2026})
    rolled = {
        (i, by, j): service.kpi_table(city, a, clock, by=by, settings=CITY, **p)
        for i, a in enumerate(actors)
        for by in domain.DIMENSIONS
        for j, p in enumerate(periods)
    }
    trends = {
        i: service.trends(city, a, clock, kpis=domain.KPIS, settings=CITY) for i, a in enumerate(actors)
    }
    built = city.scalar(select(AnalyticsMonth).where(AnalyticsMonth.month == "2026-10"))
    assert built is not None and built.cells > 0 and built.built_at == clock.now()
    assert (built.faults, built.rescues, built.complaints) == (2, 2, 2)  # worked by hand in test_service
    _live(monkeypatch)
    for (i, by, j), table in rolled.items():
        live = service.kpi_table(city, actors[i], clock, by=by, settings=CITY, **periods[j])
        assert table == live, (i, by, periods[j])
    for i, a in enumerate(actors):
        assert trends[i] == service.trends(city, a, clock, kpis=domain.KPIS, settings=CITY)
    october = rolled[(0, "district", 0)]
    assert {r.key: r.figures["entrapment"].count for r in october.rows} == {"静安区": 2, "徐汇区": 0}


def test_several_months_at_once_equal_the_months_one_by_one(city: Session, clock: FixedClock) -> None:
    """``kpi_tables`` (the dashboard's months) gives each month's ``kpi_table``, for the city and a unit,
    a district narrowed or not, some KPIs or all; the settled months in one query of the roll-up."""
    months = ["2026-08", "2026-09", "2026-10", "2026-11"]  # three settled, and this month (live)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = city.get_bind()
    for actor in (SYSTEM_ACTOR, maintenance_actor(city, "MU-A")):
        for by in domain.DIMENSIONS:
            for district, kpis in (("", None), ("静安区", ("entrapment", "on_time_arrival"))):
                statements.clear()
                event.listen(engine, "before_cursor_execute", seen)
                try:
                    together = service.kpi_tables(
                        city, actor, clock, months=months, by=by, district=district, kpis=kpis, settings=CITY
                    )
                finally:
                    event.remove(engine, "before_cursor_execute", seen)
                assert list(together) == months
                for m in months:
                    alone = service.kpi_table(
                        city, actor, clock, month=m, by=by, district=district, kpis=kpis, settings=CITY
                    )
                    assert together[m] == alone, (actor.role, by, district, m)
                if by != "month":  # the three settled months: one read of the cells
                    reads = [s for s in statements if s.startswith("SELECT") and "FROM analytics_cells" in s]
                    assert len(reads) == 1, by
    october = service.kpi_tables(city, SYSTEM_ACTOR, clock, months=["2026-10"], by="district", settings=CITY)
    assert {r.key: r.figures["entrapment"].count for r in october["2026-10"].rows} == {
        "静安区": 2,
        "徐汇区": 0,
    }
    with pytest.raises(InvalidInput, match="month"):
        service.kpi_tables(city, SYSTEM_ACTOR, clock, months=["2026-13"], by="district", settings=CITY)


def test_a_late_fault_shows_once_the_rollup_is_a_day_old(city: Session) -> None:
    early = FixedClock(OCTOBER_SETTLES + timedelta(days=1))  # within the late data week
    assert (
        _faults(service.kpi_table(city, SYSTEM_ACTOR, early, month="2026-10", by="district", settings=CITY))
        == 2
    )
    _fault(
        city, B3, FaultType.DOOR_OPEN_FAILURE, datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    )  # stored, sent late
    city.commit()
    early.advance(timedelta(hours=23))
    assert (
        _faults(service.kpi_table(city, SYSTEM_ACTOR, early, month="2026-10", by="district", settings=CITY))
        == 2
    )
    early.advance(timedelta(hours=1, seconds=1))
    assert (
        _faults(service.kpi_table(city, SYSTEM_ACTOR, early, month="2026-10", by="district", settings=CITY))
        == 3
    )


def test_after_the_late_data_week_a_month_changes_only_when_rolled_up_again(
    city: Session, clock: FixedClock
) -> None:
    assert clock.now() > OCTOBER_SETTLES + service.LATE_DATA

    def october() -> int:
        return _faults(
            service.kpi_table(city, SYSTEM_ACTOR, clock, month="2026-10", by="street", settings=CITY)
        )

    assert october() == 2
    _fault(city, A1, FaultType.DOOR_OPEN_FAILURE, datetime(2026, 10, 26, 2, 0, tzinfo=UTC))
    city.commit()
    clock.advance(timedelta(days=30))
    assert october() == 2  # frozen: a correction is rolled up on purpose
    done = service.rollup(city, clock, month="2026-10", settings=CITY)
    assert [m.month for m in done] == ["2026-10"] and done[0].cells > 0
    assert october() == 3


def test_a_month_that_has_not_settled_is_not_rolled_up(city: Session, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput) as err:
        service.rollup(city, clock, month="2026-11", settings=CITY)
    assert err.value.errors[0].field == "month" and "settles at" in err.value.errors[0].message
    with pytest.raises(InvalidInput) as err:
        service.rollup(city, clock, month="2026-1", settings=CITY)
    assert err.value.errors[0].field == "month"
    done = service.rollup(city, clock, months=3, settings=CITY)
    assert [m.month for m in done] == ["2026-09", "2026-10"]  # November is the current month


def test_two_readers_rolling_up_the_same_month_write_it_once(
    engine: Engine, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    with session_factory() as s:
        analytics_city(s)
    results: list[KpiTable] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def read() -> None:
        try:
            with session_factory() as s:
                barrier.wait()
                results.append(
                    service.kpi_table(s, SYSTEM_ACTOR, clock, month="2026-10", by="district", settings=CITY)
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 2 and results[0] == results[1]
    with session_factory() as s:
        months = s.scalar(
            select(func.count()).select_from(AnalyticsMonth).where(AnalyticsMonth.month == "2026-10")
        )
        cells = s.scalar(
            select(func.count()).select_from(AnalyticsCell).where(AnalyticsCell.month == "2026-10")
        )
        built = s.scalar(select(AnalyticsMonth.cells).where(AnalyticsMonth.month == "2026-10"))
    assert months == 1 and cells == built


def test_the_rollup_command(engine: Engine, session: Session, tmp_path: Path) -> None:
    analytics_city(session)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["report", "rollup", "--month", "2026-10", "--database-url", url])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("2026-10: ") and " cells, " in result.stdout
    session.expire_all()
    assert session.scalar(select(AnalyticsMonth.faults).where(AnalyticsMonth.month == "2026-10")) == 2
    bad = CliRunner().invoke(cli, ["report", "rollup", "--month", "2026-13", "--database-url", url])
    assert bad.exit_code == 1 and "month" in bad.stderr
