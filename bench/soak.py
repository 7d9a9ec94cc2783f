"""Soak: the whole pipeline for an hour at 20,000 messages a second: memory flat, nothing lost.

    .venv/bin/python bench/soak.py [--minutes 60] [--rate 20000] [--elevators 20000] [--alarm-every 30]
                                   [--database-url postgresql+psycopg://...]

Run outside CI (it takes the hour). The production layout in separate processes, as bench/latency.py
starts it: `liftwatch worker --role ingest`, `--role detect --role archive` and `--role rescue`, on the
machine's NATS JetStream (a namespace of the soak's own, the telemetry stream capped at 4 GB), a Mosquitto
of its own and a database of its own (SQLite in a temporary folder, or an empty PostgreSQL database by URL)
with a generated city and its crews. A background process publishes terminal status (QoS 0) of every
elevator but the alarm ones at ``--rate`` messages a second, paced; every ``--alarm-every`` seconds one
elevator of its own reports an entrapment (QoS 1), which must become exactly one incident with a crew.

Every ``--sample-every`` seconds a line on stderr: minutes run, messages published, taken by the ingest,
shed, processed by the detector, and each worker's resident memory (MB). At the end the background stops,
the detector drains, and the last line is one JSON object:
{"minutes", "rate", "sent", "processed", "lost", "shed", "alarms", "incidents", "rss_mb", "rss_growth"}
(``sent`` counts the alarm events with the status messages),
``rss_mb`` each worker's resident memory after the warm-up (the first 10% of the run, at least a minute)
and at the end, ``rss_growth`` the largest end / after-warm-up ratio of them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import VENV_BIN, _drop_stream, _metric, remove_tmp, start_broker, stop_processes
from latency import _background, city_with_crews, dispatched, layout_env, send_alarms
from sqlalchemy import create_engine, text


def log(text_: str) -> None:
    print(text_, file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def incidents_per_elevator(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT registration_code, COUNT(*) FROM incidents GROUP BY registration_code")
            ).all()
    finally:
        engine.dispose()
    return {code: int(n) for code, n in rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20_000, help="background messages a second")
    parser.add_argument("--elevators", type=int, default=20_000)
    parser.add_argument("--alarm-every", type=float, default=30.0, help="seconds between two alarms")
    parser.add_argument("--sample-every", type=float, default=60.0, help="seconds between two samples")
    parser.add_argument("--database-url", default="", help="an empty database (default: SQLite, temporary)")
    args = parser.parse_args(argv)
    if shutil.which("mosquitto") is None:
        log("mosquitto not installed")
        return 2
    seconds = args.minutes * 60
    n_alarms = max(1, int(seconds / args.alarm_every))
    tmp = Path(tempfile.mkdtemp(prefix="liftwatch-bench-soak-"))
    port = 18885
    broker = start_broker(tmp, port)
    workers: dict[str, subprocess.Popen[bytes]] = {}
    ns = f"s{uuid.uuid4().hex[:6]}"
    bg: Any = None
    try:
        url = args.database_url or f"sqlite:///{tmp / 'city.db'}"
        codes = city_with_crews(url, args.elevators)
        if n_alarms >= len(codes) // 2:
            log(f"{n_alarms} alarms need more than {len(codes)} elevators")
            return 2
        alarm_codes, background_codes = codes[:n_alarms], codes[n_alarms:]
        # an hour at 20k/s is about 14 GB of stream: a rolling window of it
        env = layout_env(url, tmp, port, ns, LIFTWATCH_STREAM_MAX_MB="4096")
        cli = str(VENV_BIN / "liftwatch")
        ports = {"ingest": 9470, "detect": 9471, "rescue": 9472}
        roles = {"ingest": ["ingest"], "detect": ["detect", "archive"], "rescue": ["rescue"]}
        for name, p in ports.items():
            cmd = [cli, "worker", *[a for r in roles[name] for a in ("--role", r)], "--metrics-port", str(p)]
            if name == "ingest":
                cmd += ["--client-id", f"{ns}-in0"]
            workers[name] = subprocess.Popen(cmd, env=env, stderr=open(tmp / f"{name}.log", "wb"))  # noqa: SIM115
        deadline = time.time() + 90
        while time.time() < deadline and any(
            _metric(p, "process_start_time_seconds") < 0 for p in ports.values()
        ):
            time.sleep(0.3)
        time.sleep(4.0)
        ctx = mp.get_context("spawn")
        go, stop, sent = ctx.Event(), ctx.Event(), ctx.Value("q", 0)
        bg = ctx.Process(target=_background, args=(port, background_codes, args.rate, go, stop, sent))
        bg.start()
        time.sleep(1.0)
        go.set()
        started = time.monotonic()
        alarms: dict[str, float] = {}
        sender = threading.Thread(
            target=lambda: alarms.update(send_alarms(port, alarm_codes, args.alarm_every)), daemon=True
        )
        sender.start()
        log(f"{args.rate:,.0f} msg/s for {args.minutes:g} minutes, an alarm every {args.alarm_every:g} s")
        warm_s = max(60.0, seconds / 10)
        after_warm_up: dict[str, float] = {}
        next_sample = started + args.sample_every
        while time.monotonic() - started < seconds:
            time.sleep(max(0.0, min(next_sample, started + seconds) - time.monotonic()))
            if time.monotonic() < next_sample:
                continue
            next_sample += args.sample_every
            run_s = time.monotonic() - started
            memory = {name: rss_mb(w.pid) for name, w in workers.items()}
            if not after_warm_up and run_s >= warm_s:
                after_warm_up = dict(memory)
            log(
                f"{run_s / 60:5.1f} min: published {sent.value:,}, taken "
                f"{_metric(ports['ingest'], 'liftwatch_telemetry_messages_total'):,.0f}, shed "
                f"{_metric(ports['ingest'], 'liftwatch_telemetry_shed_total'):,.0f}, detected "
                f"{_metric(ports['detect'], 'liftwatch_detector_messages_total'):,.0f}; RSS MB "
                + ", ".join(f"{k} {v:.0f}" for k, v in memory.items())
            )
            if any(w.poll() is not None for w in workers.values()):
                log("a worker died: " + ", ".join(k for k, w in workers.items() if w.poll() is not None))
                return 1
        rate = sent.value / (time.monotonic() - started)
        stop.set()
        bg.join(10)
        sender.join(args.alarm_every * 2)
        total = int(sent.value) + len(alarms)  # the detector counts the alarm events too
        drain_until = time.monotonic() + 120
        detected = 0.0
        while time.monotonic() < drain_until:
            detected = _metric(ports["detect"], "liftwatch_detector_messages_total")
            if detected >= total:
                break
            time.sleep(1.0)
        memory = {name: rss_mb(w.pid) for name, w in workers.items()}
        shed = _metric(ports["ingest"], "liftwatch_telemetry_shed_total")
        wait_until = time.monotonic() + 60
        got: dict[str, tuple[float, float]] = {}
        while time.monotonic() < wait_until:
            got = dispatched(url)
            if all(c in got for c in alarms):
                break
            time.sleep(1.0)
        per_elevator = incidents_per_elevator(url)
        incidents = sum(per_elevator.get(c, 0) for c in alarms)
        dispatched_alarms = sum(1 for c in alarms if c in got)
        growth = max(memory[k] / after_warm_up[k] for k in memory) if after_warm_up else 0.0
        log(
            f"published {total:,} (alarms included) at {rate:,.0f} msg/s, the detector processed "
            f"{detected:,.0f}, the ingest shed {shed:,.0f}; {len(alarms)} alarms, {incidents} incidents, "
            f"{dispatched_alarms} dispatched"
        )
        print(
            json.dumps(
                {
                    "minutes": args.minutes,
                    "rate": round(rate),
                    "sent": total,
                    "processed": int(detected),
                    "lost": total - int(detected),
                    "shed": int(shed),
                    "alarms": len(alarms),
                    "incidents": incidents,
                    "rss_mb": {k: [round(after_warm_up.get(k, 0)), round(v)] for k, v in memory.items()},
                    "rss_growth": round(growth, 3),
                }
            )
        )
        return 0
    finally:
        if bg is not None and bg.is_alive():
            bg.kill()
        stop_processes(list(workers.values()))
        broker.terminate()
        broker.wait(10)
        _drop_stream(ns)
        remove_tmp(tmp)


if __name__ == "__main__":
    sys.exit(main())
