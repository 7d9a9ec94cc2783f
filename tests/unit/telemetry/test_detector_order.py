"""Order inside a gateway batch does not matter (docs/PROTOCOL.md section 3): an elevator's messages
delivered ordered, reversed or shuffled give the same fault changes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from liftwatch.telemetry.detector import Detector
from liftwatch.telemetry.faults import DetectorSettings, FaultChange, FaultType
from liftwatch.telemetry.protocol import Event, EventCode, Heartbeat, Message, ServiceMode, Status
from tests.unit.telemetry.test_detector import DEFAULTS

T0 = 1_795_424_400_000
CODES = ("31101234567890", "31101234567891")
BATCH_MS = 60_000  # the gateway posts what it collected every minute


def _status(code: str, seq: int, ts: int, **kw: Any) -> Status:
    fields: dict[str, Any] = {
        "mode": ServiceMode.NORMAL,
        "running": False,
        "door_zone": True,
        "door_closed": True,
    }
    fields.update(kw)
    return Status(msg_id=f"{code[-1]}s{seq}", seq=seq, ts=ts, **fields)


def _timeline(code: str, start: int) -> list[Message]:
    """Ten minutes of one elevator: rides, a door-zone flicker, a stop between floors with an entrapment,
    the alarm pressed, a power cut, heartbeats."""
    out: list[Message] = []
    t = start
    seq = 0

    def add(msg_kw: dict[str, Any] | None = None, kind: str = "status", dt: int = 1_000) -> None:
        nonlocal t, seq
        seq += 1
        t += dt
        if kind == "status":
            out.append(_status(code, seq, t, **(msg_kw or {})))
        elif kind == "alarm":
            out.append(
                Event(
                    msg_id=f"{code[-1]}e{seq}", seq=seq, ts=t, code=EventCode.ALARM_BUTTON, **(msg_kw or {})
                )
            )
        else:
            out.append(Heartbeat(msg_id=f"{code[-1]}h{seq}", seq=seq, ts=t))

    for _ in range(3):  # rides
        add({"door_closed": False, "passenger": True})
        add({"passenger": True}, dt=3_000)
        add({"running": True, "door_zone": False, "passenger": True}, dt=1_000)
        add({"door_zone": False, "passenger": True}, dt=2_000)  # a brief stop outside the zone (flicker)
        add({"passenger": True}, dt=1_500)
        add({"door_closed": False, "passenger": False}, dt=2_000)
    add({"running": True, "door_zone": False, "passenger": True}, dt=5_000)
    add({"door_zone": False, "passenger": True}, dt=4_000)  # stuck between floors
    add({"door_zone": False, "passenger": True}, dt=12_000)
    add({}, kind="alarm", dt=9_000)
    add(kind="heartbeat", dt=15_000)
    add({"door_zone": False, "passenger": True, "power": False}, dt=10_000)  # and the power goes
    add({"door_zone": False, "passenger": True, "power": False}, dt=20_000)
    add({"active": False}, kind="alarm", dt=30_000)
    add({"door_closed": False, "passenger": True}, dt=60_000)  # released
    add({"door_closed": False, "passenger": False}, dt=20_000)
    add(kind="heartbeat", dt=30_000)
    return out


def _batches(arrange: str, seed: int) -> list[tuple[int, list[tuple[str, Message]]]]:
    """(post time, items) per gateway request: each elevator's messages of the last minute, arranged."""
    rng = random.Random(seed)
    by_post: dict[int, list[tuple[str, Message]]] = {}
    for k, code in enumerate(CODES):
        for msg in _timeline(code, T0 + 3_300 * k):
            post = (msg.ts // BATCH_MS + 1) * BATCH_MS
            by_post.setdefault(post, []).append((code, msg))
    out = []
    for post in sorted(by_post):
        items = by_post[post]
        if arrange == "reversed":
            items = items[::-1]
        elif arrange == "shuffled":
            rng.shuffle(items)
        out.append((post, items))
    return out


def _run(arrange: str, seed: int = 0) -> dict[str, list[FaultChange]]:
    """Every fault change, per elevator in the order given (the elevators' relative order in a batch is
    the gateway's)."""
    det = Detector(DetectorSettings(**{**DEFAULTS, "tick_grace_ms": 500}))
    for code in CODES:  # the terminals are known: each has reported before
        det.feed(code, Heartbeat(msg_id=f"{code[-1]}h0", seq=0, ts=T0), T0)
    changes: list[FaultChange] = []
    now = T0
    for post, items in _batches(arrange, seed):
        while now + 1_000 <= post:
            now += 1_000
            changes += det.tick(now)
        for code, msg in items:
            changes += det.feed(code, msg, post)
    for _ in range(600):
        now += 1_000
        changes += det.tick(now)
    return {code: [c for c in changes if c.registration_code == code] for code in CODES}


def test_the_timeline_raises_what_it_should() -> None:
    kinds = {(c.registration_code, c.fault_type, c.raised) for cs in _run("ordered").values() for c in cs}
    for code in CODES:
        for ft in (FaultType.ENTRAPMENT, FaultType.STOPPED_OUTSIDE_DOOR_ZONE, FaultType.POWER_CUT):
            assert (code, ft, True) in kinds
            assert (code, ft, False) in kinds
        assert (code, FaultType.ALARM_BUTTON, True) in kinds


@pytest.mark.parametrize(("arrange", "seed"), [("reversed", 0), *(("shuffled", s) for s in range(5))])
def test_order_inside_a_gateway_batch_does_not_matter(arrange: str, seed: int) -> None:
    assert _run(arrange, seed) == _run("ordered")
