"""One node of a 3-node NATS JetStream cluster killed under load: is any message lost or doubled?

Shared by tests/integration/test_nats_cluster.py (a small run, in CI) and bench/cluster.py (a large one).
The pipeline is the real one (``liftwatch.workers.Pipeline``: the ingest and every detector partition, in
this process) on the cluster, its streams replicated 3 times; terminals' messages go in through the
ingest's own entry (``accept_mqtt``, as the MQTT adapter calls it) at a steady rate. Part way through, the
node that leads the telemetry stream is killed (``kill -9``): the stream and its consumers elect new
leaders on the two left, the ingest's publishes in flight time out and are retried under the same message
ids, the clients reconnect to another node. Then:

- ``processed``: messages through the detectors, each counted once (a redelivery the detector recognised
  as one is not counted again: ``redelivered`` says how many there were);
- ``lost``: messages sent that no detector saw;
- ``doubled``: messages the stream holds more than once, read back from the stream itself after the run;
- ``alarms`` / ``alarm_faults``: alarm-button presses among the messages, each on an elevator of its own,
  and the faults stored for them (each press exactly one fault).
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from liftwatch.core.bus import JetStreamBus
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.migrate import upgrade
from liftwatch.registry.models import Elevator
from liftwatch.sim.city import generate_city
from liftwatch.telemetry import records
from liftwatch.telemetry.models import Fault
from liftwatch.telemetry.protocol import Event, EventCode, ServiceMode, Status, decode, encode
from liftwatch.workers import Pipeline
from tests.integration.nats_server import NatsCluster, stream_leader, until_answered, wait_for_jetstream


def prepare_city(database_url: str, elevators: int) -> list[str]:
    """An empty database migrated and filled with a generated city; its registration codes."""
    upgrade(database_url)
    engine = make_engine(database_url)
    generate_city(engine, elevators, seed=3, progress=False)
    with make_session_factory(engine)() as session:
        codes = list(session.scalars(select(Elevator.registration_code).order_by(Elevator.id)))
    engine.dispose()
    return codes


def make_messages(codes: list[str], n: int, alarms: int, ts_ms: int) -> list[tuple[str, bytes]]:
    """``n`` terminal messages, (terminal, seq) unique: one alarm press from each of the first ``alarms``
    elevators, spread evenly, and statuses of the others in turn between them."""
    pressing, reporting = codes[:alarms], codes[alarms:]
    assert reporting, "more elevators than alarms"
    every = n // (alarms + 1) if alarms else n + 1
    seqs = dict.fromkeys(reporting, 0)
    out: list[tuple[str, bytes]] = []
    for i in range(n):
        if i % every == every - 1 and (k := i // every) < alarms:
            code = pressing[k]
            press = Event(msg_id=f"{code}-1", seq=1, ts=ts_ms, code=EventCode.ALARM_BUTTON, active=True)
            out.append((f"liftwatch/v1/{code}/event", encode(press)))
            continue
        code = reporting[i % len(reporting)]
        seq = seqs[code] = seqs[code] + 1
        status = Status(
            msg_id=f"{code}-{seq}",
            seq=seq,
            ts=ts_ms,
            mode=ServiceMode.NORMAL,
            running=seq % 2 == 0,
            door_zone=True,
            door_closed=True,
            passenger=False,
            trips=seq,
        )
        out.append((f"liftwatch/v1/{code}/status", encode(status)))
    return out


async def _read_back(pipeline: Pipeline, stream: str, subjects: str) -> Counter[tuple[str, int]]:
    """Every record the stream holds, counted by (terminal, seq): read from its first sequence up to the
    last it reports (a fetch may come back empty while a new consumer's replicas elect their leader)."""
    bus = pipeline.bus
    assert bus is not None
    last = (await until_answered(lambda: bus.stream_info(stream))).last_seq
    name = f"audit-{uuid.uuid4().hex[:6]}"
    reader = await until_answered(lambda: bus.consumer(stream, name, subjects, start_seq=1))
    seen: Counter[tuple[str, int]] = Counter()
    upto = 0
    deadline = time.monotonic() + 60
    while upto < last and time.monotonic() < deadline:
        batch = await reader.fetch(500, timeout=1.0)
        for bm in batch:
            upto = bm.seq
            for code, _received, kind, raw in records.decode_batch(bm.data):
                seq = decode(bytes(raw), records.KINDS[kind]).seq
                seen[(code, seq)] += 1
        if batch:
            await until_answered(functools.partial(reader.ack_upto, batch[-1]))
    assert upto >= last, f"read the stream up to seq {upto} of {last}"
    return seen


async def kill_one_under_load(
    cluster: NatsCluster,
    database_url: str,
    var_dir: Path,
    codes: list[str],
    messages: int,
    rate: float,
    alarms: int = 20,
    kill_at: float = 0.4,
    partitions: int = 4,
    settle_s: float = 60.0,
    log: Any = print,
) -> dict[str, Any]:
    """Send ``messages`` at ``rate`` a second; after ``kill_at`` of them, kill the telemetry stream's leader.
    Returns the figures (module docstring)."""
    await wait_for_jetstream(cluster.url)
    ns = f"c{uuid.uuid4().hex[:6]}"
    settings = Settings(
        database_url=database_url,
        var_dir=var_dir,
        secret_key="x" * 40,
        bus_url=cluster.url,
        stream_namespace=ns,
        stream_replicas=len(cluster.nodes),
        partitions=partitions,
        archive=False,
        checkpoint_seconds=1.0,
    )
    engine = make_engine(database_url)
    pipeline = Pipeline(
        settings,
        make_session_factory(engine),
        SystemClock(),
        roles=frozenset({"ingest", "detect"}),
        adapters=False,
    )
    topo = records.Topology(ns)
    now_ms = int(time.time() * 1000)
    data = make_messages(codes, messages, alarms, now_ms)
    await pipeline.start()
    ingestor = pipeline.ingestor
    assert ingestor is not None and isinstance(pipeline.bus, JetStreamBus)
    config = await pipeline.bus.stream_config(topo.stream)
    replicas = int(config["replicas"]) if config else 0
    killed = ""
    started = time.perf_counter()
    try:
        sent = 0
        slice_s = 0.05
        per_slice = max(1, int(rate * slice_s))
        kill_after = int(messages * kill_at)
        while sent < len(data):
            tick = time.perf_counter()
            received = int(time.time() * 1000)
            for topic, payload in data[sent : sent + per_slice]:
                ingestor.accept_mqtt(topic, payload, received, may_shed=False)
            sent = min(len(data), sent + per_slice)
            if not killed and sent >= kill_after:
                killed = await stream_leader(cluster.url, topo.stream)
                log(f"killing {killed}, the leader of {topo.stream}, after {sent} messages")
                cluster.node(killed).kill()
            await asyncio.sleep(max(0.0, slice_s - (time.perf_counter() - tick)))
        send_s = time.perf_counter() - started

        def through() -> int:
            return sum(w.stats.messages for w in pipeline.workers)

        deadline = time.monotonic() + settle_s
        last, idle_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = through()
            if n != last:
                last, idle_since = n, time.monotonic()
            redelivered = sum(w.detector.stats.duplicates for w in pipeline.workers)
            if n - redelivered >= len(data) and not ingestor.buffered():
                break
            if time.monotonic() - idle_since > 20:
                break
            await asyncio.sleep(0.2)
        done_s = time.perf_counter() - started
        for w in pipeline.workers:
            await w.checkpoint()
        redelivered = sum(w.detector.stats.duplicates for w in pipeline.workers)
        processed = through() - redelivered
        stream_copies = await _read_back(pipeline, topo.stream, topo.all_subjects)
    finally:
        await pipeline.stop()
    with make_session_factory(engine)() as session:
        alarm_faults = int(
            session.scalar(select(func.count()).select_from(Fault).where(Fault.fault_type == "alarm_button"))
            or 0
        )
    engine.dispose()
    on_stream = len(stream_copies)
    return {  # the first six as the issue names them, then the run's details
        "nodes": len(cluster.nodes),
        "killed": 1 if killed else 0,
        "sent": len(data),
        "processed": processed,
        "lost": len(data) - min(processed, on_stream),
        "doubled": sum(c - 1 for c in stream_copies.values()),
        "replicas": replicas,
        "killed_node": killed,
        "redelivered": redelivered,
        "retried_publishes": ingestor.stats.flush_failures,
        "stream_dropped_copies": ingestor.stats.duplicates,
        "alarms": alarms,
        "alarm_faults": alarm_faults,
        "send_s": round(send_s, 2),
        "done_s": round(done_s, 2),
    }
