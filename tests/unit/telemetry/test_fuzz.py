"""Hostile input: thousands of malformed payloads give no crash, and every one is dead-lettered with a
reason; random mutations of valid messages are either accepted whole or dead-lettered, never half-read."""

from __future__ import annotations

import asyncio
import gc
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import msgspec.inspect as mi
import pytest

from liftwatch.core.bus import InProcessBus
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.protocol import Event, Heartbeat, MessageType, Rejected, Status, decode, parse_topic
from liftwatch.telemetry.service import DeadLetterRecord

CODE = "11SHA000001"
TS = 1_795_400_000_000
VALID_STATUS: dict[str, Any] = {
    "msg_id": "m-1",
    "seq": 1,
    "ts": TS,
    "mode": 1,
    "running": True,
    "door_zone": False,
    "door_closed": True,
    "passenger": True,
    "floor": 7,
    "speed": 1.5,
}
_JUNK: list[Any] = [None, [], {}, [[[[[]]]]], {"a": {"b": 1}}, "x" * 10_000, "\u0000\ud800"]
# Per field, values that are never valid (each test case must be rejected, not merely unusual).
INVALID: dict[str, list[Any]] = {
    "msg_id": ["", "x" * 65, 5, 1.5, True, *_JUNK[:5]],
    "seq": [-1, 2**64, -(2**70), "1", 1.5, True, *_JUNK],
    "ts": [0, -5, 10**15, 1e308, "1795400000000", True, *_JUNK],
    "mode": [-1, 8, 99, "1", 1.5, True, *_JUNK],
    "running": [0, 1, "true", "yes", *_JUNK],
    "door_zone": [0, 1, "false", *_JUNK],
    "door_closed": [0, 1, "true", *_JUNK],
    "passenger": [0, 2, "yes", *_JUNK[1:]],
    "floor": [-21, 251, 10**9, 1.5, "7", True, *_JUNK[1:]],
    "speed": [-0.1, 31.0, 1e12, "1.5", float("nan"), float("inf"), *_JUNK[1:]],
}


def _mutations(rng: random.Random) -> Iterator[tuple[str, bytes, str]]:
    """(topic, payload, expected reason) triples that must be rejected."""
    topic = f"liftwatch/v1/{CODE}/status"
    required = ["msg_id", "seq", "ts", "mode", "running", "door_zone", "door_closed"]
    bounds = {
        "mode": [8, -1, 99],
        "floor": [-21, 251, 10**9],
        "speed": [-0.1, 31.0, 1e12],
        "seq": [-1, 2**63, 2**80],
        "ts": [0, 1, 10**15, -5],
        "passenger": [2, "yes"],
    }
    for _ in range(600):
        bad = dict(VALID_STATUS)
        del bad[rng.choice(required)]
        yield topic, json.dumps(bad).encode(), "invalid"
    for _ in range(1500):
        field = rng.choice(list(INVALID))
        value = rng.choice(INVALID[field])
        payload = json.dumps(dict(VALID_STATUS, **{field: value}), allow_nan=True).encode(
            "utf-8", "surrogatepass"
        )
        yield topic, payload, "invalid|bad_json"
    for field, values in bounds.items():
        for value in values:
            for _ in range(20):
                bad = dict(VALID_STATUS, **{field: value})
                yield topic, json.dumps(bad).encode(), "invalid"
    valid = json.dumps(VALID_STATUS).encode()
    for _ in range(1500):
        cut = rng.randrange(0, len(valid) - 1)
        yield topic, valid[:cut], "bad_json|invalid"
    for _ in range(300):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        yield topic, junk, "bad_json|invalid"
    for _ in range(200):
        depth = rng.randrange(100, 5000)
        yield topic, b"[" * depth + b"]" * depth, "bad_json|invalid"
    for _ in range(50):
        yield topic, b"{" + b'"k":1,' * 20_000 + b'"z":1}', "too_large"
    for _ in range(300):
        other = rng.choice(["NOPE", "11SHZ999999", "x" * 39, "梯11沪A"])
        yield f"liftwatch/v1/{other}/status", valid, "unknown_elevator"
    for _ in range(300):
        t = rng.choice(
            [
                "liftwatch/v1/status",
                f"liftwatch/v2/{CODE}/status",
                f"liftwatch/v1/{CODE}/status/extra",
                f"liftwatch/v1/{CODE}/STATUS",
                f"liftwatch/v1//{CODE}",
                "",
                "#",
            ]
        )
        yield t, valid, "bad_topic"
    for _ in range(300):  # the type field must agree with the topic
        yield topic, json.dumps(dict(VALID_STATUS, type="event")).encode(), "invalid"


def _ingestor(sink: Callable[[list[DeadLetterRecord]], None]) -> Ingestor:
    return Ingestor(InProcessBus(), 2, KnownElevators([CODE]), dead_letter_sink=sink)


def test_every_hostile_payload_is_dead_lettered_with_its_reason() -> None:
    rng = random.Random(20261123)
    dead: list[DeadLetterRecord] = []
    ingestor = _ingestor(dead.extend)
    expected: list[str] = []

    async def main() -> None:
        await InProcessBus().connect()
        ingestor.bus = InProcessBus()
        await ingestor.bus.ensure_stream("TELEMETRY", ["telemetry.>"])
        for topic, payload, reason in _mutations(rng):
            assert ingestor.accept_mqtt(topic, payload, TS) is False, (topic, payload[:200])
            expected.append(reason)
        await ingestor.flush()

    asyncio.run(main())
    assert len(expected) > 5000
    assert len(dead) == len(expected)
    for letter, reason in zip(dead, expected, strict=True):
        assert letter.reason in reason.split("|"), (letter.reason, reason, letter.detail)
        assert letter.detail
    assert ingestor.stats.accepted == 0
    assert sum(ingestor.stats.rejected.values()) == len(expected)
    assert set(Counter(d.reason for d in dead)) == {
        "invalid",
        "bad_json",
        "too_large",
        "unknown_elevator",
        "bad_topic",
    }


def test_random_byte_mutations_are_accepted_whole_or_rejected() -> None:
    rng = random.Random(7)
    dead: list[DeadLetterRecord] = []
    ingestor = _ingestor(dead.extend)
    valid = json.dumps(VALID_STATUS).encode()
    accepted = 0
    for _ in range(5000):
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/status", bytes(data), TS):
            accepted += 1
            decode(bytes(data), MessageType.STATUS)  # what was accepted is a valid message
    assert accepted + len(ingestor._dead) == 5000
    assert all(d.reason in ("bad_json", "invalid") for d in ingestor._dead)


def test_gateway_items_are_fuzzed_the_same_way() -> None:
    rng = random.Random(3)
    ingestor = _ingestor(lambda _letters: None)
    rejected = 0
    for topic, payload, _ in _mutations(rng):
        if not topic.endswith("/status"):
            continue
        try:
            item = json.loads(payload)
        except (ValueError, RecursionError):
            item = None
        if isinstance(item, dict):
            item.update(type="status", registration_code=CODE)
            payload = json.dumps(item).encode()
        rej = ingestor.accept_gateway_item(payload, TS)
        if rej is not None:
            rejected += 1
            assert rej.reason in ("invalid", "bad_json", "too_large")
    assert rejected > 4000


def test_a_topic_is_taken_only_in_its_one_shape_and_a_rejection_says_which_part_is_wrong() -> None:
    """parse_topic's fast path (one split, one look-up) accepts what the worded slow path would."""
    assert parse_topic(f"liftwatch/v1/{CODE}/status") == (CODE, MessageType.STATUS)
    assert parse_topic(f"liftwatch/v1/{CODE}/heartbeat") == (CODE, MessageType.HEARTBEAT)
    wrong = {
        f"liftwatch/v2/{CODE}/status": "is not under liftwatch/v1/",
        "": "is not under liftwatch/v1/",
        "liftwatch/v1/status": "is not liftwatch/v1/<registration_code>/<type>",
        f"liftwatch/v1//{CODE}": "is not liftwatch/v1/<registration_code>/<type>",
        "liftwatch/v1//status": "is not liftwatch/v1/<registration_code>/<type>",
        f"liftwatch/v1/{CODE}/status/extra": "is not liftwatch/v1/<registration_code>/<type>",
        f"liftwatch/v1/a/{CODE}/status": "is not liftwatch/v1/<registration_code>/<type>",
        f"liftwatch/v1/{CODE}/STATUS": "unknown message type 'STATUS'",
        f"liftwatch/v1/{CODE}/": "unknown message type ''",
    }
    for topic, why in wrong.items():
        with pytest.raises(Rejected) as raised:
            parse_topic(topic)
        assert raised.value.reason == "bad_topic"
        assert why in raised.value.detail, (topic, raised.value.detail)


def test_messages_hold_only_scalars_so_the_cycle_collector_may_leave_them_alone() -> None:
    """The message types are declared gc=False (untracked: a worker keeps 50,000 newest statuses): safe only
    while no field can hold a container, so a list or dict field added to one fails here."""
    atomic = (mi.BoolType, mi.EnumType, mi.FloatType, mi.IntType, mi.NoneType, mi.StrType)
    for tp in (Status, Event, Heartbeat):
        for f in mi.type_info(tp).fields:  # type: ignore[attr-defined]
            kinds = f.type.types if isinstance(f.type, mi.UnionType) else (f.type,)
            assert all(isinstance(k, atomic) for k in kinds), (tp.__name__, f.name, f.type)
    assert not gc.is_tracked(decode(json.dumps(VALID_STATUS).encode(), MessageType.STATUS))
