"""Through the real Mosquitto and NATS JetStream on this machine: a message published by an MQTT client
arrives, is detected and stored; a detector worker killed mid-stream and restarted loses nothing and
doubles nothing; the archive holds every message."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pyarrow.dataset as ds
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.clock import SystemClock
from liftwatch.core.config import Settings, archive_dir
from liftwatch.registry.models import ElevatorEvent
from liftwatch.telemetry.models import Fault, LiveStatus
from liftwatch.telemetry.protocol import Event, EventCode, ServiceMode, Status, encode
from liftwatch.telemetry.records import Topology
from liftwatch.workers import Pipeline
from tests.conftest import MQTT_URL, NATS_URL, new_stream_namespace, require_service
from tests.factories import ELEVATORS, seed
from tests.waiting import run_bounded, until

pytestmark = [pytest.mark.nats, pytest.mark.mqtt]
CODES = [e[0] for e in ELEVATORS]


@pytest.fixture(autouse=True)
def _services() -> None:
    require_service("Mosquitto", MQTT_URL)
    require_service("NATS", NATS_URL)


def _settings(tmp_path: Path, namespace: str) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        secret_key="x" * 48,
        bus_url=NATS_URL,
        mqtt_url=MQTT_URL,
        stream_namespace=namespace,
        mqtt_group=f"test-{namespace}",
        mqtt_client_id=f"test-{namespace}-ingest",
        mqtt_session_expiry_s=5,
        partitions=2,
        checkpoint_seconds=0.3,
    )


class Publisher:
    """A terminal fleet on a real MQTT connection: status QoS 0, events QoS 1."""

    def __init__(self) -> None:
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.seq: dict[str, int] = {}
        self.sent = 0

    def _next(self, code: str) -> tuple[str, int, int]:
        n = self.seq[code] = self.seq.get(code, 0) + 1
        return f"{code}-{n}", n, time.time_ns() // 1_000_000

    def status(self, code: str, **fields: Any) -> None:
        msg_id, seq, ts = self._next(code)
        base: dict[str, Any] = {
            "mode": ServiceMode.NORMAL,
            "running": False,
            "door_zone": True,
            "door_closed": True,
        }
        base.update(fields)
        payload = encode(Status(msg_id=msg_id, seq=seq, ts=ts, passenger=False, trips=seq, **base))
        self.client.publish(f"liftwatch/v1/{code}/status", payload, qos=0).wait_for_publish(5)
        self.sent += 1

    def event(self, code: str, event: EventCode, active: bool = True) -> None:
        msg_id, seq, ts = self._next(code)
        payload = encode(Event(msg_id=msg_id, seq=seq, ts=ts, code=event, active=active))
        self.client.publish(f"liftwatch/v1/{code}/event", payload, qos=1).wait_for_publish(5)
        self.sent += 1

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def _detectors_caught_up(pipeline: Pipeline, namespace: str) -> bool:
    """Every detector partition has checkpointed (and so acknowledged) all the stream holds."""
    assert pipeline.bus is not None
    return await pipeline.bus.backlog(Topology(namespace).stream, consumer_prefix="detector") == 0


def _faults(session_factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with session_factory() as s:
        return sorted((f.registration_code, f.fault_type) for f in s.scalars(select(Fault)))


def _fault_entries(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return int(
            s.scalar(select(func.count()).select_from(ElevatorEvent).where(ElevatorEvent.kind == "fault"))
            or 0
        )


def test_mqtt_to_jetstream_to_stores_with_a_worker_restart(
    session: Session, session_factory: sessionmaker[Session], clock: Any, tmp_path: Path
) -> None:
    seed(session, clock)
    namespace = new_stream_namespace()
    settings = _settings(tmp_path, namespace)

    async def main() -> None:
        ingest = Pipeline(settings, session_factory, SystemClock(), roles=frozenset({"ingest", "archive"}))
        detect = Pipeline(settings, session_factory, SystemClock(), roles=frozenset({"detect"}))
        await ingest.start()
        await detect.start()
        pub = Publisher()
        restarted: Pipeline | None = None
        running = detect
        try:
            # first half: an alarm and an overrun (QoS 1 events), ordinary traffic
            pub.event(CODES[0], EventCode.ALARM_BUTTON)
            pub.event(CODES[1], EventCode.OVERRUN_TOP)
            for i in range(200):
                pub.status(CODES[i % 4], running=i % 2 == 0)
            await until(lambda: len(_faults(session_factory)) == 2)
            await until(lambda: _detectors_caught_up(detect, namespace), what="a checkpoint passes")

            # crash the detector mid-stream: no flush, no checkpoint
            pub.event(CODES[2], EventCode.RESTART_PREVENTED)
            for i in range(200):
                pub.status(CODES[i % 4], running=i % 2 == 1)
            await detect.kill()
            await detect.bus.close()  # type: ignore[union-attr]
            running = None
            pub.event(CODES[3], EventCode.ESC_MISSING_STEP)  # published while no detector runs
            pub.status(CODES[0], running=False)

            restarted = Pipeline(settings, session_factory, SystemClock(), roles=frozenset({"detect"}))
            await restarted.start()
            await until(lambda: len(_faults(session_factory)) == 4)
            await until(lambda: sum(w.stats.messages for w in restarted.workers) > 0)
            # everything is on the stream, detected and checkpointed, and taken by the archive, which
            # acknowledges only when it writes a file (``_count``: rows held for the next one)
            assert ingest.ingestor is not None and ingest.archive is not None
            archive, ingestor = ingest.archive, ingest.ingestor
            await until(lambda: ingestor.stats.accepted == pub.sent and not ingestor.buffered())
            await until(lambda: _detectors_caught_up(restarted, namespace))
            await until(lambda: archive.rows_written + archive._count == pub.sent)
        finally:
            # every pipeline is stopped, also after a failed wait, and within a bound: a failure here costs
            # seconds, never the whole test timeout (a pipeline left running holds asyncio.run's shutdown)
            pub.close()
            for pipeline in (running, restarted, ingest):
                if pipeline is not None:
                    await asyncio.wait_for(pipeline.stop(), 60)
        assert ingest.ingestor is not None
        assert ingest.ingestor.stats.accepted == pub.sent == 405
        assert ingest.ingestor.stats.rejected == {}
        assert ingest.archive is not None and ingest.archive.rows_written == pub.sent

    run_bounded(main())
    assert _faults(session_factory) == [
        (CODES[0], "alarm_button"),
        (CODES[1], "overrun_top"),
        (CODES[2], "restart_prevented"),
        (CODES[3], "esc_missing_step"),
    ]
    assert _fault_entries(session_factory) == 4  # one elevator-file entry each: nothing doubled
    with session_factory() as s:
        live = {r.registration_code: r for r in s.scalars(select(LiveStatus))}
    assert set(live) == set(CODES)
    # the newest status of each elevator arrived: its trip counter is the last seq published
    assert live[CODES[0]].trips is not None and live[CODES[0]].trips >= 100
    table = ds.dataset(archive_dir(settings), format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 405
    assert len(set(table.column("msg_id").to_pylist())) == 405
    rows = table.to_pylist()
    events = sorted(r["event_code"] for r in rows if r["type"] == "event")
    assert events == sorted(["09", "08", "64", "alarm"])
    status = next(r for r in rows if r["type"] == "status")
    assert status["mode"] == 1 and status["door_closed"] is True and status["trips"] == int(status["seq"])


def test_nats_raw_subjects_are_ingested_durably(
    session: Session, session_factory: sessionmaker[Session], clock: Any, tmp_path: Path
) -> None:
    """A terminal speaking NATS: its raw messages are captured by JetStream and ingested like MQTT ones."""
    from liftwatch.sim.telemetry import NatsSink
    from liftwatch.telemetry.service import dead_letter_counts

    seed(session, clock)
    namespace = new_stream_namespace()
    settings = _settings(tmp_path, namespace).model_copy(update={"mqtt_url": ""})
    now = time.time_ns() // 1_000_000

    async def main() -> None:
        pipeline = Pipeline(settings, session_factory, SystemClock())
        await pipeline.start()  # creates the RAW stream
        try:
            sink = await asyncio.to_thread(NatsSink, NATS_URL, 10, namespace)
            event = encode(Event(msg_id="n-1", seq=1, ts=now, code=EventCode.OVERRUN_BOTTOM))
            await asyncio.to_thread(sink.send, CODES[2], "event", event)
            await asyncio.to_thread(sink.send, CODES[2], "weird", event)
            await asyncio.to_thread(sink.close)
            await until(lambda: len(_faults(session_factory)) == 1)
            await until(lambda: pipeline.nats_raw is not None and pipeline.nats_raw.received == 2)
        finally:
            await pipeline.stop()

    run_bounded(main())
    assert _faults(session_factory) == [(CODES[2], "overrun_bottom")]
    with session_factory() as s:
        assert dead_letter_counts(s) == {"bad_topic": 1}
