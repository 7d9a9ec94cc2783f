"""Micro-benchmark: the fault detector on one core, against msgspec decoding of the same messages.

    .venv/bin/python bench/detector_micro.py [--elevators 100000] [--rounds 10]

Builds realistic status messages (a ride cycle: doors open at a landing with a passenger, doors closed,
running at rated speed, stopped in the door zone; mostly nothing faulty) for N elevators, interleaved as
a broker would deliver them, encodes them to JSON, then times on one core (best of --repeat runs):
msgspec's bare decoder, liftwatch's ``decode()`` (size check and errors as reject reasons), detect only
(pre-decoded messages, fresh detector) and decode + detect. Prints as its last line one JSON object:
{"messages", "decode_per_s", "detect_per_s", "decode_detect_per_s", "ratio_to_decode", ...}; the ratios
are decode + detect speed over decode-only speed.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Callable

import msgspec

from liftwatch.telemetry.detector import Detector
from liftwatch.telemetry.protocol import Direction, MessageType, ServiceMode, Status, decode, encode

T0 = 1_795_424_400_000  # 2026-11-23 09:00 UTC in ms

# One ride cycle as (running, door_zone, door_closed, passenger, direction, speed factor, floor step).
CYCLE = (
    (False, True, False, True, Direction.NONE, 0.0, 0),  # doors open, passenger boarding
    (False, True, True, True, Direction.NONE, 0.0, 0),  # doors closed
    (True, False, True, True, Direction.UP, 1.0, 0),  # running at rated speed
    (True, True, True, True, Direction.UP, 0.3, 1),  # levelling at the next landing
    (False, True, True, True, Direction.NONE, 0.0, 0),  # stopped in the door zone
    (False, True, False, True, Direction.NONE, 0.0, 0),  # doors open
    (False, True, False, False, Direction.NONE, 0.0, 0),  # passenger gone
    (False, True, True, False, Direction.NONE, 0.0, 0),  # idle, doors closed
)


def build(elevators: int, rounds: int, seed: int) -> list[tuple[str, bytes, int]]:
    rng = random.Random(seed)
    codes = [f"31{i:08d}" for i in range(elevators)]
    rated = [rng.choice((1.0, 1.5, 1.75, 2.0, 2.5)) for _ in codes]
    phase = [rng.randrange(len(CYCLE)) for _ in codes]
    floor = [rng.randrange(1, 20) for _ in codes]
    trips = [rng.randrange(10_000, 900_000) for _ in codes]
    out: list[tuple[str, bytes, int]] = []
    now = T0
    for r in range(rounds):
        for i, code in enumerate(codes):
            running, dz, dc, pax, direction, k, step = CYCLE[(phase[i] + r) % len(CYCLE)]
            floor[i] += step
            if step:
                trips[i] += 1
            now += 1 if i % 10 == 0 else 0  # ~10 messages per ms across the city
            msg = Status(
                msg_id=f"{code}-{r}",
                seq=r,
                ts=now - rng.randrange(20, 200),
                mode=ServiceMode.NORMAL,
                running=running,
                door_zone=dz,
                door_closed=dc,
                passenger=pax,
                direction=direction,
                floor=floor[i],
                speed=round(rated[i] * k, 2),
                rated_speed=rated[i],
                run_hours=12_345.5,
                trips=trips[i],
            )
            out.append((code, encode(msg), now))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing; the best counts")
    args = parser.parse_args(argv)

    stream = build(args.elevators, args.rounds, args.seed)
    n = len(stream)
    kind = MessageType.STATUS
    raw = msgspec.json.Decoder(Status).decode
    gc.collect()
    gc.freeze()
    gc.disable()  # time the work, not collections of the million pre-built messages

    def best(run: Callable[[], object]) -> float:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        return min(times)

    def raw_only() -> None:
        for _, payload, _ in stream:
            raw(payload)

    def decode_only() -> None:
        for _, payload, _ in stream:
            decode(payload, kind)

    decoded = [(code, decode(payload, kind), now) for code, payload, now in stream]

    def detect_only() -> None:
        feed = Detector().feed
        for code, msg, now in decoded:
            feed(code, msg, now)

    def decode_detect() -> None:
        feed = Detector().feed
        for code, payload, now in stream:
            feed(code, decode(payload, kind), now)

    raw_s = best(raw_only)
    decode_s = best(decode_only)
    detect_s = best(detect_only)
    both_s = best(decode_detect)

    det = Detector()
    for code, msg, now in decoded:
        det.feed(code, msg, now)
    dump = det.dump()
    result = {
        "messages": n,
        "elevators": args.elevators,
        "payload_bytes": round(sum(len(p) for _, p, _ in stream) / n),
        "msgspec_decode_per_s": round(n / raw_s),
        "decode_per_s": round(n / decode_s),
        "detect_per_s": round(n / detect_s),
        "detect_us_per_msg": round(detect_s / n * 1e6, 3),
        "decode_detect_per_s": round(n / both_s),
        "ratio_to_decode": round(decode_s / both_s, 3),
        "ratio_to_msgspec_decode": round(raw_s / both_s, 3),
        "dump_bytes_per_elevator": round(sum(map(len, dump.values())) / len(dump)),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
