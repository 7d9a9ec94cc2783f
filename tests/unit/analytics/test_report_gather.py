"""The report's figures read through the other domains' services on a small city (tests/unit/analytics/
report_city.py), on SQLite and PostgreSQL, with the scope of each role. Figures worked out by hand:

- elevators in service: 4 (静安区 2: A1, A2 of MU-A; 徐汇区 2: B3, B4 of MU-B);
- November's entrapments: 3 (静安区 1, 徐汇区 2): 7,500 per 10,000 in the city, 5,000 in 静安区, 10,000 in
  徐汇区; on time 1 of 3 (A1 at 20 min; the station's crew sent to B3 and B4 never arrived), answered 1 of 3;
- hidden dangers: one reported in each district; 静安区's is open past its 2026-11-28 deadline at the
  month's end (overdue), 徐汇区's within its default deadline.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.analytics import gather, service
from liftwatch.analytics.report import HazardArea, Rate, ReportPeriod
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Forbidden
from tests.unit.analytics.city import CITY as ANALYTICS_SETTINGS
from tests.unit.analytics.city import analytics_city
from tests.unit.analytics.report_city import CITY_SETTINGS, report_city

NOV = ReportPeriod.parse("2026-11")


def test_the_city_figures(session: Session, clock: FixedClock) -> None:
    report_city(session, clock)
    f = gather.gather(session, gather.CITY, NOV, clock, CITY_SETTINGS)
    t = f.total
    assert (t.elevators, t.entrapments, t.per_10k) == (4, 3, 7_500.0)
    assert (t.on_time, t.response) == (Rate(1, 3), Rate(1, 3))
    assert {d.key: (d.elevators, d.entrapments, d.per_10k) for d in f.by_district} == {
        "静安区": (2, 1, 5_000.0),
        "徐汇区": (2, 2, 10_000.0),
    }
    assert {u.key: (u.entrapments, u.on_time) for u in f.by_unit} == {
        "MU-A": (1, Rate(1, 1)),
        "MU-B": (2, Rate(0, 2)),
    }
    assert [(m.month, m.entrapments) for m in f.trend][-2:] == [("2026-10", 0), ("2026-11", 3)]
    assert len(f.trend) == 12 and f.trend[0].month == "2025-12"
    assert f.hazards == [HazardArea("徐汇区", 1, 0, 0, 1), HazardArea("静安区", 1, 0, 1, 1)]
    assert (f.complaints_total, f.inspection_total, f.ratings_label) == (0, Rate(0, 0), None)
    october = gather.gather(session, gather.CITY, ReportPeriod.parse("2026-10"), clock, CITY_SETTINGS)
    assert october.total.entrapments == 0  # the hazards came in November: nothing open in October
    assert october.hazards == [HazardArea("徐汇区", 0, 0, 0, 0), HazardArea("静安区", 0, 0, 0, 0)]


def test_a_maintenance_unit_gets_its_own(session: Session, clock: FixedClock) -> None:
    report_city(session, clock)
    scope = gather.report_scope(session, Actor("maint_a", Role.MAINTENANCE, _unit_id(session, "MU-A")))
    assert scope.unit == "MU-A" and scope.unit_name == "浦江电梯维保有限公司"
    f = gather.gather(session, scope, NOV, clock, CITY_SETTINGS)
    assert (f.total.elevators, f.total.entrapments, f.scope_name) == (2, 1, "浦江电梯维保有限公司")
    assert [u.key for u in f.by_unit] == ["MU-A"]
    assert {d.key for d in f.by_district} == {"静安区"}
    assert f.hazards == [HazardArea("静安区", 1, 0, 1, 1)]  # B4's hazard is MU-B's


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR])
def test_the_centre_gets_the_city(session: Session, role: Role) -> None:
    assert gather.report_scope(session, Actor("x", role)) == gather.CITY


@pytest.mark.parametrize("role", [Role.USE_UNIT, Role.INSPECTOR, Role.INSURER, Role.GATEWAY, Role.PUBLIC])
def test_other_roles_have_no_report(session: Session, role: Role) -> None:
    with pytest.raises(Forbidden):
        gather.report_scope(session, Actor("x", role, 1))
    with pytest.raises(Forbidden):  # maintenance staff without a unit
        gather.report_scope(session, Actor("x", Role.MAINTENANCE))


def _unit_id(session: Session, code: str) -> int:
    from liftwatch.registry import queries

    record = queries.unit_by_code(session, code)
    assert record is not None
    return record.id


def test_the_figures_are_the_analytics_services(session: Session, clock: FixedClock) -> None:
    """October 2026 on the analytics data set (tests/unit/analytics/city.py, docs/ANALYTICS.md "Worked
    example"): rescues on A1 (on site at 20 min) and A2 (40 min), a false alarm on A1; complaints about A2
    and B3; periodic inspections A1 pass, B3 fail, B4 pass. The report's figures are the service's."""
    analytics_city(session)
    f = gather.gather(session, gather.CITY, ReportPeriod.parse("2026-10"), clock, ANALYTICS_SETTINGS)
    assert (f.total.elevators, f.total.entrapments, f.incidents, f.false_alarms) == (4, 2, 3, 1)
    assert (f.total.on_time, f.total.response, f.total.average_arrival_min) == (Rate(1, 2), Rate(2, 2), 30.0)
    assert f.inspection_total == Rate(2, 3)
    assert {i.key: i.pass_rate for i in f.inspections} == {"静安区": Rate(1, 1), "徐汇区": Rate(1, 2)}
    assert f.complaints_total == 2
    assert {c.key: (c.elevators, c.count) for c in f.complaints} == {"静安区": (2, 1), "徐汇区": (2, 1)}
    trend = {m.month: (m.elevators, m.entrapments, m.complaints) for m in f.trend}
    assert len(trend) == 12 and trend["2026-10"] == (4, 2, 2) and trend["2026-09"] == (4, 0, 0)
    table = service.kpi_table(
        session, SYSTEM_ACTOR, clock, month="2026-10", by="district", settings=ANALYTICS_SETTINGS
    )
    figures = table.total.figures
    assert f.total.entrapments == figures["entrapment"].count
    assert f.inspection_total == Rate(figures["inspection_pass"].count, figures["inspection_pass"].base)
    assert f.complaints_total == figures["complaint"].count
    # MU-B maintains B3 and B4 (徐汇区): B3's complaint, the inspections of B3 (fail) and B4 (pass)
    mu_b = gather.report_scope(session, Actor("maint_b", Role.MAINTENANCE, _unit_id(session, "MU-B")))
    f = gather.gather(session, mu_b, ReportPeriod.parse("2026-10"), clock, ANALYTICS_SETTINGS)
    assert (f.total.elevators, f.total.entrapments, f.complaints_total) == (2, 0, 1)
    assert f.inspection_total == Rate(1, 2) and [u.key for u in f.by_unit] == ["MU-B"]
