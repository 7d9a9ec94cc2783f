"""Benchmark: how long from an entrapment to a dispatched crew, over the real transports, under load.

    .venv/bin/python bench/latency.py [--elevators 20000] [--background 50000] [--alarms 120]
                                      [--alarm-every 0.5] [--database-url postgresql+psycopg://...]

The pipeline as in production, separate processes: `liftwatch worker --role ingest`, `--role detect` and
`--role rescue`, on the machine's NATS JetStream (a namespace of the bench's own), a Mosquitto of the
bench's own and a database of its own (SQLite in a temporary folder, or an empty PostgreSQL database by
URL) with a generated city and its crews (`liftwatch.sim.crews`). A background process publishes terminal
status (QoS 0) of every other elevator at ``--background`` messages a second; meanwhile ``--alarms``
elevators of their own each report an entrapment (controller event 11, QoS 1) one after another, every
``--alarm-every`` seconds. Each alarm is timed from just before its MQTT publish to the dispatch of its
incident's first crew (`rescue_dispatches.dispatched_at`, written by the rescue worker: through the
broker, the ingest, the TELEMETRY stream, the detector and its store, the FAULTS stream, the rescue intake
and the L1 dispatch). Surge planning is turned off (`LIFTWATCH_RESCUE_SURGE_THRESHOLD`): a hundred
simultaneous entrapments would otherwise be planned together, which `bench/surge.py` measures.

The details (the background rate offered and taken, what the ingest shed under backpressure, p95, max, any
alarm without a dispatch) go to stderr; the last line is
{"background_msgs_per_s": R, "n": N, "p50_ms": A, "p99_ms": B}, R the background rate published during the
alarms, N the alarms with a dispatch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import VENV_BIN, _drop_stream, _metric, remove_tmp, start_broker, stop_processes

from liftwatch.core.clock import SystemClock
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.migrate import upgrade
from liftwatch.sim.city import generate_city
from liftwatch.sim.crews import seed_demo_crews
from liftwatch.telemetry.mqttwire import connect_packet, publish_packet
from liftwatch.telemetry.protocol import Event, EventCode, ServiceMode, Status, encode


def log(text_: str) -> None:
    print(text_, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# ---------------------------------------------------------------- the background (a process of its own)


def _background(port: int, codes: list[str], rate: float, go: Any, stop: Any, sent: Any) -> None:
    """Status of ``codes`` in turn at ``rate`` messages a second until ``stop``; ``sent`` counts them."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(connect_packet(f"bench-bg-{os.getpid()}"))
    s.recv(64)
    go.wait()
    seqs = dict.fromkeys(codes, 0)
    topics = {c: f"liftwatch/v1/{c}/status" for c in codes}
    slice_s = 0.01
    per_slice = max(1, int(rate * slice_s))
    i = 0
    n = 0
    started = time.perf_counter()
    while not stop.is_set():
        now_ms = int(time.time() * 1000)
        out = bytearray()
        for _ in range(per_slice):
            code = codes[i % len(codes)]
            i += 1
            seq = seqs[code] = seqs[code] + 1
            msg = Status(
                msg_id=f"{code}-{seq}",
                seq=seq,
                ts=now_ms,
                mode=ServiceMode.NORMAL,
                running=seq % 2 == 0,
                door_zone=True,
                door_closed=True,
                passenger=False,
            )
            out += publish_packet(topics[code], encode(msg))
        s.sendall(out)
        n += per_slice
        sent.value = n
        behind = started + n / rate - time.perf_counter()
        if behind > 0:
            time.sleep(behind)
    s.close()


# ---------------------------------------------------------------- the alarms and their dispatches


def send_alarms(port: int, codes: list[str], every_s: float) -> dict[str, float]:
    """An entrapment from each of ``codes`` in turn (QoS 1); when each was handed to the socket (epoch s)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(connect_packet(f"bench-alarms-{os.getpid()}"))
    s.recv(64)
    s.setblocking(False)
    sent: dict[str, float] = {}
    next_at = time.monotonic()
    for pid, code in enumerate(codes, start=1):
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += every_s
        at = time.time()
        msg = Event(msg_id=f"{code}-alarm", seq=1, ts=int(at * 1000), code=EventCode.ENTRAPMENT, active=True)
        s.sendall(publish_packet(f"liftwatch/v1/{code}/event", encode(msg), qos=1, packet_id=pid))
        sent[code] = at
        with contextlib.suppress(BlockingIOError):  # the broker's PUBACKs: read so they never fill the socket
            s.recv(1 << 16)
    s.close()
    return sent


def _epoch(at: Any) -> float:
    from datetime import UTC, datetime

    if isinstance(at, str):  # SQLite gives the stored text
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return float(at.timestamp())


def dispatched(url: str) -> dict[str, tuple[float, float]]:
    """Each elevator's (incident opened, first crew dispatched), epoch seconds, as the rescue worker wrote
    them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT i.registration_code, MIN(i.created_at), MIN(d.dispatched_at) "
                    "FROM incidents i JOIN rescue_dispatches d ON d.incident_id = i.id "
                    "GROUP BY i.registration_code"
                )
            ).all()
    finally:
        engine.dispose()
    return {code: (_epoch(o), _epoch(d)) for code, o, d in rows}


# ---------------------------------------------------------------- the layout (bench/soak.py uses it too)


def city_with_crews(url: str, elevators: int) -> list[str]:
    """Migrate ``url``, generate a city of ``elevators`` with its crews; the registration codes in order."""
    upgrade(url)
    log(f"generating a registry of {elevators} elevators and its crews")
    engine = make_engine(url)
    generate_city(engine, elevators, seed=5, progress=False)
    with make_session_factory(engine)() as session:
        crews = seed_demo_crews(session, SystemClock(), seed=5)
        session.commit()
        codes = list(session.execute(text("SELECT registration_code FROM elevators ORDER BY id")).scalars())
    engine.dispose()
    log(f"{len(codes)} elevators, {crews} crews")
    return codes


def layout_env(url: str, tmp: Path, port: int, ns: str, **extra: str) -> dict[str, str]:
    """The workers' environment: the database, the machine's NATS under namespace ``ns``, the bench's
    Mosquitto on ``port``; surge planning off (each alarm dispatched on its own)."""
    return dict(
        os.environ,
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(tmp / "var"),
        LIFTWATCH_BUS_URL="nats://127.0.0.1:4222",
        LIFTWATCH_MQTT_URL=f"mqtt://127.0.0.1:{port}",
        LIFTWATCH_STREAM_NAMESPACE=ns,
        LIFTWATCH_MQTT_GROUP=f"bench-{ns}",
        LIFTWATCH_MQTT_SESSION_EXPIRY_S="5",
        LIFTWATCH_RESCUE_SURGE_THRESHOLD="100000",
        **extra,
    )


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=20_000)
    parser.add_argument("--background", type=float, default=50_000, help="background messages a second")
    parser.add_argument("--alarms", type=int, default=120)
    parser.add_argument("--alarm-every", type=float, default=0.5, help="seconds between two alarms")
    parser.add_argument("--warm-up", type=float, default=10.0, help="seconds of background before alarms")
    parser.add_argument("--ingest-procs", type=int, default=1)
    parser.add_argument("--database-url", default="", help="an empty database (default: SQLite, temporary)")
    args = parser.parse_args(argv)
    if shutil.which("mosquitto") is None:
        log("mosquitto not installed")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="liftwatch-bench-latency-"))
    port = 18884
    broker = start_broker(tmp, port)
    workers: list[subprocess.Popen[bytes]] = []
    ns = f"l{uuid.uuid4().hex[:6]}"
    bg: Any = None
    try:
        url = args.database_url or f"sqlite:///{tmp / 'city.db'}"
        codes = city_with_crews(url, args.elevators)
        alarm_codes, background_codes = codes[: args.alarms], codes[args.alarms :]
        env = layout_env(url, tmp, port, ns)
        cli = str(VENV_BIN / "liftwatch")
        ports = {"detect": 9451, "rescue": 9452}
        ingest_ports = [9460 + i for i in range(args.ingest_procs)]
        for i, p in enumerate(ingest_ports):
            cmd = [cli, "worker", "--role", "ingest", "--metrics-port", str(p), "--client-id", f"{ns}-in{i}"]
            workers.append(subprocess.Popen(cmd, env=env, stderr=open(tmp / f"ingest{i}.log", "wb")))  # noqa: SIM115
        for role, p in ports.items():
            cmd = [cli, "worker", "--role", role, "--metrics-port", str(p)]
            workers.append(subprocess.Popen(cmd, env=env, stderr=open(tmp / f"{role}.log", "wb")))  # noqa: SIM115
        deadline = time.time() + 90
        while time.time() < deadline and any(
            _metric(p, "process_start_time_seconds") < 0 for p in [*ingest_ports, *ports.values()]
        ):
            time.sleep(0.3)
        time.sleep(4.0)  # subscriptions settle; the rescue worker loads its planner
        ctx = mp.get_context("spawn")
        go, stop, sent = ctx.Event(), ctx.Event(), ctx.Value("q", 0)
        bg = ctx.Process(target=_background, args=(port, background_codes, args.background, go, stop, sent))
        bg.start()
        time.sleep(1.0)
        go.set()
        log(f"background at {args.background:,.0f} msg/s; {args.warm_up:g} s of warm-up")
        time.sleep(args.warm_up)
        before, t0 = sent.value, time.monotonic()
        alarms_sent = send_alarms(port, alarm_codes, args.alarm_every)
        rate = (sent.value - before) / (time.monotonic() - t0)
        log(f"{len(alarms_sent)} alarms sent; the background published {rate:,.0f} msg/s meanwhile")
        wait_until = time.monotonic() + 30
        got: dict[str, tuple[float, float]] = {}
        while time.monotonic() < wait_until:
            got = dispatched(url)
            if all(c in got for c in alarms_sent):
                break
            time.sleep(0.5)
        stop.set()
        bg.join(10)
        shed = sum(_metric(p, "liftwatch_telemetry_shed_total") for p in ingest_ports)
        taken = sum(_metric(p, "liftwatch_telemetry_messages_total") for p in ingest_ports)
        detected = _metric(ports["detect"], "liftwatch_detector_messages_total")
        latencies = [(got[c][1] - at) * 1000 for c, at in alarms_sent.items() if c in got]
        to_incident = [(got[c][0] - at) * 1000 for c, at in alarms_sent.items() if c in got]
        if to_incident:
            log(
                f"  to the incident opened (broker, ingest, TELEMETRY, detector, FAULTS, rescue intake): p50 "
                f"{percentile(to_incident, 50):.0f} ms, p99 {percentile(to_incident, 99):.0f} ms; the L1 "
                "dispatch is in the incident's own transaction"
            )
        missing = [c for c in alarms_sent if c not in got]
        log(
            f"background published {sent.value:,} in all; the ingest took {taken:,.0f} and shed {shed:,.0f} "
            f"(QoS 0 status under backpressure); the detector processed {detected:,.0f}"
        )
        if missing:
            log(f"{len(missing)} alarms without a dispatch: {missing[:10]}")
        if not latencies:
            log("no alarm was dispatched")
            return 1
        log(
            f"latency ms: p50 {percentile(latencies, 50):.0f}, p95 {percentile(latencies, 95):.0f}, "
            f"p99 {percentile(latencies, 99):.0f}, max {max(latencies):.0f}, min {min(latencies):.0f}"
        )
        print(
            json.dumps(
                {
                    "background_msgs_per_s": round(rate),
                    "n": len(latencies),
                    "p50_ms": round(percentile(latencies, 50)),
                    "p99_ms": round(percentile(latencies, 99)),
                }
            )
        )
        return 0
    finally:
        if bg is not None and bg.is_alive():
            bg.kill()
        stop_processes(workers)
        broker.terminate()
        broker.wait(10)
        _drop_stream(ns)
        remove_tmp(tmp)


if __name__ == "__main__":
    sys.exit(main())
