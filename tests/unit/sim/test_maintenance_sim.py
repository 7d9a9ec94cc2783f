"""Simulated maintenance: deterministic by seed, visits on plan, fakes in the shares configured, showing their
sign, and ground truth that matches the visits."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta, timezone
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import pytest

from liftwatch.maintenance.fakes import (
    TELEMETRY_KINDS,
    FakeKind,
    FakeSettings,
    expected_minutes,
    haversine_m,
    judge_visits,
)
from liftwatch.sim.maintenance import SimVisit, SiteElevator, fleet_from_plan, simulate_visits, write_truth

START = date(2026, 10, 1)


@lru_cache(maxsize=1)
def fleet() -> tuple[SiteElevator, ...]:
    return tuple(fleet_from_plan(300, seed=3))


@lru_cache(maxsize=4)
def visits(seed: int = 1, share: float = 0.03, days: int = 45) -> tuple[SimVisit, ...]:
    return tuple(simulate_visits(fleet(), START, days=days, seed=seed, shares=dict.fromkeys(FakeKind, share)))


def test_the_same_seed_gives_the_same_visits_and_another_seed_others() -> None:
    a = visits(1)
    b = tuple(simulate_visits(fleet(), START, days=45, seed=1))
    assert [(s.visit, s.telemetry, s.fake) for s in a] == [(s.visit, s.telemetry, s.fake) for s in b]
    c = visits(2)
    assert [s.visit for s in a] != [s.visit for s in c]


def test_every_elevator_is_visited_every_15_days_with_its_items() -> None:
    sims = visits()
    per = Counter(s.visit.elevator for s in sims)
    assert set(per) == {e.registration_code for e in fleet()}
    assert set(per.values()) == {3}  # 45 days: on its phase day, 15 and 30 days later
    for s in sims:
        assert s.visit.items, "a visit carries the items due"
        assert s.visit.items[0].code[0] in "ABCD"
    intervals = Counter(s.interval.value for s in sims)
    assert intervals["half_month"] > intervals["quarter"] > 0


def test_a_worker_never_overlaps_himself_on_honest_visits() -> None:
    sims = [s for s in visits(share=0.0) if "late_check_out" not in s.noise]
    by_worker: dict[str, list[SimVisit]] = {}
    for s in sims:
        by_worker.setdefault(s.visit.worker, []).append(s)
    for mine in by_worker.values():
        mine.sort(key=lambda s: s.visit.check_in)
        for a, b in pairwise(mine):
            assert a.visit.check_out <= b.visit.check_in


def test_no_shares_no_fakes() -> None:
    assert all(s.fake is None for s in visits(share=0.0))


def test_each_kind_is_injected_near_its_share() -> None:
    sims = visits(share=0.05, days=91)
    monitored = sum(s.telemetry is not None for s in sims)
    counts = Counter(s.fake for s in sims if s.fake)
    for kind in FakeKind:
        # the telemetry kinds are kept only on elevators with a terminal
        base = monitored if kind in TELEMETRY_KINDS else len(sims)
        assert counts[kind] == pytest.approx(0.05 * base, rel=0.3), kind
    assert all(s.telemetry is not None for s in sims if s.fake in TELEMETRY_KINDS)
    assert monitored < len(sims), "the city has elevators without a terminal"


def test_real_visits_check_in_near_and_spend_most_time_in_inspection() -> None:
    checked = 0
    for s in visits(share=0.0):
        v = s.visit
        assert v.check_in_at is not None and v.elevator_at is not None
        if "coarse_fix" not in s.noise:
            assert haversine_m(v.check_in_at, v.elevator_at) < 400
        t = s.telemetry
        if t is None or {"machine_room_first", "brief_drop", "long_outage"} & set(s.noise):
            continue
        inspection = sum(
            (min(x.end, v.check_out) - max(x.start, v.check_in)).total_seconds()
            for x in t.inspection
            if x.end > v.check_in and x.start < v.check_out
        )
        assert inspection / 60 >= 0.5 * v.minutes
        checked += 1
    assert checked > 500


def test_fakes_show_their_sign() -> None:
    sims = visits(share=0.05, days=91)
    seen: Counter[FakeKind] = Counter()
    short: list[float] = []
    for s in sims:
        v, t = s.visit, s.telemetry
        if s.fake is None:
            continue
        seen[s.fake] += 1
        if s.fake is FakeKind.FAR_CHECK_IN:
            assert v.check_in_at is not None and v.elevator_at is not None
            assert haversine_m(v.check_in_at, v.elevator_at) >= 1400
        elif s.fake is FakeKind.NO_INSPECTION_MODE:
            assert t is not None and not t.inspection
        elif s.fake is FakeKind.NORMAL_SERVICE_DURING_VISIT and not {"brief_drop", "long_outage"} & set(
            s.noise
        ):
            assert t is not None and len(t.inspection) == 1 and t.inspection[0].minutes <= 6
        elif s.fake is FakeKind.TERMINAL_OFFLINE:
            assert t is not None
            assert all(o.end <= v.check_in or o.start >= v.check_out for o in t.online)
        elif s.fake is FakeKind.TWO_PLACES_AT_ONCE:
            assert s.counterparts, "a two-places fake overlaps another visit of its worker"
        elif s.fake is FakeKind.TOO_SHORT:
            short.append(v.minutes / expected_minutes(v.items, FakeSettings()))
    assert set(seen) == set(FakeKind)
    # 10-40% of what the items take the worker; a real visit takes about twice the detector's minimum
    # (so a slow worker's short fake can still pass the detector's minimum: a miss the bench counts)
    assert max(short) < 1.6
    assert sorted(short)[len(short) // 2] < 0.7
    assert sum(r < 1 for r in short) >= 0.9 * len(short)


def test_the_truth_file_matches_the_visits(tmp_path: Path) -> None:
    sims = visits(share=0.05, days=91)
    path = tmp_path / "truth.jsonl"
    n = write_truth(path, sims)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == n
    by_id = {s.visit.id: s for s in sims}
    fakes = {s.visit.id for s in sims if s.fake}
    assert {r["visit_id"] for r in records if r["fake"]} == fakes
    for r in records:
        s = by_id[r["visit_id"]]
        assert r["fake"] == (s.fake.value if s.fake else None)
        assert r["registration_code"] == s.visit.elevator
        assert r["check_in"] == s.visit.check_in.isoformat()
        for other in r["counterpart_of"]:
            assert r["visit_id"] in by_id[other].counterparts
    assert [r["check_in"] for r in records] == sorted(r["check_in"] for r in records)


def test_night_visits_cross_midnight() -> None:
    """Malls and metro stations are maintained at night: some visits end on the next calendar day."""
    shanghai = timezone(timedelta(hours=8))
    assert any(e.place_type in ("mall", "metro") for e in fleet())
    sims = visits(share=0.0, days=91)
    assert any(
        s.visit.check_in.astimezone(shanghai).date() != s.visit.check_out.astimezone(shanghai).date()
        for s in sims
    )


def test_the_detector_finds_the_fakes_of_a_small_city() -> None:
    sims = visits(share=0.05, days=91)
    judged = {
        j.visit_id: j.kinds
        for j in judge_visits([s.visit for s in sims], {s.visit.id: s.telemetry for s in sims})
    }
    for kind in FakeKind:
        fakes = [s for s in sims if s.fake is kind]
        found = sum(kind in judged[s.visit.id] for s in fakes)
        assert found >= 0.85 * len(fakes), (kind, found, len(fakes))
