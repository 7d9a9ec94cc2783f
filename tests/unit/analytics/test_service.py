"""The city's figures equal the hand-computed ones on the fixed data set of tests/unit/analytics/city.py
(made through the services), by every dimension, with coverage, gaps, the trend and scope; on SQLite and
PostgreSQL.

October 2026 has 31 days and the rates' month is 365/12 days, so a count c on e elevators is
c x 10,000 / e x 365/372 per 10,000 elevators a month: 1 on 2 = 4,905.91; 2 on 2 (or 1 on 1) = 9,811.83.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.analytics import service
from liftwatch.analytics.domain import Figure, KpiRow
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Forbidden, InvalidInput
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.models import Elevator
from tests.unit.analytics.city import A2, B4, CITY, maintenance_actor

MONTH = 365 / 372  # 31 days in months of 365/12 days, inverted


def per_10k(count: int, elevators: int) -> float:
    return count * 10_000 / elevators * MONTH


def _actor(session: Session, role: Role, unit: str | None = None) -> Actor:
    found = registry_queries.unit_by_code(session, unit) if unit else None
    return Actor(role.value, role, found.id if found else None)


def _pair(f: Figure) -> tuple[int, int]:
    return (f.count, f.base)


def _rows(session: Session, clock: FixedClock, by: str, actor: Actor = SYSTEM_ACTOR) -> dict[str, KpiRow]:
    table = service.kpi_table(session, actor, clock, month="2026-10", by=by, settings=CITY)  # type: ignore[arg-type]
    return {r.key: r for r in table.rows} | {"TOTAL": table.total}


def test_by_district_as_worked_by_hand(city: Session, clock: FixedClock) -> None:
    rows = _rows(city, clock, "district")
    assert set(rows) == {"静安区", "徐汇区", "TOTAL"}
    jing, xu, total = rows["静安区"], rows["徐汇区"], rows["TOTAL"]
    assert (jing.elevators, xu.elevators, total.elevators) == (2, 2, 4)
    f = jing.figures
    # two rescues (A1, A2), the false alarm left out: 9,811.83 a month, far above the < 50 target
    assert _pair(f["entrapment"]) == (2, 2) and f["entrapment"].value == pytest.approx(per_10k(2, 2))
    assert f["entrapment"].met is False and f["entrapment"].target is not None
    assert _pair(f["fault"]) == (1, 2) and f["fault"].value == pytest.approx(per_10k(1, 2))  # A1's door
    assert _pair(f["complaint"]) == (1, 2)  # A2's
    assert _pair(f["inspection_pass"]) == (1, 1) and f["inspection_pass"].met is True  # A1 passed
    assert _pair(f["response"]) == (2, 2) and f["response"].met is True  # answered in 2 and 3 min
    assert _pair(f["on_time_arrival"]) == (1, 2) and f["on_time_arrival"].met is False  # 20 ok, 40 late
    assert f["average_arrival"].value == 30.0 and f["average_arrival"].met is True  # (20 + 40) / 2
    assert _pair(f["rescue_success"]) == (2, 2)
    assert _pair(f["monitoring"]) == (1, 2)  # A1's terminal
    g = xu.figures
    assert _pair(g["entrapment"]) == (0, 2) and g["entrapment"].value == 0.0 and g["entrapment"].met is True
    assert _pair(g["fault"]) == (1, 2)  # B3's safety circuit; B4's was on 30 September
    assert _pair(g["complaint"]) == (1, 2)  # B3's; B4's came in November
    assert _pair(g["inspection_pass"]) == (1, 2) and g["inspection_pass"].value == 0.5  # B3 failed
    assert g["response"].value is None and g["average_arrival"].value is None  # no rescue: no rate
    t = total.figures
    assert _pair(t["entrapment"]) == (2, 4) and t["entrapment"].value == pytest.approx(per_10k(2, 4))
    assert _pair(t["fault"]) == (2, 4)  # the power cut is no elevator fault
    assert _pair(t["inspection_pass"]) == (2, 3) and t["inspection_pass"].met is False  # 66.7% < 95%
    assert _pair(t["monitoring"]) == (2, 4)


def test_by_the_other_dimensions(city: Session, clock: FixedClock) -> None:
    ages = _rows(city, clock, "age_band")
    assert {k: r.elevators for k, r in ages.items()} == {"5-10": 1, "10-15": 1, "20+": 2, "TOTAL": 4}
    assert _pair(ages["20+"].figures["entrapment"]) == (1, 2)  # A1 (21 years); B4 (28) had none
    assert ages["5-10"].figures["entrapment"].value == pytest.approx(per_10k(1, 1))  # A2
    assert ages["5-10"].figures["average_arrival"].value == 40.0
    assert _pair(ages["10-15"].figures["fault"]) == (1, 1)  # B3
    assert _pair(ages["20+"].figures["inspection_pass"]) == (2, 2)  # A1 and B4 passed
    assert _pair(ages["10-15"].figures["inspection_pass"]) == (0, 1)  # B3 failed
    assert ages["5-10"].figures["inspection_pass"].value is None  # A2: none in October
    units = _rows(city, clock, "maintenance_unit")
    assert _pair(units["MU-A"].figures["entrapment"]) == (2, 2)
    assert _pair(units["MU-A"].figures["inspection_pass"]) == (1, 1)
    assert _pair(units["MU-B"].figures["inspection_pass"]) == (1, 2)
    places = _rows(city, clock, "place_type")
    assert {k: r.elevators for k, r in places.items()} == {
        "residential": 2,
        "office": 1,
        "mall": 1,
        "TOTAL": 4,
    }
    assert _pair(places["office"].figures["complaint"]) == (1, 1)
    streets = _rows(city, clock, "street")
    assert _pair(streets["南京西路街道"].figures["entrapment"]) == (2, 2)
    months = _rows(city, clock, "month")
    assert set(months) == {"2026-10", "TOTAL"}
    assert _pair(months["2026-10"].figures["inspection_pass"]) == (2, 3)


def test_a_year_and_the_current_month(city: Session, clock: FixedClock) -> None:
    year = service.kpi_table(city, SYSTEM_ACTOR, clock, year=2026, by="month", settings=CITY)
    assert year.period == "2026" and [r.key for r in year.rows][:2] == ["2026-01", "2026-02"]
    assert len(year.rows) == 12 and year.covered_until == clock.now()
    by_month = {r.key: r.figures for r in year.rows}
    assert _pair(by_month["2026-09"]["fault"]) == (1, 4)  # B4, 30 September 18:00 in Shanghai
    assert _pair(by_month["2026-11"]["entrapment"]) == (1, 4)
    assert by_month["2026-12"]["entrapment"].value is None  # not begun: no time to rate over
    assert _pair(year.total.figures["entrapment"]) == (3, 4)
    now = service.kpi_table(city, SYSTEM_ACTOR, clock, by="district", settings=CITY)
    assert now.period == "2026-11" and _pair(now.total.figures["complaint"]) == (1, 4)


def test_the_trend_of_a_kpi(city: Session, clock: FixedClock) -> None:
    t = service.trend(city, SYSTEM_ACTOR, clock, kpi="entrapment", months=3, settings=CITY)
    assert [p.month for p in t.points] == ["2026-09", "2026-10", "2026-11"]
    assert [_pair(p.figure) for p in t.points] == [(0, 4), (2, 4), (1, 4)]
    # November so far: 1 October 16:00 UTC (1 November in Shanghai) to now, 22 days 17 hours
    covered = (clock.now() - datetime(2026, 10, 31, 16, 0, tzinfo=UTC)).total_seconds() / 86400
    assert t.points[2].figure.value == pytest.approx(10_000 / 4 * (365 / 12) / covered)
    assert t.target is not None and t.target.threshold == 50 and t.unit == "per_10k_month"
    assert len(service.trend(city, SYSTEM_ACTOR, clock, kpi="inspection_pass", settings=CITY).points) == 12


def test_coverage_as_worked_by_hand(city: Session, clock: FixedClock) -> None:
    c = service.coverage(city, SYSTEM_ACTOR, clock, settings=CITY)
    f = {k: _pair(v) for k, v in c.figures.items()}
    assert f == {
        "monitoring_all": (2, 4),  # A1, B3
        "monitoring_public": (1, 2),  # public: A2 (office), B3 (mall); B3 has a terminal
        "monitoring_old_residential": (1, 2),  # A1 (21 years), B4 (28): A1 has one
        "insurance_public": (1, 2),  # B3 insured; A2's policy ended in 2025
        "geolocation_public": (1, 2),  # A2 has coordinates, B3 none
        "mobile_signal_all": (2, 4),  # A1, B3; A2 none, B4 not checked
        "mobile_signal_public": (1, 2),
    }
    assert c.mobile_signal_unchecked == 1 and c.figures["insurance_public"].met is False
    gaps = service.coverage_gaps(city, SYSTEM_ACTOR, clock, kind="mobile_signal")
    assert gaps.total == 2 and {(g.registration_code, g.mobile_signal) for g in gaps.rows} == {
        (A2, False),
        (B4, None),
    }
    one = service.coverage_gaps(city, SYSTEM_ACTOR, clock, kind="mobile_signal", page=2, size=1)
    assert one.total == 2 and len(one.rows) == 1
    assert service.coverage_gaps(city, SYSTEM_ACTOR, clock, kind="geolocation").total == 1  # B3
    past = service.coverage_gaps(city, SYSTEM_ACTOR, clock, kind="geolocation", page=2, size=1)
    assert past.total == 1 and past.rows == ()  # past the last page: the count, no rows


def test_scope(city: Session, clock: FixedClock) -> None:
    maint_a = _actor(city, Role.MAINTENANCE, "MU-A")
    rows = _rows(city, clock, "district", maint_a)
    assert set(rows) == {"静安区", "TOTAL"} and rows["TOTAL"].elevators == 2
    assert _pair(rows["TOTAL"].figures["entrapment"]) == (2, 2)
    assert _pair(rows["TOTAL"].figures["fault"]) == (1, 2) and _pair(rows["TOTAL"].figures["complaint"]) == (
        1,
        2,
    )
    owner_b = _actor(city, Role.USE_UNIT, "UU-B")
    theirs = _rows(city, clock, "district", owner_b)
    assert set(theirs) == {"徐汇区", "TOTAL"}
    assert _pair(theirs["TOTAL"].figures["entrapment"]) == (0, 2)
    assert _pair(theirs["TOTAL"].figures["inspection_pass"]) == (1, 2)
    cov = service.coverage(city, owner_b, clock, settings=CITY)
    assert _pair(cov.figures["monitoring_all"]) == (1, 2) and _pair(cov.figures["insurance_public"]) == (1, 1)
    assert [
        g.registration_code for g in service.coverage_gaps(city, owner_b, clock, kind="mobile_signal").rows
    ] == [B4]
    operator = Actor("operator", Role.RESCUE_OPERATOR)
    assert _rows(city, clock, "district", operator)["TOTAL"].elevators == 4
    for role in (Role.INSPECTOR, Role.GATEWAY, Role.INSURER, Role.PUBLIC):
        who = Actor(role.value, role)
        with pytest.raises(Forbidden):
            service.kpi_table(city, who, clock, by="district", settings=CITY)
        with pytest.raises(Forbidden):
            service.coverage(city, who, clock, settings=CITY)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"month": "2026-13", "by": "district"}, "month"),
        ({"month": "2026-10", "year": 2026, "by": "district"}, "month"),
        ({"by": "colour"}, "by"),
    ],
)
def test_bad_parameters_name_the_field(session: Session, clock: FixedClock, kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as err:
        service.kpi_table(session, SYSTEM_ACTOR, clock, settings=CITY, **kwargs)
    assert err.value.errors[0].field == field


def test_bad_trend_and_gap_parameters(session: Session, clock: FixedClock) -> None:
    for kwargs, field in (({"kpi": "speed"}, "kpi"), ({"kpi": "fault", "months": 0}, "months")):
        with pytest.raises(InvalidInput) as err:
            service.trend(session, SYSTEM_ACTOR, clock, settings=CITY, **kwargs)  # type: ignore[arg-type]
        assert err.value.errors[0].field == field
    with pytest.raises(InvalidInput) as err:
        service.coverage_gaps(session, SYSTEM_ACTOR, clock, kind="wifi")
    assert err.value.errors[0].field == "kind"


def test_a_district_narrows_every_count(city: Session, clock: FixedClock) -> None:
    """A drill-down: the table of 静安区's streets is the city's table of streets less the other district's,
    its total is 静安区's row of the table by district, for a rolled-up month, the current one and a year."""
    jingan = "静安区"
    streets = set(city.scalars(select(Elevator.street).where(Elevator.district == jingan)))
    assert streets
    for actor in (SYSTEM_ACTOR, maintenance_actor(city, "MU-A"), maintenance_actor(city, "MU-B")):
        for period in ({"month": "2026-10"}, {}, {"year": 2026}):
            narrowed = service.kpi_table(
                city, actor, clock, by="street", district=jingan, settings=CITY, **period
            )
            full = service.kpi_table(city, actor, clock, by="street", settings=CITY, **period)
            assert narrowed.rows == tuple(r for r in full.rows if r.key in streets), (actor, period)
            districts = service.kpi_table(city, actor, clock, by="district", settings=CITY, **period)
            row = next((r for r in districts.rows if r.key == jingan), None)
            if row is None:  # MU-B maintains nothing there
                assert narrowed.total.elevators == 0 and narrowed.rows == ()
            else:
                assert narrowed.total == replace(row, key=""), (actor, period)
            months = service.kpi_table(
                city, actor, clock, by="month", district=jingan, settings=CITY, **period
            )
            assert months.total.figures["entrapment"].count == narrowed.total.figures["entrapment"].count
    mine = service.kpi_table(
        city, SYSTEM_ACTOR, clock, month="2026-10", by="district", district=jingan, settings=CITY
    )
    assert [(r.key, r.figures["entrapment"].count) for r in mine.rows] == [(jingan, 2)]
