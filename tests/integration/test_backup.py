"""Backup and restore as docs/OPERATIONS.md ("Backups") says, with the real services: a running pipeline
(ingest, detect, rescue) on a NATS server and a PostgreSQL database of the test's own; ``pg_dump -Fc``
while it runs, then the JetStream store copied while nats-server is stopped; a disaster; ``pg_restore``
into a new database, the store into a new nats-server, ``liftwatch rewind-rescue``, and the workers
started against the restored pair.

What a restore keeps and what it loses, by definition: everything before the dump is in the database;
what arrived between the dump and the store copy is on the restored streams only, and the workers must
redo it (the detector replays the telemetry after its checkpoint, the rescue worker re-reads the fault
changes since the dump) without doubling anything; what arrived after the store copy is in neither
copy and is lost (the terminals' alarms of that window are gone: a restore is a point in time)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.backup import checkpoint_problems, rewind_consumer, stream_position
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.migrate import upgrade
from liftwatch.registry import service as registry
from liftwatch.registry.domain import ElevatorKind, PlaceType
from liftwatch.registry.schemas import ElevatorCreate
from liftwatch.rescue.models import Incident, IncidentEvent
from liftwatch.telemetry import records
from liftwatch.telemetry.models import DetectorCheckpoint, Fault
from liftwatch.telemetry.protocol import EventCode
from liftwatch.workers import Pipeline
from tests.conftest import IN_CI, fresh_pg_database
from tests.factories import RESCUE_SITE, rescue_city, seed
from tests.integration.nats_server import OwnNats, require_nats_binary
from tests.unit.telemetry.test_pipeline import Terminal
from tests.waiting import until

pytestmark = [pytest.mark.nats, pytest.mark.postgres]

PG_BIN = Path("/usr/bin")
PARTITIONS = 2
# distinct elevators, so that each entrapment is its own incident (a second one on an elevator with an
# open incident joins it)
BEFORE_DUMP = [f"11SHC0000{n:02d}" for n in range(1, 5)]  # in the dump
BETWEEN = [f"11SHC0000{n:02d}" for n in range(5, 9)]  # after the dump, before the store copy
AFTER_BACKUP = [f"11SHC0000{n:02d}" for n in range(9, 11)]  # after the store copy: lost by definition
AFTER_RESTORE = [f"11SHC0000{n:02d}" for n in range(11, 13)]  # on the restored system


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _prepare(url: str) -> None:
    """Schema, the seeded city with crews, and the test's elevators near the rescue site."""
    upgrade(url)
    engine = make_engine(url)
    clock = SystemClock()
    with Session(engine) as s:
        seed(s, clock)
        rescue_city(s, clock)
        for i, code in enumerate(BEFORE_DUMP + BETWEEN + AFTER_BACKUP + AFTER_RESTORE):
            registry.create_elevator(
                s,
                SYSTEM_ACTOR,
                ElevatorCreate(
                    registration_code=code,
                    rescue_code=f"2{i:05d}",
                    district="静安区",
                    street="南京西路街道",
                    address=f"静安区某路{i + 1}号",
                    place_type=PlaceType.RESIDENTIAL,
                    kind=ElevatorKind.TRACTION,
                    maintenance_unit="MU-A",
                    use_unit="UU-A",
                    rated_load_kg=1000,
                    rated_speed_mps=1.75,
                    stops=18,
                    floors=18,
                    latitude=RESCUE_SITE.lat + 0.001 * i,
                    longitude=RESCUE_SITE.lon,
                ),
                clock,
            )
        s.commit()
    engine.dispose()


def _incidents(factory: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with factory() as s:
        return [(i.registration_code, i.fault_id) for i in s.scalars(select(Incident)).all()]


def _checkpoints(factory: sessionmaker[Session]) -> dict[int, int]:
    with factory() as s:
        return {c.partition: c.stream_seq for c in s.scalars(select(DetectorCheckpoint))}


def _codes_with_incident(factory: sessionmaker[Session]) -> set[str]:
    return {code for code, _ in _incidents(factory)}


def _entrap(pipeline: Pipeline, codes: list[str]) -> None:
    """Each terminal reports an entrapment (controller event 11), as ingestion receives it from MQTT."""
    assert pipeline.ingestor is not None
    clock = SystemClock()
    for code in codes:
        terminal = Terminal(code, clock)  # type: ignore[arg-type]  # it only asks the clock the time
        topic, payload = terminal.event(EventCode.ENTRAPMENT)
        pipeline.ingestor.accept_mqtt(topic, payload, int(time.time() * 1000))


def _stop_nats(server: OwnNats) -> None:
    """As an operator stops it (SIGTERM: the store is flushed and closed), not a crash."""
    assert server.proc is not None
    server.proc.terminate()
    server.proc.wait(15)
    server.proc = None


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"


def test_a_backup_restored_into_new_services_resumes_without_loss_or_duplication(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    require_nats_binary()
    caplog.set_level(logging.INFO, logger="liftwatch.telemetry.worker")
    if not (PG_BIN / "pg_dump").exists():  # PostgreSQL's client tools (postgresql-client)
        if IN_CI:
            pytest.fail(f"pg_dump and pg_restore must be installed in CI ({PG_BIN})")
        pytest.skip(f"pg_dump not installed in {PG_BIN}")
    with (
        fresh_pg_database("liftwatch_live") as live_url,
        fresh_pg_database("liftwatch_restored") as restored_url,
    ):
        _prepare(live_url)
        live_nats = OwnNats(tmp_path / "live-js").start()
        restored_nats: OwnNats | None = None
        dump = tmp_path / "liftwatch.dump"
        store_copy = tmp_path / "backup-js"
        try:

            def settings(bus_url: str, db_url: str) -> Settings:
                return Settings(
                    var_dir=tmp_path,
                    secret_key="s" * 48,
                    bus_url=bus_url,
                    database_url=db_url,
                    partitions=PARTITIONS,
                    checkpoint_seconds=0.5,
                )

            topo = records.Topology("")
            live_engine = make_engine(live_url)
            live = make_session_factory(live_engine)

            async def run_live() -> datetime:
                pipeline = Pipeline(
                    settings(live_nats.url, live_url),
                    live,
                    SystemClock(),
                    roles=frozenset({"ingest", "detect", "rescue"}),
                    adapters=False,
                )
                await pipeline.start()
                try:
                    _entrap(pipeline, BEFORE_DUMP)
                    await until(
                        lambda: _codes_with_incident(live) >= set(BEFORE_DUMP),
                        20,
                        lambda: f"incidents before the dump: {sorted(_codes_with_incident(live))}",
                    )
                    # a checkpoint is taken every 0.5 s, but a loaded machine may not have taken one yet:
                    # the dump must hold one for the restore to resume from (else it replays it all)
                    await until(lambda: bool(_checkpoints(live)), 20, "a detector checkpoint before the dump")
                    # the backup, step 1: the database, while everything runs
                    dump_started = datetime.now(UTC)
                    await asyncio.to_thread(
                        _run, [str(PG_BIN / "pg_dump"), "-Fc", "-f", str(dump), _libpq(live_url)]
                    )
                    _entrap(pipeline, BETWEEN)  # after the dump: on the stream copy only
                    await until(
                        lambda: _codes_with_incident(live) >= set(BETWEEN),
                        20,
                        lambda: f"incidents after the dump: {sorted(_codes_with_incident(live))}",
                    )
                    bus = pipeline.bus
                    assert bus is not None

                    async def intake_acknowledged() -> bool:  # after the incidents are committed
                        return await bus.backlog(topo.faults_stream, "rescue-intake") == 0

                    await until(intake_acknowledged, 10, "the rescue intake acknowledges what it opened")
                    # step 2: the JetStream store, copied while nats-server is stopped
                    await asyncio.to_thread(_stop_nats, live_nats)
                    await asyncio.to_thread(shutil.copytree, live_nats.store, store_copy)
                    await asyncio.to_thread(live_nats.start)
                    # after the backup: handled by the live system, in neither copy
                    _entrap(pipeline, AFTER_BACKUP)
                    await until(
                        lambda: _codes_with_incident(live) >= set(AFTER_BACKUP),
                        30,
                        lambda: f"incidents after the backup: {sorted(_codes_with_incident(live))}",
                    )
                finally:
                    await pipeline.stop()
                return dump_started

            dump_started = asyncio.run(run_live())
            live_engine.dispose()
            live_nats.kill()  # the disaster: the live database and NATS are gone from here on

            # the restore: the dump into a new database, the store into a new nats-server
            _run([str(PG_BIN / "pg_restore"), "--no-owner", "-d", _libpq(restored_url), str(dump)])
            shutil.copytree(store_copy, tmp_path / "restored-js")
            restored_nats = OwnNats(tmp_path / "restored-js").start()
            engine = make_engine(restored_url)
            restored = make_session_factory(engine)
            checkpoints = _checkpoints(restored)
            assert _codes_with_incident(restored) == set(BEFORE_DUMP)  # what the dump holds
            position = asyncio.run(stream_position(restored_nats.url, topo.stream))
            assert position is not None
            # the premise: the restored stream holds telemetry the dump's checkpoints had not covered
            assert checkpoints and max(checkpoints.values()) < position[1], (checkpoints, position)
            # the rescue worker's consumer (kept in the store) stands after the changes whose incidents
            # came after the dump: it must read again from the dump's start. At that very moment: the
            # first change after the dump (those of BEFORE_DUMP came before it, one each)
            exact = asyncio.run(
                rewind_consumer(
                    restored_nats.url, topo.faults_stream, "rescue-intake", topo.faults_subjects, dump_started
                )
            )
            n_before, n_stream = len(BEFORE_DUMP), len(BEFORE_DUMP + BETWEEN)
            assert (exact.previous_next, exact.start_seq, exact.reread) == (
                n_stream + 1,
                n_before + 1,
                len(BETWEEN),
            )
            # as the procedure does it, a minute earlier still: BEFORE_DUMP's changes come again too, and
            # must change nothing
            rewound = subprocess.run(
                [sys.executable, "-m", "liftwatch.cli", "rewind-rescue", "--since", dump_started.isoformat()],
                env={
                    **os.environ,
                    "LIFTWATCH_BUS_URL": restored_nats.url,
                    "LIFTWATCH_DATABASE_URL": restored_url,
                    "LIFTWATCH_PARTITIONS": str(PARTITIONS),
                    "LIFTWATCH_VAR_DIR": str(tmp_path),
                    "LIFTWATCH_SECRET_KEY": "s" * 48,
                },
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert rewound.returncode == 0, rewound.stderr
            assert (
                "TELEMETRY: ends at seq" in rewound.stdout and "checkpoints are within it" in rewound.stdout
            )
            assert f"FAULTS/rescue-intake: stood at {n_before + 1}; now delivers from 1 " in rewound.stdout, (
                rewound.stdout
            )

            async def run_restored() -> None:
                pipeline = Pipeline(
                    settings(restored_nats.url, restored_url),
                    restored,
                    SystemClock(),
                    roles=frozenset({"ingest", "detect", "rescue"}),
                    adapters=False,
                )
                await pipeline.start()
                try:
                    await until(
                        lambda: _codes_with_incident(restored) >= set(BEFORE_DUMP + BETWEEN),
                        20,
                        lambda: f"incidents after the restore: {sorted(_codes_with_incident(restored))}",
                    )
                    _entrap(pipeline, AFTER_RESTORE)
                    await until(
                        lambda: _codes_with_incident(restored) >= set(AFTER_RESTORE),
                        20,
                        lambda: f"incidents of the restored system: {sorted(_codes_with_incident(restored))}",
                    )
                finally:
                    await pipeline.stop()

            asyncio.run(run_restored())
            incidents = _incidents(restored)
            per_code = Counter(code for code, _ in incidents)
            test_codes = set(BEFORE_DUMP + BETWEEN + AFTER_BACKUP + AFTER_RESTORE)
            assert {c: n for c, n in per_code.items() if c in test_codes} == {
                c: 1 for c in BEFORE_DUMP + BETWEEN + AFTER_RESTORE
            }  # each entrapment an incident once; none of AFTER_BACKUP (lost by definition)
            with restored() as s:
                faults = Counter(
                    (f.registration_code, f.fault_type)
                    for f in s.scalars(select(Fault).where(Fault.registration_code.in_(test_codes)))
                )
                raised = Counter(
                    e.incident_id
                    for e in s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "raised"))
                )
                joined = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "joined")).all()
            assert faults == {(c, "entrapment"): 1 for c in BEFORE_DUMP + BETWEEN + AFTER_RESTORE}
            assert set(raised.values()) == {1} and not joined  # no incident raised or joined twice
            assert all(fid and fid.startswith(code) for code, fid in incidents if code in test_codes)
            # the copied store is the same incarnation of the stream: the checkpoints' positions held
            assert "resuming after its checkpoint" in caplog.text
            assert "another stream epoch" not in caplog.text
            engine.dispose()
        finally:
            live_nats.kill()
            if restored_nats is not None:
                restored_nats.kill()


def test_a_store_copy_older_than_the_dump_is_refused() -> None:
    """The store copied before the dump: partition 0's checkpoint lies past the stream's end, so its
    detector would skip the new messages numbered up to it. Partition 1 is within the stream; partition 2
    counts in another incarnation of the stream (its detector reads the stream from the start)."""
    problems = checkpoint_problems({0: (120, "e1"), 1: (80, "e1"), 2: (500, "e0")}, "TELEMETRY", "e1", 100)
    assert problems == [
        "detector partition 0: its checkpoint is at TELEMETRY seq 120, but the stream ends at 100: the store "
        "copy is older than the dump (take the dump first, then copy the store)"
    ]
