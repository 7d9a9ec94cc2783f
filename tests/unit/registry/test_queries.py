"""The registry's reads for other domains: unit lookups for accounts, the map's extent, the simulator's
terminals, and the bulk load of a generated city (its file rule)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.registry import queries, service
from liftwatch.registry.domain import EventKind, UnitType
from liftwatch.registry.schemas import ElevatorUpdate, EventIn
from tests.factories import seed


def _place(session: Session, clock: FixedClock, code: str, lat: float, lon: float) -> None:
    service.update_elevator(session, SYSTEM_ACTOR, code, ElevatorUpdate(latitude=lat, longitude=lon), clock)


def test_units_by_code_and_by_id(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    unit = queries.unit_by_code(session, "MU-B")
    assert unit is not None
    assert (unit.code, unit.unit_type) == ("MU-B", UnitType.MAINTENANCE.value)
    assert queries.unit_by_code(session, "nope") is None
    other = queries.unit_by_code(session, "UU-A")
    assert other is not None
    assert queries.unit_codes(session, [unit.id, None, other.id, 999_999]) == {
        unit.id: "MU-B",
        other.id: "UU-A",
    }
    assert queries.unit_codes(session, [None]) == {}


def test_busiest_unit_and_counts(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    assert queries.count_elevators(session) == 4
    # two elevators each; the lower code wins the tie
    assert queries.busiest_unit(session, UnitType.MAINTENANCE) == "MU-A"
    assert queries.busiest_unit(session, UnitType.USE_UNIT) == "UU-A"
    service.update_elevator(session, SYSTEM_ACTOR, "11SHA000001", ElevatorUpdate(use_unit="UU-B"), clock)
    assert queries.busiest_unit(session, UnitType.USE_UNIT) == "UU-B"


def test_elevators_with_terminals_are_those_in_use_with_a_terminal(
    session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    assert queries.elevators_with_terminals(session, 10) == []
    for code in ("11SHB000004", "11SHA000002", "11SHA000001"):
        service.update_elevator(
            session, SYSTEM_ACTOR, code, ElevatorUpdate(iot_terminal_id=f"T-{code}"), clock
        )
    service.record_event(
        session, SYSTEM_ACTOR, "11SHA000002", EventIn(kind=EventKind.SUSPENSION, summary="repairs"), clock
    )
    found = queries.elevators_with_terminals(session, 10)
    assert [e.registration_code for e in found] == ["11SHA000001", "11SHB000004"]
    assert (found[0].kind, found[0].floors, found[0].rated_speed_mps) == ("traction", 18, 1.75)
    assert [e.registration_code for e in queries.elevators_with_terminals(session, 1)] == ["11SHA000001"]


def test_the_map_extent_of_an_empty_registry_is_the_default(session: Session) -> None:
    extent = queries.map_extent(session)
    assert (extent.south, extent.west, extent.north, extent.east) == queries.DEFAULT_BOUNDS
    assert extent.districts == ()


def test_the_map_extent_covers_the_elevators_in_use_with_a_margin(
    session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    _place(session, clock, "11SHA000001", 31.20, 121.00)
    _place(session, clock, "11SHA000002", 31.30, 121.50)
    _place(session, clock, "11SHB000003", 31.10, 121.25)
    # out of use: not on the map, however far away
    _place(session, clock, "11SHB000004", 40.0, 116.4)
    service.record_event(
        session, SYSTEM_ACTOR, "11SHB000004", EventIn(kind=EventKind.SUSPENSION, summary="repairs"), clock
    )
    extent = queries.map_extent(session)
    margin_lat, margin_lon = 0.2 * queries.MAP_MARGIN_SHARE, 0.5 * queries.MAP_MARGIN_SHARE
    assert extent.south == pytest.approx(31.10 - margin_lat)
    assert extent.north == pytest.approx(31.30 + margin_lat)
    assert extent.west == pytest.approx(121.00 - margin_lon)
    assert extent.east == pytest.approx(121.50 + margin_lon)
    assert extent.bounds == [[extent.south, extent.west], [extent.north, extent.east]]
    marks = {d.name: (d.lat, d.lon) for d in extent.districts}
    assert marks.keys() == {"静安区", "徐汇区"}
    assert marks["静安区"] == pytest.approx((31.25, 121.25))
    assert marks["徐汇区"] == pytest.approx((31.10, 121.25))


def test_one_elevator_gets_the_minimum_margin(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    _place(session, clock, "11SHA000001", 31.20, 121.40)
    extent = queries.map_extent(session)
    m = queries.MAP_MARGIN_MIN_DEG
    assert (extent.south, extent.west, extent.north, extent.east) == pytest.approx(
        (31.20 - m, 121.40 - m, 31.20 + m, 121.40 + m)
    )


# ---------------------------------------------------------------- bulk load


def _rows(start: service.LoadStart, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    at = datetime(2020, 1, 1, tzinfo=UTC)
    elevators = []
    events = []
    for i in range(n):
        eid = start.first_elevator_id + i
        elevators.append(
            {
                "id": eid,
                "registration_code": f"99BULK{i:05d}",
                "equipment_code": "",
                "rescue_code": f"9{i:05d}",
                "kind": "traction",
                "district": "测试区",
                "street": "",
                "address": "",
                "building": "",
                "place_type": "office",
                "status": "in_use",
                "iot_terminal_id": "",
                "manufacturer": "",
                "model": "",
                "serial_number": "",
                "no_property_management": False,
                "no_maintenance_contract": False,
                "no_repair_fund": False,
                "created_at": at,
                "updated_at": at,
            }
        )
        events.append(
            {
                "elevator_id": eid,
                "kind": EventKind.REGISTRATION.value,
                "occurred_at": at,
                "recorded_at": at,
                "recorded_by": "sim",
                "summary": "registered",
                "details": {},
            }
        )
    return elevators, events


def test_bulk_load_stores_elevators_with_their_files(session: Session) -> None:
    start = service.bulk_load_start(session)
    elevators, events = _rows(start, 3)
    chunks: list[int] = []
    assert service.bulk_load(session, [], [(elevators, events)], on_chunk=chunks.append) == 3
    assert chunks == [3]
    assert queries.count_elevators(session) == 3
    with pytest.raises(ValueError, match="already holds 3 elevators"):
        service.bulk_load_start(session)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("no_registration", "exactly one registration entry"),
        ("two_registrations", "exactly one registration entry"),
        ("foreign_entry", "not in its chunk"),
        ("unknown_kind", "unknown file entry kind"),
    ],
)
def test_bulk_load_refuses_a_chunk_that_breaks_the_file_rule(
    session: Session, breakage: str, message: str
) -> None:
    start = service.bulk_load_start(session)
    elevators, events = _rows(start, 2)
    if breakage == "no_registration":
        events.pop()
    elif breakage == "two_registrations":
        events.append(dict(events[0]))
    elif breakage == "foreign_entry":
        events.append({**events[0], "elevator_id": start.first_elevator_id + 50})
    else:
        events.append({**events[0], "kind": "teleport"})
    with pytest.raises(ValueError, match=message):
        service.bulk_load(session, [], [(elevators, events)])
    session.rollback()
    assert queries.count_elevators(session) == 0
