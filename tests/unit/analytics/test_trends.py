"""Several trends from one pass (``service.trends``, what the report reads) equal the trends asked one by
one, for the city and for a maintenance unit's scope; and a month of the unit's trend counts what its KPI
table of that month counts (both are the per-group counts in the database), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.analytics import service
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import InvalidInput
from liftwatch.registry import queries as registry_queries
from tests.unit.analytics.city import CITY, maintenance_actor

KPIS = ("entrapment", "on_time_arrival", "fault", "complaint", "inspection_pass")


def test_trends_equal_the_trends_one_by_one(city: Session, clock: FixedClock) -> None:
    for actor in (SYSTEM_ACTOR, maintenance_actor(city, "MU-A")):
        together = service.trends(city, actor, clock, kpis=KPIS, months=3, settings=CITY)
        assert set(together) == set(KPIS)
        for kpi in KPIS:
            alone = service.trend(city, actor, clock, kpi=kpi, months=3, settings=CITY)
            assert together[kpi] == alone


def test_a_units_trend_month_counts_what_its_table_counts(city: Session, clock: FixedClock) -> None:
    unit = maintenance_actor(city, "MU-A")
    table = service.kpi_table(city, unit, clock, month="2026-10", by="district", settings=CITY)
    together = service.trends(city, unit, clock, kpis=("fault", "complaint"), months=3, settings=CITY)
    for kpi in ("fault", "complaint"):
        october = {p.month: p.figure for p in together[kpi].points}["2026-10"]
        assert (october.count, october.base) == (
            table.total.figures[kpi].count,
            table.total.figures[kpi].base,
        )
        assert october.count == 1  # tests/unit/analytics/test_service.py::test_scope, worked by hand
    city_faults = service.trend(city, SYSTEM_ACTOR, clock, kpi="fault", months=3, settings=CITY)
    assert {p.month: p.figure for p in city_faults.points}["2026-10"].count >= 1


def test_trends_name_the_bad_kpi(city: Session, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput):
        service.trends(city, SYSTEM_ACTOR, clock, kpis=("fault", "colour"), settings=CITY)


def test_group_keys_of_many_codes_reads_the_scope_in_one_scan(city: Session, clock: FixedClock) -> None:
    today = clock.now().date()
    unit = maintenance_actor(city, "MU-A")
    for actor in (SYSTEM_ACTOR, unit):
        few = registry_queries.group_keys_of(city, actor, "district", ["NOPE"], today)
        known = set(registry_queries.group_keys_of(city, SYSTEM_ACTOR, "district", _all_codes(city), today))
        small = registry_queries.group_keys_of(city, actor, "district", known, today)
        many = known | {f"X{i:06d}" for i in range(registry_queries.GROUP_KEYS_SCAN_FROM)}
        assert few == {} and registry_queries.group_keys_of(city, actor, "district", many, today) == small
    assert len(small) == 2  # MU-A maintains two elevators (tests/unit/analytics/city.py)


def _all_codes(session: Session) -> set[str]:
    return registry_queries.registration_codes(session)


def test_a_table_of_some_kpis_reads_only_their_sources(city: Session, clock: FixedClock) -> None:
    """What the dashboard asks for: the rescue figures of a month, the same as the whole table's, and no
    statement reads the month's faults, complaints or inspections."""
    rescue = ("entrapment", "on_time_arrival", "average_arrival")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = city.get_bind()
    for month in ("2026-10", None):  # a settled month (its roll-up) and this month (live)
        whole = service.kpi_table(city, SYSTEM_ACTOR, clock, month=month, by="district", settings=CITY)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            some = service.kpi_table(
                city, SYSTEM_ACTOR, clock, month=month, by="district", kpis=rescue, settings=CITY
            )
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert [r.key for r in some.rows] == [r.key for r in whole.rows]
        for mine, full in zip((some.total, *some.rows), (whole.total, *whole.rows), strict=True):
            assert set(mine.figures) == {
                "entrapment",
                "response",
                "on_time_arrival",
                "average_arrival",
                "rescue_success",
            }
            assert {k: mine.figures[k] for k in rescue} == {k: full.figures[k] for k in rescue}
    assert statements  # the listener saw the reads, so the check below means something
    for table in ("faults", "complaints", "inspections"):
        assert not [s for s in statements if f"FROM {table}" in s or f"JOIN {table}" in s], table
    with pytest.raises(InvalidInput, match="kpi"):
        service.kpi_table(city, SYSTEM_ACTOR, clock, by="district", kpis=("speed",), settings=CITY)
