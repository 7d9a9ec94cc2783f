"""The registry service and queries: the elevator file's timeline, status through life events, filters and
scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.registry import queries, service
from liftwatch.registry.domain import EventKind
from liftwatch.registry.models import AppendOnlyViolation, ElevatorEvent, Unit
from liftwatch.registry.queries import ElevatorFilter
from liftwatch.registry.schemas import ElevatorCreate, ElevatorUpdate, EventIn
from tests.factories import seed

REG = Actor("reg", Role.REGULATOR)


def _unit_id(session: Session, code: str) -> int:
    unit_id = session.scalar(select(Unit.id).where(Unit.code == code))
    assert unit_id is not None
    return unit_id


def _kinds(session: Session, code: str) -> list[str]:
    elevator = queries.get_elevator(session, REG, code)
    return [e.kind for e in queries.timeline(session, elevator)]


def test_create_writes_the_first_entry_of_the_file(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    elevator = queries.get_elevator(session, REG, "11SHA000001")
    (entry,) = queries.timeline(session, elevator)
    assert entry.kind == "registration"
    assert entry.occurred_at.date() == date(2005, 3, 1)
    assert entry.recorded_by == "system"


def test_duplicate_codes_conflict_naming_the_field(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    data = ElevatorCreate(
        registration_code="11SHA000001",
        rescue_code="100002",
        kind="traction",
        place_type="office",
        district="x",
    )
    with pytest.raises(Conflict) as exc:
        service.create_elevator(session, REG, data, clock)
    assert {e.field for e in exc.value.errors} == {"registration_code", "rescue_code"}


def test_unknown_or_wrong_type_unit_is_rejected(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    base = {"rescue_code": "555555", "kind": "traction", "place_type": "office", "district": "x"}
    with pytest.raises(InvalidInput) as exc:
        service.create_elevator(
            session, REG, ElevatorCreate(registration_code="NEW1", maintenance_unit="NOPE", **base), clock
        )
    assert exc.value.errors[0].field == "maintenance_unit"
    with pytest.raises(InvalidInput) as exc:
        service.create_elevator(
            session, REG, ElevatorCreate(registration_code="NEW2", maintenance_unit="UU-A", **base), clock
        )
    assert "expected a maintenance" in exc.value.errors[0].message


def test_update_records_what_changed_and_unit_changes(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    clock.advance(timedelta(days=1))
    service.update_elevator(
        session, REG, "11SHA000001", ElevatorUpdate(model="GeN2", maintenance_unit="MU-B"), clock
    )
    elevator = queries.get_elevator(session, REG, "11SHA000001")
    entries = queries.timeline(session, elevator)
    by_kind = {e.kind: e for e in entries}
    assert by_kind["record_update"].details == {"model": {"from": "", "to": "GeN2"}}
    assert by_kind["maintenance_unit_change"].details == {"from": "MU-A", "to": "MU-B"}
    assert elevator.maintenance_unit is not None and elevator.maintenance_unit.code == "MU-B"
    assert elevator.updated_at == clock.now()


def test_update_that_changes_nothing_writes_nothing(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    service.update_elevator(session, REG, "11SHA000001", ElevatorUpdate(rated_load_kg=1000), clock)
    assert _kinds(session, "11SHA000001") == ["registration"]


def test_required_fields_cannot_be_cleared(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    with pytest.raises(ValidationError) as exc:  # refused by the schema (422 naming it over HTTP)
        ElevatorUpdate(district=None)
    assert exc.value.errors()[0]["loc"] == ("district",)
    with pytest.raises(InvalidInput) as invalid:  # and by the service, for a caller that skips the schema
        service.update_elevator(
            session, REG, "11SHA000001", ElevatorUpdate.model_construct(district=None), clock
        )
    assert invalid.value.errors[0].field == "district"


def test_unit_staff_may_not_touch_reserved_fields(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    staff = Actor("m", Role.MAINTENANCE, unit_id=_unit_id(session, "MU-A"))
    with pytest.raises(Forbidden) as exc:
        service.update_elevator(
            session,
            staff,
            "11SHA000001",
            ElevatorUpdate(model="x", use_unit="UU-B", place_type="mall"),
            clock,
        )
    assert [e.field for e in exc.value.errors] == ["place_type", "use_unit"]
    service.update_elevator(session, staff, "11SHA000001", ElevatorUpdate(iot_terminal_id="T-1"), clock)


def test_status_follows_life_events(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    code = "11SHA000001"
    with pytest.raises(Conflict):
        service.record_event(session, REG, code, EventIn(kind=EventKind.RESTART), clock)
    service.record_event(session, REG, code, EventIn(kind=EventKind.SUSPENSION, summary="停用"), clock)
    assert queries.get_elevator(session, REG, code).status == "suspended"
    with pytest.raises(Conflict):
        service.record_event(session, REG, code, EventIn(kind=EventKind.SUSPENSION), clock)
    service.record_event(session, REG, code, EventIn(kind=EventKind.RESTART), clock)
    assert queries.get_elevator(session, REG, code).status == "in_use"
    service.record_event(session, REG, code, EventIn(kind=EventKind.SCRAPPING), clock)
    assert queries.get_elevator(session, REG, code).status == "scrapped"
    with pytest.raises(Conflict):
        service.record_event(session, REG, code, EventIn(kind=EventKind.MAJOR_REPAIR), clock)
    with pytest.raises(Conflict):
        service.update_elevator(session, REG, code, ElevatorUpdate(model="x"), clock)
    assert _kinds(session, code)[:3] == ["scrapping", "restart", "suspension"]


def test_automatic_kinds_and_future_dates_are_refused(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    with pytest.raises(InvalidInput) as exc:
        service.record_event(session, REG, "11SHA000001", EventIn(kind=EventKind.REGISTRATION), clock)
    assert exc.value.errors[0].field == "kind"
    future = clock.now() + timedelta(hours=1)
    with pytest.raises(InvalidInput) as exc:
        service.record_event(
            session, REG, "11SHA000001", EventIn(kind=EventKind.MAJOR_REPAIR, occurred_at=future), clock
        )
    assert exc.value.errors[0].field == "occurred_at"


def test_back_dated_event_sorts_by_when_it_happened(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    when = datetime(2015, 5, 5, tzinfo=UTC)
    service.record_event(
        session, REG, "11SHA000001", EventIn(kind=EventKind.MODERNISATION, occurred_at=when), clock
    )
    assert _kinds(session, "11SHA000001") == ["modernisation", "registration"]


def test_file_entries_are_append_only(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    entry = session.scalars(select(ElevatorEvent)).first()
    assert entry is not None
    entry.summary = "rewritten history"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    entry = session.scalars(select(ElevatorEvent)).first()
    session.delete(entry)
    with pytest.raises(AppendOnlyViolation):
        session.flush()


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (ElevatorFilter(), ["11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"]),
        (ElevatorFilter(district="徐汇区"), ["11SHB000003", "11SHB000004"]),
        (ElevatorFilter(street="南京西路街道"), ["11SHA000001", "11SHA000002"]),
        (ElevatorFilter(unit="MU-B"), ["11SHB000003", "11SHB000004"]),
        (ElevatorFilter(unit="UU-A"), ["11SHA000001", "11SHA000002"]),
        (ElevatorFilter(unit="NOPE"), []),
        (ElevatorFilter(place_type="residential"), ["11SHA000001", "11SHB000004"]),
        (ElevatorFilter(kind="escalator"), ["11SHB000003"]),
        # ages on 2026-11-23: 21.7, 7.5, 14.9, 28.2 years
        (ElevatorFilter(age_min=15), ["11SHA000001", "11SHB000004"]),
        (ElevatorFilter(age_min=10, age_max=22), ["11SHA000001", "11SHB000003"]),
        (ElevatorFilter(age_max=10), ["11SHA000002"]),
        (ElevatorFilter(q="000003"), ["11SHB000003"]),
        (ElevatorFilter(q="100004"), ["11SHB000004"]),
        (ElevatorFilter(q="某路02"), ["11SHA000002"]),
        (ElevatorFilter(status="suspended"), []),
        (ElevatorFilter(three_no=True), []),
    ],
)
def test_filters(session: Session, clock: FixedClock, flt: ElevatorFilter, expected: list[str]) -> None:
    seed(session, clock)
    items, total = queries.list_elevators(session, REG, flt, clock)
    assert [e.registration_code for e in items] == expected
    assert total == len(expected)


def test_three_no_needs_all_three_flags(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    service.update_elevator(
        session, REG, "11SHB000004", ElevatorUpdate(no_property_management=True, no_repair_fund=True), clock
    )
    assert queries.list_elevators(session, REG, ElevatorFilter(three_no=True), clock)[1] == 0
    service.update_elevator(session, REG, "11SHB000004", ElevatorUpdate(no_maintenance_contract=True), clock)
    items, _ = queries.list_elevators(session, REG, ElevatorFilter(three_no=True), clock)
    assert [e.registration_code for e in items] == ["11SHB000004"]
    assert items[0].three_no


def test_pagination(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    page2, total = queries.list_elevators(session, REG, ElevatorFilter(), clock, page=2, size=3)
    assert total == 4
    assert [e.registration_code for e in page2] == ["11SHB000004"]


def test_unit_scope_lists_only_own_elevators(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    maint = Actor("m", Role.MAINTENANCE, unit_id=_unit_id(session, "MU-A"))
    owner = Actor("o", Role.USE_UNIT, unit_id=_unit_id(session, "UU-B"))
    orphan = Actor("x", Role.MAINTENANCE, unit_id=None)
    assert [
        e.registration_code for e in queries.list_elevators(session, maint, ElevatorFilter(), clock)[0]
    ] == [
        "11SHA000001",
        "11SHA000002",
    ]
    assert queries.list_elevators(session, owner, ElevatorFilter(kind="escalator"), clock)[1] == 1
    assert queries.list_elevators(session, orphan, ElevatorFilter(), clock)[1] == 0
    with pytest.raises(NotFound):
        queries.get_elevator(session, maint, "11SHB000003")
    with pytest.raises(NotFound):
        queries.get_unit(session, maint, "MU-B")
    assert [u.code for u in queries.list_units(session, owner)[0]] == ["UU-B"]


def test_unit_counts(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    units, _ = queries.list_units(session, SYSTEM_ACTOR)
    counts = queries.elevator_counts(session, units)
    by_code = {u.code: counts.get(u.id, 0) for u in units}
    assert by_code == {"MU-A": 2, "MU-B": 2, "UU-A": 2, "UU-B": 2, "IB-1": 0, "IN-A": 0}


def test_public_view_shows_only_public_facts(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    view = queries.public_view(session, "100003")
    assert view.registration_code == "11SHB000003"
    assert view.maintenance_unit is not None and view.maintenance_unit.code == "MU-B"
    assert view.maintenance_phone == "021-5555B"
    assert not hasattr(view, "iot_terminal_id")


def test_places_lists_districts_and_streets_in_scope(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    assert queries.places(session, REG) == {"徐汇区": ["天平路街道"], "静安区": ["南京西路街道"]}
    owner = Actor("o", Role.USE_UNIT, unit_id=_unit_id(session, "UU-B"))
    assert queries.places(session, owner) == {"徐汇区": ["天平路街道"]}
