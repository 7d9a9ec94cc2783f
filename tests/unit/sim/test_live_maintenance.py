"""The live crews' visit planner: one visit at a time per worker, after the drive, the items of the visit
with their measurements, the terminal held in inspection over a real visit, and each fake kind showing its
own signs (sim/live_maintenance.py). Pure and deterministic."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Interval, appendix_of
from liftwatch.maintenance.fakes import FakeKind, Point, haversine_m
from liftwatch.sim.live_maintenance import LEAD, DueOrder, Site, Worker, plan_visits
from liftwatch.telemetry.protocol import ServiceMode

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
HERE = Site("31103101002024000001", "100001", "traction", 31.23, 121.47, True, "MU-A", 7)
FAR = Site("31103101002024000002", "100002", "traction", 31.26, 121.47, True, "MU-A", 7)  # 3.3 km north
AT = Point(HERE.lat, HERE.lon)


def _orders(*sites: Site) -> list[DueOrder]:
    return [DueOrder(i + 1, s, Interval.QUARTER, date(2026, 12, 4)) for i, s in enumerate(sites)]


def _plan(kind: FakeKind | None, seed: int = 1, sites: tuple[Site, ...] = (HERE, FAR)) -> tuple[Worker, list]:
    worker = Worker("MU-A-W01", "MU-A", 1)
    shares = {kind: 1.0} if kind else {}
    return worker, plan_visits(worker, _orders(*sites), NOW, random.Random(seed), shares)


def test_a_real_visit_is_in_inspection_and_records_every_item_due() -> None:
    worker, visits = _plan(None)
    (v,) = visits
    assert v.fake is None and v.order.work_order_id == 1
    assert v.check_in >= NOW + LEAD
    assert timedelta(minutes=15) < v.check_out - v.check_in < timedelta(minutes=120)
    assert v.check_out < v.sign_at
    due = load_catalogue().items_due(appendix_of("traction"), Interval.QUARTER)
    assert sorted(e.code for e in v.items) == sorted(i.code for i in due)
    assert all(
        e.value is not None for e, i in zip(v.items, due, strict=True) if i.evidence.value == "measurement"
    )
    inspection = [h for h in v.holds if h.mode is ServiceMode.INSPECTION]
    held = sum((h.end - h.start).total_seconds() for h in inspection)
    assert held > 0.6 * (v.check_out - v.check_in).total_seconds()
    assert all(v.check_in <= h.start and h.end <= v.check_out for h in inspection)
    assert haversine_m(v.check_in_at, AT) < 1500
    assert worker.here == HERE.where and worker.free_at == v.check_out
    _, again = _plan(None)
    assert again[0].truth() == v.truth() and again[0].holds == v.holds  # deterministic


def test_the_next_visit_waits_for_the_drive() -> None:
    worker, (first,) = _plan(None)
    (second,) = plan_visits(worker, _orders(FAR), NOW, random.Random(2), {})
    assert second.check_in > first.check_out + timedelta(minutes=5)  # 3 km by road and parking


def test_each_fake_shows_its_signs() -> None:
    _, (v,) = _plan(FakeKind.NO_INSPECTION_MODE)
    assert not [h for h in v.holds if h.mode is ServiceMode.INSPECTION]
    _, (v,) = _plan(FakeKind.NORMAL_SERVICE_DURING_VISIT)
    (h,) = [h for h in v.holds if h.mode is ServiceMode.INSPECTION]
    assert h.end - h.start <= timedelta(minutes=6) and h.end < v.check_out - timedelta(minutes=5)
    _, (v,) = _plan(FakeKind.TOO_SHORT)
    assert v.check_out - v.check_in < timedelta(minutes=25)
    _, (v,) = _plan(FakeKind.FAR_CHECK_IN)
    assert haversine_m(v.check_in_at, AT) >= 1500
    _, (v,) = _plan(FakeKind.TERMINAL_OFFLINE)
    (silent,) = [h for h in v.holds if h.mode is None]
    assert silent.start <= v.check_in and silent.end >= v.check_out
    for t in (FakeKind.NO_INSPECTION_MODE, FakeKind.TERMINAL_OFFLINE):  # nothing to show without a terminal
        unmonitored = Site(HERE.registration_code, "100001", "traction", HERE.lat, HERE.lon, False, "MU-A", 7)
        _, (v,) = _plan(t, sites=(unmonitored,))
        assert v.fake is None and not v.holds


def test_two_places_at_once_overlaps_a_real_visit_a_km_away() -> None:
    _, (host, fake) = _plan(FakeKind.TWO_PLACES_AT_ONCE)
    assert host.fake is None and host.order.site == FAR and host.counterpart_of == [1]
    assert fake.fake is FakeKind.TWO_PLACES_AT_ONCE and fake.order.site == HERE and fake.counterparts == [2]
    assert host.check_in < fake.check_in < host.check_out
    assert any(h.mode is ServiceMode.INSPECTION for h in fake.holds)  # a colleague's real work
    assert fake.truth()["kind"] == "two_places_at_once"
    _, (alone,) = _plan(FakeKind.TWO_PLACES_AT_ONCE, sites=(HERE,))  # nowhere else to be: a real visit
    assert alone.fake is None
