"""Benchmark: telemetry ingestion on this machine, four ways on the same generated data in one run.

    .venv/bin/python bench/ingest.py [--elevators 50000] [--messages 1000000] [--ingest-procs 1]
        [--detect-procs 1]

(a) decode      validate every message (topic + msgspec decode), one core: the baseline
(b) detect      decode + fault detector, in-process, one core (compiled, as `make setup` builds it)
(b') interpreted the same, the detector's source run as plain Python (no Cython), for the compiled one's
                gain on the same data in the same run (`--skip interpreted` leaves it out)
(c) end_to_end  MQTT (Mosquitto) -> `liftwatch worker --role ingest` -> NATS JetStream ->
                `liftwatch worker --role detect --role archive` -> stores (database, Parquet)
(d) broker      the same payloads through Mosquitto to a subscriber that only counts (the broker's limit)
(e) replay      the data with its recorded receive times straight onto NATS JetStream (no MQTT) ->
                `liftwatch worker --role detect` with LIFTWATCH_DETECTOR_CLOCK=stream: the same faults as (b)

The data is a simulated city's telemetry (liftwatch.sim.telemetry, faults and network noise included) for
elevators of a generated registry. (c) and (d) publish the same pre-encoded MQTT packets as fast as the
broker takes them, from a separate process. Prints as its last line one JSON object:
{"decode": R, "detect": R, "interpreted": R, "end_to_end": R, "broker": R, "replay": R},
R = {"messages", "data_points", "seconds", "msgs_per_s", "lost"}; (b) and (c) add "duplicates", the
copies the detector dropped, which must equal the copies in the data (the simulator's network noise resends
messages; the data's count is logged); (e) adds "faults" (fault changes announced on FAULTS), "as_detect"
(of them, the ones (b) found), "missing" and "extra" against (b): a replay by the stream's receive times is
deterministic, so both must be 0 (the packets of (c), re-timed and published at the broker's pace, give
other faults: their receive times differ).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import msgspec

from liftwatch.core.db import make_engine
from liftwatch.core.migrate import upgrade
from liftwatch.sim.city import generate_city
from liftwatch.sim.telemetry import TelemetrySimulator, fleet_from_database, kind_of
from liftwatch.telemetry import detector as detector_module
from liftwatch.telemetry.detector import Detector
from liftwatch.telemetry.interpreted import detector_as_source
from liftwatch.telemetry.mqttwire import WireSubscriber, connect_packet, publish_packet
from liftwatch.telemetry.protocol import Event, Status, decode, encode, parse_topic

VENV_BIN = Path(sys.executable).parent
_STATUS_ITEMS = [f for f in Status.__struct_fields__ if f not in ("msg_id", "seq", "ts")]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def result(
    messages: int, points: int, seconds: float, lost: int = 0, duplicates: int | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messages": messages,
        "data_points": points,
        "seconds": round(seconds, 3),
        "msgs_per_s": round(messages / seconds, 1) if seconds > 0 else 0.0,
        "lost": lost,
    }
    if duplicates is not None:
        out["duplicates"] = duplicates
    return out


def copies_in(data: list[tuple[str, bytes, int]]) -> int:
    """Messages whose (terminal, seq) came before: what an honest duplicate counter must count."""
    seen: set[tuple[str, int]] = set()
    copies = 0
    for topic, payload, _ in data:
        code, kind = parse_topic(topic)
        key = (code, decode(payload, kind).seq)
        copies += key in seen
        seen.add(key)
    return copies


# ---------------------------------------------------------------- data


def make_data(
    url: str, elevators: int, messages: int, traffic: float, start_ms: int
) -> tuple[list[tuple[str, bytes, int]], dict[str, float], int]:
    """(topic, payload, deliver_ms) for ``messages`` messages of the city's first ``elevators`` lifts."""
    fleet = fleet_from_database(url, elevators)
    sim = TelemetrySimulator(fleet, seed=7, start_ms=start_ms, traffic=traffic)
    out: list[tuple[str, bytes, int]] = []
    points = 0
    step = 5_000
    until = start_ms
    while len(out) < messages:
        until += step
        for deliver_ms, code, msg in sim.messages(until):
            out.append((f"liftwatch/v1/{code}/{kind_of(msg)}", encode(msg), deliver_ms))
            if type(msg) is Status:
                points += sum(1 for f in _STATUS_ITEMS if getattr(msg, f) is not None)
            elif type(msg) is Event:
                points += 1
            if len(out) >= messages:
                break
    return out, sim.rated_speeds, points


def city_data(
    url: str, elevators: int, messages: int, traffic: float
) -> tuple[list[tuple[str, bytes, int]], dict[str, float], int]:
    """An empty database migrated and filled with a generated city, and ``make_data`` of its terminals,
    their clocks a minute ahead of now."""
    upgrade(url)
    log(f"generating a registry of {elevators} elevators")
    generate_city(make_engine(url), elevators, seed=1, progress=False)
    log(f"simulating {messages} messages")
    return make_data(url, elevators, messages, traffic, int(time.time() * 1000) + 60_000)


def rebased(data: list[tuple[str, bytes, int]], first_ts_ms: int) -> list[tuple[str, bytes]]:
    """The packets' payloads with every ``ts`` moved so the first is ``first_ts_ms``: the terminals'
    clocks then agree with the wall clock of the broker run (a message more than 5 minutes off its
    arrival is a terminal with a wrong clock, and raises ``clock_skew``)."""
    shift = first_ts_ms - data[0][2]
    out = []
    for topic, payload, _ in data:
        msg = decode(payload, parse_topic(topic)[1])
        out.append((topic, encode(msgspec.structs.replace(msg, ts=msg.ts + shift))))
    return out


# ---------------------------------------------------------------- (a), (b)


def bench_decode(data: list[tuple[str, bytes, int]], points: int) -> dict[str, Any]:
    started = time.perf_counter()
    for topic, payload, _ in data:
        _, kind = parse_topic(topic)
        decode(payload, kind)
    return result(len(data), points, time.perf_counter() - started)


FaultKey = tuple[str, bool, int]  # fault id, raised (False: cleared), at ms


def bench_detect(
    data: list[tuple[str, bytes, int]],
    points: int,
    rated: dict[str, float],
    found: set[FaultKey],
    detector_cls: type[Detector] = Detector,
) -> dict[str, Any]:
    """(b); the fault changes it finds go into ``found``."""
    detector = detector_cls(rated_speed=rated)
    feed = detector.feed
    changes = []
    next_tick = data[0][2] + 1000
    started = time.perf_counter()
    for topic, payload, deliver_ms in data:
        code, kind = parse_topic(topic)
        got = feed(code, decode(payload, kind), deliver_ms)
        if got:
            changes.extend(got)
        if deliver_ms >= next_tick:
            changes.extend(detector.tick(deliver_ms))
            next_tick = deliver_ms + 1000
    seconds = time.perf_counter() - started
    found.update((c.fault_id, c.raised, c.at_ms) for c in changes)
    return result(len(data), points, seconds, duplicates=detector.stats.duplicates)


# ---------------------------------------------------------------- MQTT publisher (separate process)


def _publisher(blob_path: str, port: int, go: Any, done: Any) -> None:
    blob = Path(blob_path).read_bytes()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(connect_packet(f"bench-pub-{os.getpid()}"))
    s.recv(64)
    go.wait()
    view = memoryview(blob)
    for i in range(0, len(blob), 1 << 16):
        s.sendall(view[i : i + (1 << 16)])
    done.set()
    time.sleep(2)
    s.close()


def start_publisher(blob_path: Path, port: int) -> tuple[Any, Any, Any]:
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_publisher, args=(str(blob_path), port, go, done))
    proc.start()
    return proc, go, done


# ---------------------------------------------------------------- (d)


def bench_broker(blob_path: Path, port: int, n: int, points: int) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        count = 0
        last = 0.0

        def on_publish(_t: bytes, _p: bytes, _q: int, _i: int) -> None:
            nonlocal count, last
            count += 1
            last = time.perf_counter()

        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(
            lambda: WireSubscriber(f"bench-sub-{uuid.uuid4().hex[:6]}", "liftwatch/v1/+/+", on_publish),
            "127.0.0.1",
            port,
        )
        await proto.subscribed.wait()
        proc, go, _ = start_publisher(blob_path, port)
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        go.set()
        idle_since = time.perf_counter()
        seen = 0
        while count < n and time.perf_counter() - idle_since < 5:
            await asyncio.sleep(0.05)
            if count != seen:
                seen, idle_since = count, time.perf_counter()
        proto.close()
        proc.join(10)
        return result(count, points, last - started, lost=n - count)

    return asyncio.run(main())


# ---------------------------------------------------------------- (c)


def _metric(port: int, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return -1.0
    total = 0.0
    for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M):
        total += float(m.group(1))
    return total


def bench_end_to_end(
    url: str,
    var: Path,
    blob_path: Path,
    port: int,
    n: int,
    points: int,
    procs: int,
    partitions: int,
    detect_procs: int = 1,
) -> dict[str, Any]:
    """(c); ``detect_procs`` detect workers share the partitions (``--partitions`` of each a fixed share;
    the first also archives)."""
    ns = f"b{uuid.uuid4().hex[:6]}"
    env = dict(
        os.environ,
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(var),
        LIFTWATCH_BUS_URL="nats://127.0.0.1:4222",
        LIFTWATCH_MQTT_URL=f"mqtt://127.0.0.1:{port}",
        LIFTWATCH_STREAM_NAMESPACE=ns,
        LIFTWATCH_MQTT_GROUP=f"bench-{ns}",
        LIFTWATCH_MQTT_SESSION_EXPIRY_S="5",
        LIFTWATCH_PARTITIONS=str(partitions),
        # what the pipeline takes without loss: the stream holds the backlog while the detector catches up,
        # never shed for lag (bench/latency.py measures the alarm path with shedding on)
        LIFTWATCH_INGEST_SHED_BACKLOG="0",
        # nor for a full buffer: the whole data comes as one burst, faster than any city sends it, and the
        # ingest holds what waits for the stream (the default 200,000 shed 45% of it on a fast broker)
        LIFTWATCH_INGEST_MAX_BUFFERED=str(max(200_000, n)),
    )
    cli = str(VENV_BIN / "liftwatch")
    workers: list[subprocess.Popen[bytes]] = []
    ingest_ports = [9300 + i for i in range(procs)]
    detect_ports = [9350 + i for i in range(detect_procs)]
    try:
        for i, metrics_port in enumerate(ingest_ports):
            workers.append(
                subprocess.Popen(
                    [
                        cli,
                        "worker",
                        "--role",
                        "ingest",
                        "--metrics-port",
                        str(metrics_port),
                        "--client-id",
                        f"{ns}-in{i}",
                    ],
                    env=env,
                    stderr=open(var.parent / f"ingest{i}.log", "wb"),  # noqa: SIM115
                )
            )
        for i, metrics_port in enumerate(detect_ports):
            roles = ["--role", "detect"] + (["--role", "archive"] if i == 0 else [])
            share = ",".join(str(p) for p in range(partitions) if p % detect_procs == i)
            workers.append(
                subprocess.Popen(
                    [cli, "worker", *roles, "--metrics-port", str(metrics_port)]
                    + (["--partitions", share] if detect_procs > 1 else []),
                    env=env,
                    stderr=open(var.parent / f"detect{i}.log", "wb"),  # noqa: SIM115
                )
            )
        deadline = time.time() + 60
        while time.time() < deadline and any(
            _metric(p, "liftwatch_detector_messages_total") < 0 for p in ingest_ports + detect_ports
        ):
            time.sleep(0.3)
        time.sleep(2.0)  # subscriptions settle
        proc, go, _ = start_publisher(blob_path, port)
        time.sleep(1.0)
        started = time.perf_counter()
        go.set()
        done_at = started
        processed = 0.0
        idle_since = time.perf_counter()
        while processed < n and time.perf_counter() - idle_since < 15:
            time.sleep(0.1)
            now = sum(_metric(p, "liftwatch_detector_messages_total") for p in detect_ports)
            if now > processed:
                processed, done_at, idle_since = now, time.perf_counter(), time.perf_counter()
        accepted = sum(_metric(p, "liftwatch_telemetry_messages_total") for p in ingest_ports)
        rejected = sum(_metric(p, "liftwatch_telemetry_rejects_total") for p in ingest_ports)
        duplicates = int(sum(_metric(p, "liftwatch_detector_duplicates_total") for p in detect_ports))
        log(f"end to end: accepted {accepted:.0f}, rejected {rejected:.0f}, detected {processed:.0f} of {n}")
        proc.join(10)
        return result(
            int(processed), points, done_at - started, lost=n - int(processed), duplicates=duplicates
        )
    finally:
        stop_processes(workers)
        _drop_stream(ns)


def bench_replay(
    url: str,
    var: Path,
    data: list[tuple[str, bytes, int]],
    points: int,
    partitions: int,
    expected: set[FaultKey],
) -> dict[str, Any]:
    """(e) the data as recorded, receive times included, straight onto the stream (an Ingestor in this
    process, no MQTT) as fast as it goes, and `liftwatch worker --role detect` timing by the stream
    (LIFTWATCH_DETECTOR_CLOCK=stream): the fault changes it announces on FAULTS must be (b)'s, exactly."""
    from liftwatch.core.bus import JetStreamBus
    from liftwatch.telemetry.ingest import Ingestor, KnownElevators
    from liftwatch.telemetry.records import Topology, decode_fault

    ns = f"r{uuid.uuid4().hex[:6]}"
    topo = Topology(ns)
    env = dict(
        os.environ,
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(var),
        LIFTWATCH_BUS_URL="nats://127.0.0.1:4222",
        LIFTWATCH_MQTT_URL="",
        LIFTWATCH_STREAM_NAMESPACE=ns,
        LIFTWATCH_PARTITIONS=str(partitions),
        LIFTWATCH_DETECTOR_CLOCK="stream",
    )
    port = 9352
    cli = str(VENV_BIN / "liftwatch")
    worker = subprocess.Popen(
        [cli, "worker", "--role", "detect", "--metrics-port", str(port)],
        env=env,
        stderr=open(var.parent / "replay.log", "wb"),  # noqa: SIM115
    )

    async def publish() -> None:
        bus = JetStreamBus("nats://127.0.0.1:4222")
        await bus.connect()
        try:
            known = KnownElevators({parse_topic(t)[0] for t, _, _ in data})
            ingestor = Ingestor(bus, partitions, known, topology=topo, max_buffered=len(data) + 1)
            for i, (topic, payload, received_ms) in enumerate(data, start=1):
                ingestor.accept_mqtt(topic, payload, received_ms, may_shed=False)
                if i % 20_000 == 0:
                    await ingestor.flush()
            await ingestor.flush()
        finally:
            await bus.close()

    async def announced() -> set[FaultKey]:
        bus = JetStreamBus("nats://127.0.0.1:4222")
        await bus.connect()
        out: set[FaultKey] = set()
        try:
            consumer = await bus.consumer(topo.faults_stream, "bench-replay", topo.faults_subjects)
            while batch := await consumer.fetch(1000, timeout=1.0):
                for m in batch:
                    f = decode_fault(m.data)
                    out.add((f.fault_id, f.raised, f.at_ms))
        finally:
            await bus.close()
        return out

    try:
        deadline = time.time() + 60
        while time.time() < deadline and _metric(port, "liftwatch_detector_messages_total") < 0:
            time.sleep(0.3)
        started = time.perf_counter()
        asyncio.run(publish())
        done_at, processed, idle_since = started, 0.0, time.perf_counter()
        while processed < len(data) and time.perf_counter() - idle_since < 15:
            time.sleep(0.1)
            now = _metric(port, "liftwatch_detector_messages_total")
            if now > processed:
                processed, done_at, idle_since = now, time.perf_counter(), time.perf_counter()
        time.sleep(3.0)  # the last batches' faults stored and announced
        got = asyncio.run(announced())
        out = result(int(processed), points, done_at - started, lost=len(data) - int(processed))
        out.update(
            faults=len(got),
            as_detect=len(got & expected),
            missing=len(expected - got),
            extra=len(got - expected),
        )
        return out
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        _drop_stream(ns)


def remove_tmp(tmp: Path) -> None:
    """Remove a bench's temporary folder, unless BENCH_KEEP asks to keep it (its logs, its database)."""
    if os.environ.get("BENCH_KEEP"):
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every worker, then wait up to 20 s each (killed if still running): the benches' teardown."""
    for w in procs:
        w.send_signal(signal.SIGTERM)
    for w in procs:
        try:
            w.wait(20)
        except subprocess.TimeoutExpired:
            w.kill()


BROKER_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
# as docs/OPERATIONS.md recommends for ingestion: never drop a slow subscriber's messages
max_queued_messages 0
max_queued_bytes 0
"""


def start_broker(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """Our own Mosquitto (the machine's binary) with the production queue settings, on its own port."""
    conf = tmp / "mosquitto.conf"
    conf.write_text(BROKER_CONF.format(port=port))
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"mosquitto did not start on port {port}")


def _drop_stream(ns: str) -> None:
    """The run's streams off the machine's NATS: TELEMETRY, and FAULTS and RAW, which the workers made too."""
    from liftwatch.core.bus import JetStreamBus
    from liftwatch.telemetry.natsraw import raw_stream_name
    from liftwatch.telemetry.records import Topology

    async def main() -> None:
        bus = JetStreamBus("nats://127.0.0.1:4222")
        await bus.connect()
        topo = Topology(ns)
        for name in (topo.stream, topo.faults_stream, raw_stream_name(ns)):
            await bus.delete_stream(name)
        await bus.close()

    asyncio.run(main())


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--traffic", type=float, default=8.0, help="hall-call rate multiplier of the simulated city"
    )
    parser.add_argument("--ingest-procs", type=int, default=1)
    parser.add_argument(
        "--detect-procs", type=int, default=1, help="(c)'s detect workers, each a share of the partitions"
    )
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--broker-port",
        type=int,
        default=0,
        help="use the broker already on this port (e.g. 1883) instead of starting our own Mosquitto",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma list of stages to skip: decode,detect,interpreted,end_to_end,broker,replay",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="an empty database for the registry and the stores (default: SQLite in a temporary folder)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.detect_procs <= args.partitions:
        parser.error("--detect-procs: from 1 to --partitions (each detect worker needs a partition)")
    skip = set(filter(None, args.skip.split(",")))

    tmp = Path(tempfile.mkdtemp(prefix="liftwatch-bench-ingest-"))
    broker: subprocess.Popen[bytes] | None = None
    port = args.broker_port
    try:
        if not port:
            if shutil.which("mosquitto") is None:
                log("mosquitto not installed: use --broker-port 1883")
                return 2
            port = 18883
            broker = start_broker(tmp, port)
        url = args.database_url or f"sqlite:///{tmp / 'city.db'}"
        data, rated, points = city_data(url, args.elevators, args.messages, args.traffic)
        span = (data[-1][2] - data[0][2]) / 1000
        log(f"{len(data)} messages, {points} data points, {span:.0f} s of city time")
        log(f"{copies_in(data)} of them copies of an earlier message (network noise)")
        # Published in well under a minute, the data covers minutes of city time: centre its clock on the
        # run (the first message about half the span early, the last about as much late) so no terminal
        # looks like a wrong clock. (a) and (b) use the simulated times as they are.
        blob_path = tmp / "packets.bin"
        publish_at = int(time.time() * 1000) + 15_000
        with blob_path.open("wb") as fh:
            for topic, payload in rebased(data, publish_at - int(span * 1000) // 2 + 15_000):
                fh.write(publish_packet(topic, payload, qos=1 if "/event" in topic else 0, packet_id=1))
        out: dict[str, Any] = {}
        if "end_to_end" not in skip:
            log("(c) end to end")
            out["end_to_end"] = bench_end_to_end(
                url,
                tmp / "var",
                blob_path,
                port,
                len(data),
                points,
                args.ingest_procs,
                args.partitions,
                args.detect_procs,
            )
            log(json.dumps(out["end_to_end"]))
        if "broker" not in skip:
            log("(d) broker pass-through")
            out["broker"] = bench_broker(blob_path, port, len(data), points)
            log(json.dumps(out["broker"]))
        # The registry, the simulator and the packets are this process's own, not a detector's: frozen,
        # the cycle collector does not walk their millions of objects while (a) and (b) are timed (a
        # detector process holds none of them, and walking them slowed both stages).
        gc.collect()
        gc.freeze()
        if "decode" not in skip:
            out["decode"] = bench_decode(data, points)
            log(f"(a) {json.dumps(out['decode'])}")
        found: set[FaultKey] = set()
        if "detect" not in skip or "replay" not in skip:
            detected = bench_detect(data, points, rated, found)
            if "detect" not in skip:
                out["detect"] = detected
                where = Path(detector_module.__file__).name
                log(f"(b) {json.dumps(out['detect'])} with {len(found)} fault changes ({where})")
        if "detect" not in skip and "interpreted" not in skip:
            plain: set[FaultKey] = set()
            out["interpreted"] = bench_detect(data, points, rated, plain, detector_as_source().Detector)
            log(f"(b') {json.dumps(out['interpreted'])} with {len(plain)} fault changes")
            if plain != found:
                log(f"(b') found other faults than (b): {sorted(plain ^ found)[:5]}")
                return 1
        if "replay" not in skip:
            log("(e) replay with the stream clock")
            out["replay"] = bench_replay(url, tmp / "var", data, points, args.partitions, found)
            log(f"(e) {json.dumps(out['replay'])}")
        stages = ("decode", "detect", "interpreted", "end_to_end", "broker", "replay")
        ordered = {k: out[k] for k in stages if k in out}
        if "decode" in out and "detect" in out:
            log(f"detect / decode = {out['detect']['msgs_per_s'] / out['decode']['msgs_per_s']:.3f}")
        if "interpreted" in out:
            gain = out["detect"]["msgs_per_s"] / out["interpreted"]["msgs_per_s"]
            log(f"detect / interpreted = {gain:.3f}")
        if "end_to_end" in out and "broker" in out:
            log(f"end_to_end / broker = {out['end_to_end']['msgs_per_s'] / out['broker']['msgs_per_s']:.3f}")
        print(json.dumps(ordered))
        return 0
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(10)
        remove_tmp(tmp)


if __name__ == "__main__":
    sys.exit(main())
