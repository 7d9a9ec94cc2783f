"""The compiled detector (Cython, built by `make setup` from detector.py) is the one the platform runs, it is
built from the source as it is now, and it finds exactly what the same source run as plain Python finds."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from liftwatch.sim.telemetry import FaultRates, TelemetrySimulator, synthetic_fleet
from liftwatch.telemetry import detector as compiled
from liftwatch.telemetry.faults import DetectorSettings, FaultChange
from liftwatch.telemetry.interpreted import detector_as_source
from liftwatch.telemetry.protocol import DoorCommand, Event, Heartbeat, ServiceMode, Status

SOURCE = Path(compiled.__file__).with_name("detector.py")
TICK_MS = 1_000


def test_the_detector_is_compiled_from_its_current_source() -> None:
    path = Path(compiled.__file__)
    assert path.suffix == ".so", f"the detector runs uncompiled from {path}: run `make setup`"
    stale = SOURCE.stat().st_mtime > path.stat().st_mtime
    assert not stale, f"{path.name} is older than detector.py: run `make setup` to rebuild it"


Rename = Callable[[str, Any], tuple[str, Any]]


def _run(
    module: ModuleType, seed: int, hours: float, split: bool, rename: Rename | None = None
) -> tuple[list[Any], list[Any], bytes]:
    """Changes, mode changes and the final dump of a simulated stretch; ``split``: half-way the detector
    is dumped and a new one (of the same module) carries on from the dump, as after a restart;
    ``rename``: each message's code and message as the detector gets them."""
    settings = DetectorSettings()
    start = int(datetime(2026, 11, 23, 1, tzinfo=UTC).timestamp() * 1000)
    end = start + int(hours * 3_600_000)
    fleet = synthetic_fleet(120, seed, escalator_share=0.3)
    sim = TelemetrySimulator(fleet, seed, start, FaultRates.stress(), settings)
    det = module.Detector(settings, sim.rated_speeds)
    changes: list[FaultChange] = []
    modes: list[Any] = []
    next_tick = start + TICK_MS
    half = start + (end - start) // 2
    for deliver, code, msg in sim.messages(end):
        if rename is not None:
            code, msg = rename(code, msg)
        while deliver >= next_tick:
            changes += det.tick(next_tick)
            next_tick += TICK_MS
        changes += det.feed(code, msg, deliver)
        modes += [msgspec.structs.astuple(m) for m in det.take_mode_changes()]  # each module's own type
        if split and deliver >= half:
            split = False
            blob = det.dump_all()
            det = module.Detector(settings, sim.rated_speeds)
            det.load_all(blob)
    changes += det.tick(end)
    stats = det.stats
    assert stats.messages > 0
    # the dictionaries new states share until they write to one of their own: never written to
    assert module._NO_FIRST == module._NO_EVENTS == module._NO_OPEN == {}
    return changes, modes, det.dump_all()


@pytest.mark.parametrize("split", [False, True], ids=["straight", "restored-half-way"])
def test_the_compiled_detector_finds_what_the_source_finds(split: bool) -> None:
    plain = detector_as_source()
    assert not plain.cython.compiled
    got = _run(compiled, 31, 1.5, split)
    want = _run(plain, 31, 1.5, split)
    assert len(want[0]) > 50, "the stress rates should raise and clear many faults"
    assert {c.fault_type for c in want[0]} >= {"entrapment", "power_cut", "terminal_offline"}
    assert got[0] == want[0]
    assert len(want[1]) > 100
    assert got[1] == want[1]
    assert got[2] == want[2]  # the same state, byte for byte: a checkpoint moves between the two


def _odd_names(code: str, msg: Any) -> tuple[str, Any]:
    """Codes and msg_ids around what the compiled detector keeps as characters in a state (codes of at most
    36 Latin-1 characters, ids of at most 40) and past it, an id's kind changing from message to message."""
    n = sum(map(ord, code))
    code = [code, (code + "0" * 36)[:36], (code + "0" * 37)[:37], f"梯{code}", f"é{code}"][n % 5]
    mid = msg.msg_id
    mid = [mid, (mid + "-" * 40)[:40], (mid + "-" * 41)[:41], f"消息{mid}", f"café{mid}"][(msg.seq + n) % 5]
    return code, msgspec.structs.replace(msg, msg_id=mid)


@pytest.mark.parametrize("split", [False, True], ids=["straight", "restored-half-way"])
def test_long_and_non_latin_codes_and_ids_give_what_the_source_gives(split: bool) -> None:
    """Compiled, a state keeps its code and its newest msg_ids as characters when they fit, else as string
    objects: either way the same faults, the same evidence (the ids that raised them) and the same dump."""
    plain = detector_as_source()
    got = _run(compiled, 33, 1.0, split, _odd_names)
    want = _run(plain, 33, 1.0, split, _odd_names)
    evidence = {m for c in want[0] for m in c.evidence}
    assert {len(m) for m in evidence} >= {40, 41}
    assert any("消息" in m for m in evidence) and any("café" in m for m in evidence)
    codes = {c.registration_code for c in want[0]}
    assert {len(c) for c in codes} >= {36, 37} and any(c.startswith("梯") for c in codes)
    assert {c.fault_type for c in want[0]} >= {"entrapment", "terminal_offline"}
    assert got[0] == want[0]
    assert got[2] == want[2]


def test_a_checkpoint_of_the_plain_detector_loads_into_the_compiled_one() -> None:
    plain = detector_as_source()
    changes, _, blob = _run(plain, 32, 0.5, False)
    assert changes
    det = compiled.Detector(DetectorSettings())
    det.load_all(blob)
    assert det.dump_all() == blob


def test_the_compiled_detector_reads_every_message_field_from_its_own_place() -> None:
    """Compiled, a message's fields are read at their offsets in the object (``_field``): each field of each
    type at one place of its own, inside the object, and the same statuses give the same faults whichever
    field carries the condition."""
    for tp in (Status, Event, Heartbeat):
        offsets = compiled._slot_offsets(tp)
        assert set(offsets) == set(tp.__struct_fields__)
        assert len(set(offsets.values())) == len(offsets), f"{tp.__name__}: two fields at one place"
        assert all(0 < o < tp.__basicsize__ for o in offsets.values())
    plain = detector_as_source()
    base = {"msg_id": "m", "seq": 0, "ts": 0, "running": False, "door_closed": True, "door_zone": True}
    base |= {"power": True, "safety_circuit": True, "mode": ServiceMode.NORMAL, "floor": 3}
    # each one field that turns a held condition on (the rest as a quiet, stopped car)
    variants = [
        {"door_zone": False},
        {"passenger": True},
        {"up_limit": True},
        {"down_limit": True},
        {"power": False},
        {"running": True, "door_closed": False},
        {"speed": 5.0, "rated_speed": 1.0},
        {"door_command": DoorCommand.CLOSE, "door_closed": False},
    ]
    for i, change in enumerate(variants):
        results = []
        for module in (compiled, plain):
            det = module.Detector(DetectorSettings())
            got: list[FaultChange] = []
            for seq in range(200):
                ts = 1_000_000 + seq * 1_000
                msg = Status(**(base | change | {"msg_id": f"m{i}-{seq}", "seq": seq, "ts": ts}))
                got += det.feed("E1", msg, ts)
            results.append([(c.fault_type, c.raised, c.at_ms, c.evidence) for c in got])
        assert results[0], f"{change}: the held condition should raise a fault"
        assert results[0] == results[1], change


@pytest.mark.parametrize("module", ["compiled", "plain"])
def test_feed_refuses_an_object_that_is_not_a_message(module: str) -> None:
    """The compiled detector reads fields by place, so only the three message types may come in: anything
    else (a subclass too) is refused before it touches a state."""

    class Odd(Status, frozen=True):
        pass

    m = compiled if module == "compiled" else detector_as_source()
    det = m.Detector(DetectorSettings())
    odd = Odd(
        msg_id="x", seq=0, ts=0, mode=ServiceMode.NORMAL, running=False, door_closed=True, door_zone=True
    )
    with pytest.raises(TypeError, match="not a status, event or heartbeat: Odd"):
        det.feed("E1", odd, 0)
    assert det.stats.messages == 0
    assert det.dump() == {}


def _car(code: str, seq: int, ts: int, passenger: bool = True, running: bool = False) -> Status:
    """A status of a car at a landing, doors shut."""
    return Status(
        msg_id=f"{code}-{seq}",
        seq=seq,
        ts=ts,
        mode=ServiceMode.NORMAL,
        running=running,
        door_closed=True,
        door_zone=True,
        passenger=passenger,
    )


def test_the_compiled_detector_finds_each_state_after_growing_and_restoring() -> None:
    """Compiled, ``feed`` finds a terminal's state in its own table (``_find``), which grows with the fleet
    and must follow a restore that replaces states: 5,000 terminals (the table rebuilt several times), a
    checkpoint of half of them loaded over live states, then more messages; every state as the plain
    detector has it."""
    plain = detector_as_source()
    codes = [f"31{n:08d}" for n in range(5_000)]

    runs = []
    for module in (compiled, plain):
        det = module.Detector(DetectorSettings())
        got: list[FaultChange] = []
        for seq in range(3):  # the entrapments (one terminal in seven) are raised at the third message
            ts = 1_000_000 + seq * 60_000
            for i, code in enumerate(codes):
                got += det.feed(code, _car(code, seq, ts, passenger=i % 7 == 0), ts)
        half = det.dump(codes[::2])
        for code in codes[::2]:
            got += det.feed(code, _car(code, 3, 1_180_000, passenger=False), 1_180_000)
        det.load(half)  # back to the checkpoint: the states fed since are replaced
        assert det.dump(codes[::2]) == half
        for code in codes:
            got += det.feed(code, _car(code, 3, 1_200_000, passenger=False), 1_200_000)
        assert {c.fault_type for c in got} == {"entrapment"}
        assert sum(c.raised for c in got) == len(codes[::7])
        runs.append(([(c.registration_code, c.raised, c.at_ms) for c in got], det.dump_all()))
    assert runs[0] == runs[1]


def test_each_timer_fires_at_the_first_tick_it_is_due_in_both_builds() -> None:
    """The timer heap (compiled: pairs of C integers in a buffer that grows; plain: heapq on ints): 3,000
    entrapment timers, many due at the very same millisecond, a fifth of them cancelled (their entries
    stay in the heap, to be skipped): each other one is confirmed by the first tick at or after its due
    time plus the grace, and both builds give the same changes tick by tick."""
    plain = detector_as_source()
    settings = DetectorSettings()
    rng = random.Random(5)
    t0 = 1_000_000_000
    starts = {f"31{n:08d}": t0 + rng.randrange(0, 2_000) // 7 * 7 for n in range(3_000)}
    cancelled = set(rng.sample(sorted(starts), 600))

    arrivals = [(t, code, _car(code, 0, t)) for code, t in starts.items()]
    arrivals += [(starts[c] + 5_000, c, _car(c, 1, starts[c] + 5_000, running=True)) for c in cancelled]
    arrivals.sort(key=lambda a: (a[0], a[1]))
    runs = []
    for module in (compiled, plain):
        det = module.Detector(settings)
        ticks: list[tuple[int, list[tuple[str, bool, int]]]] = []
        i = 0
        for now in range(t0, t0 + 130_000, 250):
            while i < len(arrivals) and arrivals[i][0] <= now:
                at, code, msg = arrivals[i]
                assert det.feed(code, msg, at) == []
                i += 1
            got = det.tick(now)
            ticks.append((now, [(c.registration_code, c.raised, c.at_ms) for c in got if c.raised]))
        runs.append(ticks)
    assert runs[0] == runs[1]
    confirmed = {code: (now, at) for now, got in runs[0] for code, _, at in got}
    assert set(confirmed) == set(starts) - cancelled
    for code, (now, at) in confirmed.items():
        due = starts[code] + settings.entrapment_in_zone_ms
        assert at == due
        assert now - 250 < due + settings.tick_grace_ms <= now, (code, now, due)
