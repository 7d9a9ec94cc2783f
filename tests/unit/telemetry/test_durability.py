"""Never lose an alarm, on the in-process bus, on SQLite and PostgreSQL: a bad record on the stream, a
restarted embedded server, an elevator registered after its terminal started, a rated speed set later,
a flush that fails, a stream that is full, a loop that cannot make progress."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.bus import Health, InProcessBus, StreamFull, Unrecoverable, run_steps
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.registry import service as registry
from liftwatch.registry.domain import ElevatorKind, PlaceType
from liftwatch.registry.schemas import ElevatorCreate, ElevatorUpdate
from liftwatch.telemetry import records
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.models import DeadLetter, Fault
from liftwatch.telemetry.protocol import EventCode
from liftwatch.telemetry.worker import PartitionWorker
from liftwatch.workers import Pipeline
from tests.factories import seed
from tests.unit.telemetry.test_pipeline import CODE, OTHER, Terminal, _send
from tests.waiting import stays, until

NEW = "11SHZ000099"


def _faults(session_factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with session_factory() as s:
        return sorted((f.registration_code, f.fault_type) for f in s.scalars(select(Fault)))


async def _bus() -> InProcessBus:
    bus = InProcessBus()
    await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
    return bus


# ---------------------------------------------------------------- defect 4: a bad record on the stream


def test_a_bad_record_does_not_lose_its_neighbours(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """A record that does not decode sits between two alarms in one fetch: both alarms become faults,
    the bad record is dead-lettered whole with its reason, and the checkpoint acknowledges past it."""
    seed(session, clock)

    async def main() -> None:
        bus = await _bus()
        ingestor = Ingestor(bus, 1, KnownElevators([CODE, OTHER]))
        worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600)
        await worker.start()
        _send(ingestor, clock, Terminal(CODE, clock).event(EventCode.ALARM_BUTTON))
        await ingestor.flush()
        await bus.publish(records.DEFAULT_TOPOLOGY.subject_of(0), b"\x00 not a batch")
        bad_status = records.encode_batch([(OTHER, 1, 0, b'{"seq": "x"}')])  # a status that does not decode
        await bus.publish(records.DEFAULT_TOPOLOGY.subject_of(0), bad_status)
        _send(ingestor, clock, Terminal(OTHER, clock).event(EventCode.OVERRUN_TOP))
        await ingestor.flush()
        for _ in range(3):
            await worker.step(timeout=0.1)
        await worker.checkpoint()
        assert worker.stats.checkpoints == 1
        assert await (await bus.consumer(records.STREAM, worker.durable, "telemetry.p0")).pending() == 0

    asyncio.run(main())
    assert _faults(session_factory) == [(CODE, "alarm_button"), (OTHER, "overrun_top")]
    with session_factory() as s:
        letters = s.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()
        assert [(d.source, d.reason) for d in letters] == [("stream", "bad_record"), ("stream", "bad_record")]
        assert letters[0].payload == b"\x00 not a batch"
        assert letters[1].payload == b'{"seq": "x"}' and OTHER in letters[1].detail


# ---------------------------------------------------------------- defect 5: the embedded server restarts


def test_a_restarted_embedded_server_reads_its_new_stream(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """The checkpoint of the previous process counts in its in-process stream; the new process's
    stream starts at 1 again. Everything sent after the restart is detected."""
    seed(session, clock)
    term = Terminal(CODE, clock)

    async def run_process(statuses: int, alarm: bool) -> PartitionWorker:
        bus = await _bus()  # a new process: a new in-process stream
        ingestor = Ingestor(bus, 1, KnownElevators([CODE, OTHER]))
        worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600)
        await worker.start()
        for _ in range(statuses):
            _send(ingestor, clock, term.status())
            await ingestor.flush()  # one stream message each
        if alarm:
            _send(ingestor, clock, term.event(EventCode.ALARM_BUTTON))
            await ingestor.flush()
        while await worker.step(timeout=0.05):
            pass
        await worker.checkpoint()
        return worker

    first = asyncio.run(run_process(200, alarm=False))
    assert first.stats.messages == 200 and first.stats.last_seq == 200
    second = asyncio.run(run_process(199, alarm=True))
    assert second.stats.messages == 200  # the old code skipped the first 200 (0 seen)
    assert _faults(session_factory) == [(CODE, "alarm_button")]


# ---------------------------------------------------------------- defect 7: registry changes


def _settings(tmp_path: Any) -> Settings:
    return Settings(var_dir=tmp_path / "var", secret_key="x" * 40, partitions=2, archive=False)


def _register(session_factory: sessionmaker[Session], clock: FixedClock, rated: float | None) -> None:
    with session_factory() as s:
        registry.create_elevator(
            s,
            SYSTEM_ACTOR,
            ElevatorCreate(
                registration_code=NEW,
                rescue_code="99099",
                kind=ElevatorKind.TRACTION,
                place_type=PlaceType.OFFICE,
                district="静安区",
                rated_speed_mps=rated,
            ),
            clock,
        )
        s.commit()


def test_a_new_elevators_first_messages_are_replayed_when_it_is_registered(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Any
) -> None:
    """A terminal reports (an alarm) before its elevator is in the registry: dead-lettered as
    unknown_elevator. Registered later, the elevator is known within a second and the alarm is
    replayed into a fault; a second registration event replays nothing twice."""
    seed(session, clock)

    async def main() -> float:
        pipeline = Pipeline(_settings(tmp_path), session_factory, clock, bus=await _bus())
        pipeline.registry_poll_s = 0.1
        await pipeline.start()
        try:
            assert pipeline.ingestor is not None
            _send(pipeline.ingestor, clock, Terminal(NEW, clock).event(EventCode.ALARM_BUTTON))
            await until(lambda: _letters(session_factory) == [("unknown_elevator", NEW, False)])
            _register(session_factory, clock, rated=None)
            started = time.monotonic()
            await until(lambda: _faults(session_factory) == [(NEW, "alarm_button")])
            took = time.monotonic() - started
            assert _letters(session_factory) == [("unknown_elevator", NEW, True)]
            assert NEW in pipeline.ingestor.known.codes
            assert await pipeline.replay_unknown() == 0  # nothing left to replay
            return took
        finally:
            await pipeline.stop()

    assert asyncio.run(main()) < 1.0


def test_the_feeds_sweep_adds_what_it_missed_and_replays_it(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Any
) -> None:
    """A registration the feed did not see (committed with an event id behind its lookback): the
    sweep adds the code, never drops one, and replays the letters waiting for it."""
    seed(session, clock)

    async def main() -> None:
        pipeline = Pipeline(_settings(tmp_path), session_factory, clock, bus=await _bus())
        pipeline.registry_poll_s = 3600  # the feed stays quiet: only the sweep runs here
        await pipeline.start()
        try:
            assert pipeline.ingestor is not None
            _send(pipeline.ingestor, clock, Terminal(NEW, clock).event(EventCode.ALARM_BUTTON))
            await until(lambda: _letters(session_factory) == [("unknown_elevator", NEW, False)])
            _register(session_factory, clock, rated=None)
            pipeline.ingestor.known.codes.add("KEPT-EVEN-IF-NOT-IN-THE-REGISTRY")
            await pipeline._sweep()
            assert {NEW, "KEPT-EVEN-IF-NOT-IN-THE-REGISTRY"} <= pipeline.ingestor.known.codes
            await until(lambda: _faults(session_factory) == [(NEW, "alarm_button")])
        finally:
            await pipeline.stop()

    asyncio.run(main())


def _letters(session_factory: sessionmaker[Session]) -> list[tuple[str, str | None, bool]]:
    with session_factory() as s:
        return [
            (d.reason, d.registration_code, d.replayed_at is not None)
            for d in s.scalars(select(DeadLetter).order_by(DeadLetter.id))
        ]


def test_a_rated_speed_set_after_the_start_reaches_the_overspeed_rule(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Any
) -> None:
    seed(session, clock)
    _register(session_factory, clock, rated=None)

    async def main() -> None:
        pipeline = Pipeline(_settings(tmp_path), session_factory, clock, bus=await _bus())
        pipeline.registry_poll_s = 0.1
        await pipeline.start()
        try:
            assert pipeline.ingestor is not None
            term = Terminal(NEW, clock)
            _send(pipeline.ingestor, clock, term.status(running=True, speed=2.4, door_zone=False))
            await until(lambda: sum(w.stats.messages for w in pipeline.workers), what="the status is seen")
            with session_factory() as s:
                registry.update_elevator(s, SYSTEM_ACTOR, NEW, ElevatorUpdate(rated_speed_mps=1.6), clock)
                s.commit()
            owner = next(w for w in pipeline.workers if w.partition == records.partition_of(NEW, 2))
            await until(lambda: owner.detector.rated_speed(NEW) == 1.6, timeout=1.0)
            for _ in range(4):  # 2.4 m/s is 1.5 x 1.6: held beyond the overspeed confirmation
                clock.advance(timedelta_ms(600))
                _send(pipeline.ingestor, clock, term.status(running=True, speed=2.4, door_zone=False))
            await until(lambda: (NEW, "overspeed") in _faults(session_factory))
        finally:
            await pipeline.stop()

    asyncio.run(main())


def test_a_suspended_elevators_silent_terminal_is_no_fault(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Any
) -> None:
    """Suspended in the registry while the pipeline runs: its terminal falls silent with the lift
    switched off, and no terminal_offline is raised; the other elevator's silence is a fault."""
    from liftwatch.registry.domain import EventKind
    from liftwatch.registry.schemas import EventIn

    seed(session, clock)

    async def main() -> None:
        pipeline = Pipeline(_settings(tmp_path), session_factory, clock, bus=await _bus())
        pipeline.registry_poll_s = 0.1
        await pipeline.start()
        try:
            assert pipeline.ingestor is not None
            for code in (CODE, OTHER):
                _send(pipeline.ingestor, clock, Terminal(code, clock).status())
            with session_factory() as s:
                registry.record_event(s, SYSTEM_ACTOR, CODE, EventIn(kind=EventKind.SUSPENSION), clock)
                s.commit()
            owner = next(w for w in pipeline.workers if w.partition == records.partition_of(CODE, 2))
            await until(lambda: not owner.detector.in_service(CODE), timeout=1.0)
            clock.advance(timedelta_ms(300_000))
            await until(lambda: (OTHER, "terminal_offline") in _faults(session_factory))
            await stays(lambda: (CODE, "terminal_offline") not in _faults(session_factory), 0.3)
        finally:
            await pipeline.stop()

    asyncio.run(main())
    assert (CODE, "terminal_offline") not in _faults(session_factory)


def timedelta_ms(ms: int) -> Any:
    from datetime import timedelta

    return timedelta(milliseconds=ms)


# ---------------------------------------------------------------- defect 2 and 12: flushes and pressure


def test_a_failed_flush_keeps_everything_and_acknowledges_nothing(clock: FixedClock) -> None:
    """The stream refuses (full): the messages stay buffered in order, the QoS 1 acknowledgement waits,
    the loop goes on; once the stream takes them again everything arrives once, then the ack runs."""

    async def main() -> None:
        bus = InProcessBus(retain_acked=True)
        await bus.ensure_stream(
            records.STREAM, [f"{records.SUBJECT_PREFIX}.>"], max_bytes=0, discard_new=True
        )
        ingestor = Ingestor(bus, 2, KnownElevators([CODE, OTHER]))
        acked: list[int] = []
        term = Terminal(CODE, clock)
        for i in range(5):
            _send(ingestor, clock, term.status(floor=i))
        _send(ingestor, clock, term.event(EventCode.ALARM_BUTTON))
        ingestor.after_publish(lambda: acked.append(1))
        stop = asyncio.Event()
        loop = asyncio.create_task(ingestor.run(linger_s=0.01, stop=stop))
        await until(lambda: ingestor.health.failures >= 2)
        assert not ingestor.health.ready and acked == [] and ingestor.buffered() == 6
        await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"], max_bytes=-1)
        await until(lambda: acked == [1] and ingestor.health.ready)
        stop.set()
        await loop
        consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
        got = [r for m in await consumer.fetch(100, timeout=0.1) for r in records.decode_batch(m.data)]
        assert [json.loads(r[3])["seq"] for r in got] == [1, 2, 3, 4, 5, 6]  # once each, in order

    asyncio.run(main())


def test_a_full_stream_refuses_or_rolls_as_configured() -> None:
    async def main() -> None:
        bus = InProcessBus()
        await bus.ensure_stream("S", ["s.>"], max_bytes=10, discard_new=True)  # FAULTS
        await bus.publish("s.a", b"12345")
        with pytest.raises(StreamFull):
            await bus.publish("s.a", b"123456")
        await bus.ensure_stream("S", ["s.>"])  # a worker's "make sure it exists" changes nothing
        with pytest.raises(StreamFull):
            await bus.publish("s.a", b"123456")
        await bus.ensure_stream("R", ["r.>"], max_bytes=10)  # TELEMETRY: a rolling window
        for n in range(1, 4):
            await bus.publish("r.a", f"msg{n}".encode())
        assert await bus.first_seq("R") == 2
        consumer = await bus.consumer("R", "d", "r.>")
        assert [m.data for m in await consumer.fetch(10, timeout=0.1)] == [b"msg2", b"msg3"]

    asyncio.run(main())


def test_a_detector_behind_a_rolling_stream_says_what_it_lost(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, caplog: Any
) -> None:
    seed(session, clock)

    async def main() -> PartitionWorker:
        bus = InProcessBus()
        await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"], max_bytes=2000)
        ingestor = Ingestor(bus, 1, KnownElevators([CODE]))
        worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600, fetch_max=1)
        await worker.start()
        term = Terminal(CODE, clock)
        for _ in range(3):
            _send(ingestor, clock, term.status())
            await ingestor.flush()
        await worker.step(timeout=0.05)  # reads seq 1 of 3
        for _ in range(20):  # the stream holds about 10 of these: what the detector had not read goes
            _send(ingestor, clock, term.status())
            await ingestor.flush()
        await worker.checkpoint()
        return worker

    worker = asyncio.run(main())
    assert worker.stats.discarded > 0
    assert "discarded seq 2.." in caplog.text


def test_saturated_ingestion_sheds_status_never_events(clock: FixedClock) -> None:
    ingestor = Ingestor(InProcessBus(), 1, KnownElevators([CODE]), max_buffered=3)
    term = Terminal(CODE, clock)
    for _ in range(5):
        _send(ingestor, clock, term.status())
    assert ingestor.buffered() == 3 and ingestor.stats.shed == 2 and ingestor.saturated
    for _ in range(4):
        _send(ingestor, clock, term.event(EventCode.ALARM_BUTTON))
    assert ingestor.buffered() == 7 and ingestor.stats.shed == 2  # every event taken
    ingestor.lagging = True
    ingestor.max_buffered = 1000
    _send(ingestor, clock, term.status())
    assert ingestor.stats.shed == 3
    # a gateway's status is taken (its batch was let in; it is told what was accepted), and so is one
    # from a durable source
    _, payload = term.status()
    item = json.dumps({"type": "status", "registration_code": CODE, **json.loads(payload)}).encode()
    assert ingestor.accept_gateway_item(item, 1) is None
    assert ingestor.accept_mqtt(*term.status(), 1, source="nats", may_shed=False)
    assert ingestor.stats.shed == 3 and ingestor.buffered() == 9


def test_shedding_on_lag_counts_messages_not_batches(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Any
) -> None:
    """At the peak a batch holds hundreds of messages: a detector 30 batches of 200 behind is 6,000
    messages behind, over a limit of 5,000, though 30 batches are far under it (bench/latency.py saw a
    stream a million messages behind and nothing shed, the limit being counted in batches)."""
    seed(session, clock)
    settings = Settings(
        var_dir=tmp_path / "var", secret_key="x" * 40, archive=False, ingest_shed_backlog=5_000
    )

    async def main() -> tuple[bool, bool]:
        pipeline = Pipeline(settings, session_factory, clock, roles=frozenset({"ingest"}))
        await pipeline.start()
        try:
            assert pipeline.ingestor is not None and pipeline.bus is not None
            topo = records.Topology(settings.stream_namespace)
            p = records.partition_of(CODE, settings.partitions)
            await pipeline.bus.consumer(topo.stream, f"detector-p{p}", topo.subject_of(p))  # reads nothing
            t = Terminal(CODE, clock)
            for _ in range(20):  # 20 batches of 200
                for _ in range(200):
                    _send(pipeline.ingestor, clock, t.status())
                await pipeline.ingestor.flush()
            await pipeline.check_lag(topo.stream)
            before = pipeline.ingestor.lagging  # 4,000 behind
            for _ in range(10):
                for _ in range(200):
                    _send(pipeline.ingestor, clock, t.status())
                await pipeline.ingestor.flush()
            await pipeline.check_lag(topo.stream)
            return before, pipeline.ingestor.lagging  # 6,000 behind
        finally:
            await pipeline.stop()

    before, after = asyncio.run(main())
    assert before is False and after is True


def test_only_unscoped_senders_dead_letters_are_replayable(clock: FixedClock) -> None:
    """A unit's gateway cannot have its unit scope checked for an elevator nobody knew: its
    unknown_elevator letters are kept but never replayed (they name no elevator)."""
    ingestor = Ingestor(InProcessBus(), 1, KnownElevators([CODE]))
    _, payload = Terminal(NEW, clock).status()
    item = json.dumps({"type": "status", "registration_code": NEW, **json.loads(payload)}).encode()
    assert ingestor.accept_gateway_item(item, 1) is not None
    assert ingestor.accept_gateway_item(item, 1, allowed={CODE}) is not None
    assert [d.registration_code for d in ingestor._dead] == [NEW, None]


# ---------------------------------------------------------------- supervision


def test_a_failing_loop_backs_off_reports_not_ready_and_gives_up() -> None:
    calls: list[float] = []

    async def step() -> None:
        calls.append(time.monotonic())
        raise ConnectionError("database is down")

    async def main() -> None:
        health = Health("t", give_up_s=1.2)
        with pytest.raises(Unrecoverable, match="database is down"):
            await run_steps(step, asyncio.Event(), "t", health)
        assert not health.ready and health.failures == len(calls)

    asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95  # 0.5 s, then doubling


def test_a_pipeline_whose_worker_gives_up_says_so(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Any
) -> None:
    """An unrecoverable worker sets ``failed`` (the CLI then exits non-zero) and readiness is false."""
    seed(session, clock)

    async def main() -> None:
        pipeline = Pipeline(_settings(tmp_path), session_factory, clock, bus=await _bus())
        await pipeline.start()
        assert pipeline.health()["ready"]

        async def broken() -> None:
            raise Unrecoverable("detector partition 0: OperationalError")

        pipeline.spawn(broken())
        await asyncio.wait_for(pipeline.failed.wait(), timeout=2)
        report = pipeline.health()
        assert not report["ready"] and "OperationalError" in report["failure"]
        await pipeline.stop()

    asyncio.run(main())


def test_the_archive_skips_a_bad_record_and_keeps_store_and_forward_fields(
    tmp_path: Any, clock: FixedClock
) -> None:
    import pyarrow.dataset as ds

    from liftwatch.telemetry.archive import ArchiveWriter

    async def main() -> ArchiveWriter:
        bus = await _bus()
        writer = ArchiveWriter(bus, tmp_path / "archive", max_age_s=3600)
        await writer.start()
        ingestor = Ingestor(bus, 1, KnownElevators([CODE]))
        term = Terminal(CODE, clock)
        _send(ingestor, clock, term.status())
        await ingestor.flush()
        await bus.publish(records.DEFAULT_TOPOLOGY.subject_of(0), b"\x00 not a batch")
        now = int(clock.now().timestamp() * 1000)
        late = json.dumps(
            {"msg_id": "b1", "seq": 9, "ts": now - 600_000, "sent_ts": now, "backlog": True, "code": "alarm"}
        )
        ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/event", late.encode(), now)
        await ingestor.flush()
        while await writer.step(timeout=0.05):
            pass
        await writer.flush()
        return writer

    writer = asyncio.run(main())
    assert writer.skipped == 1 and writer.rows_written == 2
    rows = ds.dataset(tmp_path / "archive", format="parquet", partitioning="hive").to_table().to_pylist()
    forwarded = next(r for r in rows if r["msg_id"] == "b1")
    assert forwarded["backlog"] is True and forwarded["event_code"] == "alarm"
    assert forwarded["sent_ts"] - forwarded["ts"] == timedelta_ms(600_000)


def test_the_web_readiness_follows_the_database_and_the_embedded_pipeline(
    session: Session, clock: FixedClock, tmp_path: Any, engine: Any
) -> None:
    from fastapi.testclient import TestClient

    from liftwatch.app import create_app

    seed(session, clock)
    settings = Settings(var_dir=tmp_path / "var", secret_key="x" * 40, archive=False)
    with TestClient(create_app(settings=settings, engine=engine, clock=clock)) as client:
        deadline = time.monotonic() + 10  # a load balancer polls too; on a loaded machine the first may not
        while (ok := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ok.status_code == 200 and ok.json()["database"] is True, ok.text
        assert ok.json()["pipeline"]["ingest"] is True
        pipeline = client.app.state.pipeline  # type: ignore[attr-defined]
        pipeline.ingestor.health.failed(ConnectionError("nats: timeout"))
        down = client.get("/readyz")
        assert down.status_code == 503 and down.json()["pipeline"]["ingest"] is False
        assert "timeout" not in down.text  # which part, not why: the endpoint is public
