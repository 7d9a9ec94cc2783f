"""Fake-maintenance detection (假维保): each kind is flagged with its evidence, its honest counterpart is not,
and what cannot be judged (no terminal, terminal down, coarse fix) is never flagged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from liftwatch.maintenance.domain import Evidence
from liftwatch.maintenance.fakes import (
    TELEMETRY_KINDS,
    FakeKind,
    FakeSettings,
    Judgement,
    Point,
    SignedItem,
    Span,
    Telemetry,
    Visit,
    expected_minutes,
    haversine_m,
    judge_visit,
    judge_visits,
)

T0 = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SITE = Point(31.2304, 121.4737)
# a half-month visit of a traction lift: 25 ticks, 3 photos, 3 measurements -> 5 + 11.25 + 3 + 6 = 25.25 min
ITEMS = (
    tuple(SignedItem(f"A1-{n:02d}") for n in range(1, 26))
    + tuple(SignedItem(f"A1-{n:02d}", Evidence.PHOTO) for n in range(26, 29))
    + tuple(SignedItem(f"A1-{n:02d}", Evidence.MEASUREMENT) for n in range(29, 32))
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def span(a: float, b: float) -> Span:
    return Span(at(a), at(b))


def north(metres: float, of: Point = SITE) -> Point:
    return Point(of.lat + metres / 111_195.0, of.lon, 10.0)


def visit(minutes: float = 50, **changes: object) -> Visit:
    v = Visit(
        id="V1",
        elevator="11SHA000001",
        worker="W1",
        check_in=at(0),
        check_out=at(minutes),
        items=ITEMS,
        check_in_at=north(20),
        check_out_at=north(15),
        elevator_at=SITE,
    )
    return replace(v, **changes)  # type: ignore[arg-type]


def telemetry(
    minutes: float = 50,
    inspection: tuple[Span, ...] | None = None,
    online: tuple[Span, ...] | None = None,
    runs: tuple[Span, ...] = (),
) -> Telemetry:
    """A real visit's summary: inspection from minute 3 to 4 minutes before check-out, normal around it."""
    insp = inspection if inspection is not None else (span(3, minutes - 4),)
    normal: list[Span] = []
    cursor = at(-10)
    for s in insp:
        normal.append(Span(cursor, s.start))
        cursor = s.end
    normal.append(Span(cursor, at(minutes + 10)))
    window = span(-120, minutes + 120)
    return Telemetry(window, online if online is not None else (window,), insp, tuple(normal), runs)


def flag(j: Judgement, kind: FakeKind) -> dict[str, float | int | str]:
    found = [f for f in j.flags if f.kind is kind]
    assert len(found) == 1, f"expected one {kind} flag, got {j.flags}"
    return dict(found[0].evidence)


def test_a_real_visit_raises_no_flag() -> None:
    j = judge_visit(visit(), telemetry(runs=(span(1, 1.5), span(47, 47.5))))
    assert j.flags == ()
    assert j.not_judged == ()


def test_no_inspection_mode_is_flagged_with_its_minutes() -> None:
    runs = tuple(span(m, m + 0.5) for m in range(2, 48, 4))
    j = judge_visit(visit(), telemetry(inspection=(), runs=runs))
    ev = flag(j, FakeKind.NO_INSPECTION_MODE)
    assert ev["inspection_minutes"] == 0.0
    assert ev["minutes"] == 50.0
    assert ev["runs"] == len(runs)
    assert FakeKind.NORMAL_SERVICE_DURING_VISIT not in j.kinds  # the stronger sign says it all


def test_inspection_just_before_check_in_counts() -> None:
    """The worker may switch to inspection a few minutes before checking in."""
    assert judge_visit(visit(), telemetry(inspection=(span(-8, -1),))).kinds.isdisjoint(
        {FakeKind.NO_INSPECTION_MODE}
    )


def test_normal_service_with_a_token_inspection_is_flagged() -> None:
    runs = tuple(span(m, m + 0.5) for m in range(10, 45, 3))
    j = judge_visit(visit(), telemetry(inspection=(span(1, 5),), runs=runs))
    ev = flag(j, FakeKind.NORMAL_SERVICE_DURING_VISIT)
    assert ev["inspection_minutes"] == 4.0
    assert ev["judged_minutes"] == 40.0  # the middle: 5 minutes of grace at each end
    assert ev["share"] == 1.0
    assert ev["runs"] == len(runs)
    assert FakeKind.NO_INSPECTION_MODE not in j.kinds


def test_a_real_visit_starting_in_the_machine_room_is_not_normal_service() -> None:
    """Twenty minutes in normal mode in the machine room, then the shaft in inspection, test runs."""
    runs = (span(8, 8.5), span(14, 14.5), span(47, 47.5))
    j = judge_visit(visit(), telemetry(inspection=(span(20, 46),), runs=runs))
    assert j.flags == ()
    # even 30 minutes upstairs: the 16 in the shaft are no token inspection (a third of the visit)
    j = judge_visit(visit(), telemetry(inspection=(span(30, 46),), runs=runs))
    assert j.flags == ()
    # the same normal service with a 5-minute inspection is flagged
    j = judge_visit(visit(), telemetry(inspection=(span(30, 35),), runs=runs))
    assert j.kinds == {FakeKind.NORMAL_SERVICE_DURING_VISIT}


def test_too_short_for_the_items_signed() -> None:
    assert expected_minutes(ITEMS, FakeSettings()) == pytest.approx(25.25)
    j = judge_visit(visit(6), telemetry(6, inspection=(span(1, 5),)))
    ev = flag(j, FakeKind.TOO_SHORT)
    assert ev == {"minutes": 6.0, "expected_min": 25.2, "items": 31, "photos": 3, "measurements": 3}
    assert FakeKind.NORMAL_SERVICE_DURING_VISIT not in j.kinds  # no middle to judge in 6 minutes


def test_a_fast_but_sufficient_visit_is_not_too_short() -> None:
    assert FakeKind.TOO_SHORT not in judge_visit(visit(26), telemetry(26)).kinds


def test_too_short_is_configurable() -> None:
    strict = FakeSettings(item_minutes=1.0)
    ev = flag(judge_visit(visit(30), telemetry(30), settings=strict), FakeKind.TOO_SHORT)
    assert ev["expected_min"] == pytest.approx(39.0)


def test_a_far_check_in_is_flagged_with_the_distance() -> None:
    j = judge_visit(visit(check_in_at=north(3000)), telemetry())
    ev = flag(j, FakeKind.FAR_CHECK_IN)
    assert 2990 <= float(ev["metres"]) <= 3010
    assert ev["limit_m"] == 510  # 500 m plus the fix's 10 m accuracy
    assert ev["check_out_metres"] == 15


def test_gps_noise_is_not_far() -> None:
    noisy = Point(north(400).lat, SITE.lon, 150.0)  # 400 m off, the phone says +- 150 m
    assert judge_visit(visit(check_in_at=noisy), telemetry()).flags == ()


def test_a_coarse_fix_is_not_judged() -> None:
    coarse = Point(north(1200).lat, SITE.lon, 900.0)
    j = judge_visit(visit(check_in_at=coarse), telemetry())
    assert j.flags == ()
    assert [n.kind for n in j.not_judged] == [FakeKind.FAR_CHECK_IN]


def test_the_same_worker_at_two_places_at_once() -> None:
    here = visit()
    there = visit(id="V2", elevator="11SHA000002", check_in=at(20), check_out=at(70), elevator_at=north(8000))
    got = {j.visit_id: j for j in judge_visits([here, there], {"V1": telemetry(), "V2": None})}
    ev = flag(got["V1"], FakeKind.TWO_PLACES_AT_ONCE)
    assert ev["other_visit"] == "V2"
    assert ev["gap_minutes"] == -30.0
    assert ev["km"] == pytest.approx(8.0, abs=0.01)
    assert ev["travel_minutes"] == 12.0  # 8 km at 40 km/h
    assert flag(got["V2"], FakeKind.TWO_PLACES_AT_ONCE)["other_visit"] == "V1"
    # judge_visit with the worker's other visits says the same
    assert FakeKind.TWO_PLACES_AT_ONCE in judge_visit(here, telemetry(), [there]).kinds


def test_a_tight_gap_between_far_sites_is_two_places() -> None:
    """Checked out at 10:50, checked in 20 km away at 10:55: no car crosses a city that fast."""
    there = visit(
        id="V2", elevator="11SHA000002", check_in=at(55), check_out=at(105), elevator_at=north(20000)
    )
    assert FakeKind.TWO_PLACES_AT_ONCE in judge_visit(visit(), telemetry(), [there]).kinds


@pytest.mark.parametrize(
    ("metres", "gap", "worker"),
    [
        (8000, 25, "W1"),  # 8 km in 25 minutes: possible
        (200, -10, "W1"),  # the next lift of the same estate, checked out late
        (8000, -30, "W2"),  # another worker
    ],
)
def test_honest_sequences_are_not_two_places(metres: float, gap: float, worker: str) -> None:
    there = visit(
        id="V2",
        elevator="11SHA000002",
        worker=worker,
        check_in=at(50 + gap),
        check_out=at(100 + gap),
        elevator_at=north(metres),
    )
    assert judge_visit(visit(), telemetry(), [there]).flags == ()


def test_signed_while_the_terminal_was_offline() -> None:
    online = (span(-120, -5), span(62, 170))  # unplugged 5 minutes before check-in, back 12 after
    j = judge_visit(visit(), telemetry(online=online))
    ev = flag(j, FakeKind.TERMINAL_OFFLINE)
    assert ev["offline_minutes"] == 50.0
    assert ev["share"] == 1.0
    assert ev["offline_before_check_in_min"] == 5.0
    # nothing is known of the modes: they are not judged, never flagged
    assert {n.kind for n in j.not_judged} == {
        FakeKind.NO_INSPECTION_MODE,
        FakeKind.NORMAL_SERVICE_DURING_VISIT,
    }
    assert j.kinds == {FakeKind.TERMINAL_OFFLINE}


def test_a_brief_drop_out_is_not_offline() -> None:
    online = (span(-120, 20), span(28, 170))  # 8 minutes of 4G trouble
    assert judge_visit(visit(), telemetry(online=online)).flags == ()


def test_a_terminal_down_long_before_the_visit_is_not_judged() -> None:
    """Offline for hours before the worker came: the terminal's own offline fault stands, not this visit."""
    online = (span(90, 170),)
    j = judge_visit(visit(), telemetry(online=online))
    assert j.flags == ()
    assert {n.kind for n in j.not_judged} == set(TELEMETRY_KINDS)


def test_an_elevator_without_a_terminal_is_not_judged_on_telemetry() -> None:
    j = judge_visit(visit(), None)
    assert j.flags == ()
    assert {n.kind for n in j.not_judged} == set(TELEMETRY_KINDS)
    assert all(n.reason == "no IoT terminal" for n in j.not_judged)
    # the other kinds still are
    assert judge_visit(visit(6), None).kinds == {FakeKind.TOO_SHORT}


def test_a_visit_across_midnight() -> None:
    late = datetime(2026, 10, 5, 15, 40, tzinfo=UTC)  # 23:40 in Shanghai, out at 00:35
    tel = Telemetry(
        Span(late - timedelta(hours=2), late + timedelta(hours=3)),
        (Span(late - timedelta(hours=2), late + timedelta(hours=3)),),
        (Span(late + timedelta(minutes=3), late + timedelta(minutes=51)),),
    )
    j = judge_visit(visit(check_in=late, check_out=late + timedelta(minutes=55)), tel)
    assert j.flags == ()


def test_a_check_out_before_check_in_is_too_short_and_not_judged_on_telemetry() -> None:
    j = judge_visit(visit(check_out=at(-5)), telemetry())
    assert flag(j, FakeKind.TOO_SHORT)["minutes"] == 0.0
    assert {n.kind for n in j.not_judged} == set(TELEMETRY_KINDS)


def test_haversine() -> None:
    assert haversine_m(SITE, north(1000)) == pytest.approx(1000, abs=1)
    # Shanghai People's Square to Pudong airport, about 30 km
    assert haversine_m(SITE, Point(31.1443, 121.8083)) == pytest.approx(33_300, rel=0.02)
