"""Readiness and metrics on the real PostgreSQL and a NATS server of the test's own: a worker's /readyz
names `bus` while its NATS is frozen or gone and is 200 again once it is back; its /metrics carries the
archive's and the rescue worker's figures; the web with the pipeline elsewhere (LIFTWATCH_PIPELINE=false)
checks its database and bus, and its stats read the stream's own counters."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Role
from liftwatch.app import create_app
from liftwatch.core.bus import JetStreamBus
from liftwatch.core.clock import FixedClock, SystemClock
from liftwatch.core.config import Settings
from liftwatch.core.probes import serve_probes
from liftwatch.telemetry import records
from liftwatch.telemetry.protocol import Event, EventCode, ServiceMode, Status, encode
from liftwatch.workers import Pipeline
from tests.factories import auth, seed
from tests.integration.nats_server import OwnNats, free_port, require_nats_binary
from tests.waiting import until, wait_until

pytestmark = [pytest.mark.nats, pytest.mark.postgres]
PG = [pytest.param("postgres", marks=pytest.mark.postgres)]
CODE = "11SHA000001"


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def _ready(port: int) -> tuple[int, dict[str, Any]]:
    status, body = await asyncio.to_thread(_get, port, "/readyz")
    return status, json.loads(body)


def _not_ready(report: dict[str, Any]) -> set[str]:
    return {name for name, part in report["parts"].items() if not part["ready"]}


def _settings(tmp_path: Path, nats: OwnNats, **extra: Any) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        secret_key="x" * 48,
        bus_url=nats.url,
        mqtt_url="",
        partitions=2,
        checkpoint_seconds=0.3,
        **extra,
    )


@pytest.mark.parametrize("engine", PG, indirect=True)
def test_a_workers_readyz_names_the_bus_while_nats_is_frozen_or_gone_and_its_metrics_show_archive_and_rescue(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    require_nats_binary()
    seed(session, clock)
    session.commit()
    nats = OwnNats(tmp_path / "js").start()
    port = free_port()

    async def main() -> None:
        pipeline = Pipeline(_settings(tmp_path, nats), session_factory, SystemClock())
        pipeline.ready_check_s = 0.3
        await pipeline.start()
        probes = await serve_probes("127.0.0.1", port, pipeline.metrics.registry, pipeline.health)
        try:
            assert pipeline.archive is not None and pipeline.ingestor is not None
            pipeline.archive.max_age_s = 0.2  # write at once rather than every 30 s
            status, report = await _ready(port)
            assert status == 200, report
            assert {"database", "bus", "detector partition 0", "detector partition 1"} <= set(report["parts"])
            assert report["parts"]["detector partition 0"]["lag_s"] == 0.0  # nothing waiting

            # an alarm button: through the detector onto FAULTS, an incident; and into the archive
            now = int(time.time() * 1000)
            status_msg = Status(
                msg_id="s-1", seq=1, ts=now, mode=ServiceMode.NORMAL, running=False, door_zone=True,
                door_closed=True, passenger=False,
            )  # fmt: skip
            pipeline.ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/status", encode(status_msg), now)
            alarm = Event(msg_id="e-2", seq=2, ts=now, code=EventCode.ALARM_BUTTON, active=True)
            pipeline.ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/event", encode(alarm), now)
            await pipeline.ingestor.flush()

            def metric(text: str, name: str) -> float:
                return sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith(name + " ") or line.startswith(name + "{")
                )

            async def metrics() -> str:
                return (await asyncio.to_thread(_get, port, "/metrics"))[1]

            text = await until(
                lambda: _metrics_show_work(metrics, metric), 20, "archive and rescue metrics on /metrics"
            )
            assert 'liftwatch_rescue_incidents_opened_total{source="alarm_button"} 1.0' in text
            assert metric(text, "liftwatch_archive_files_total") >= 1
            assert metric(text, "liftwatch_archive_last_write_timestamp_seconds") > time.time() - 60
            assert 0 <= metric(text, "liftwatch_archive_lag_seconds") < 60
            assert metric(text, "process_resident_memory_bytes") > 0

            nats.freeze()
            status, report = await until(
                lambda: _ready_when(port, lambda s, r: s == 503 and "bus" in _not_ready(r)), 15
            )
            assert report["parts"]["database"]["ready"] is True  # which part: the bus, not the database
            nats.thaw()
            await until(lambda: _ready_when(port, lambda s, _r: s == 200), 20, "ready after the thaw")

            nats.kill()
            await until(lambda: _ready_when(port, lambda s, r: s == 503 and "bus" in _not_ready(r)), 10)
            nats.start()  # the same port and store: the client reconnects
            await until(lambda: _ready_when(port, lambda s, _r: s == 200), 20, "ready after the restart")
        finally:
            probes.close()
            await pipeline.stop()

    try:
        asyncio.run(main())
    finally:
        nats.kill()


async def _metrics_show_work(metrics: Any, metric: Any) -> str | None:
    text: str = await metrics()
    done = (
        metric(text, "liftwatch_archive_rows_total") >= 2
        and metric(text, "liftwatch_rescue_incidents_opened_total") >= 1
        and metric(text, "liftwatch_rescue_fault_changes_total") >= 1
        and metric(text, "liftwatch_rescue_actions_total") >= 1
    )
    return text if done else None


async def _ready_when(port: int, ok: Any) -> tuple[int, dict[str, Any]] | None:
    status, report = await _ready(port)
    return (status, report) if ok(status, report) else None


@pytest.mark.parametrize("engine", PG, indirect=True)
def test_the_web_with_the_pipeline_elsewhere_checks_its_bus_and_reads_the_streams_counters(
    session: Session, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    require_nats_binary()
    seed(session, clock)
    session.commit()
    nats = OwnNats(tmp_path / "js").start()
    settings = _settings(tmp_path, nats, pipeline=False, archive=False)
    topo = records.Topology(settings.stream_namespace)

    async def detector_consumer() -> None:
        """A detector partition's durable consumer, as a detect worker elsewhere leaves it."""
        bus = JetStreamBus(nats.url)
        await bus.connect()
        try:
            await bus.consumer(topo.stream, "detector-p0", topo.subject_of(0))
            await bus.consumer(topo.stream, "detector-p1", topo.subject_of(1))
        finally:
            await bus.close()

    try:
        with TestClient(create_app(settings=settings, engine=engine, clock=clock)) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["database"] is True and ready.json()["bus"] is True
            asyncio.run(detector_consumer())

            admin = auth(client, Role.ADMIN)
            now = int(time.time() * 1000)
            batch = [
                {"type": "heartbeat", "registration_code": CODE, "msg_id": f"h-{i}", "seq": i, "ts": now}
                for i in range(1, 4)
            ]
            posted = client.post("/api/v1/telemetry", json=batch, headers=admin)
            assert posted.status_code == 200 and posted.json()["accepted"] == 3, posted.text
            stats = client.get("/api/v1/telemetry/stats", headers=admin).json()
            stream = stats["streams"]["telemetry"]
            assert stream["name"] == topo.stream and stream["messages"] >= 1 and stream["last_seq"] >= 1
            part = str(records.partition_of(CODE, settings.partitions))
            assert stats["detector"]["pending_by_partition"][part] >= 1  # nobody detects here
            assert stats["detector"]["stream_pending"] == stream["messages"]

            nats.kill()
            down = wait_until(lambda: _web_not_ready(client), 10)
            assert down["bus"] is False and down["database"] is True
            assert "Error" not in json.dumps(down)  # which part, not why: the endpoint is public
            nats.start()
            wait_until(lambda: client.get("/readyz").status_code == 200, 20, "the web ready again")
    finally:
        nats.kill()


def _web_not_ready(client: TestClient) -> dict[str, Any] | None:
    r = client.get("/readyz")
    return r.json() if r.status_code == 503 else None
