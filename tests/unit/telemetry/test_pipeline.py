"""The pipeline's edges on the in-process bus, on SQLite and PostgreSQL: ingest -> bus -> detector ->
stores, dead letters, and a worker that crashes between checkpoints loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import InProcessBus
from liftwatch.core.clock import FixedClock
from liftwatch.registry.models import ElevatorEvent
from liftwatch.telemetry import service
from liftwatch.telemetry.detector import Detector
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.models import DeadLetter, Fault, LiveStatus
from liftwatch.telemetry.protocol import Event, EventCode, ServiceMode, Status, decode, encode, parse_topic
from liftwatch.telemetry.worker import PartitionWorker
from tests.factories import seed

CODE = "11SHA000001"
OTHER = "11SHB000004"


class Terminal:
    """A scripted terminal: builds messages with increasing seq and ts = the test clock."""

    def __init__(self, code: str, clock: FixedClock) -> None:
        self.code = code
        self.clock = clock
        self.seq = 0

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def status(self, **fields: Any) -> tuple[str, bytes]:
        self.seq += 1
        base: dict[str, Any] = {
            "mode": ServiceMode.NORMAL,
            "running": False,
            "door_zone": True,
            "door_closed": True,
            "passenger": False,
        }
        base.update(fields)
        msg = Status(msg_id=f"{self.code}-{self.seq}", seq=self.seq, ts=self.now_ms(), **base)
        return f"liftwatch/v1/{self.code}/status", encode(msg)

    def event(self, code: EventCode, active: bool = True) -> tuple[str, bytes]:
        self.seq += 1
        msg = Event(
            msg_id=f"{self.code}-{self.seq}", seq=self.seq, ts=self.now_ms(), code=code, active=active
        )
        return f"liftwatch/v1/{self.code}/event", encode(msg)


def _pipeline(
    session_factory: sessionmaker[Session], clock: FixedClock, bus: InProcessBus
) -> tuple[Ingestor, PartitionWorker]:
    dead: list[service.DeadLetterRecord] = []

    def sink(letters: list[service.DeadLetterRecord]) -> None:
        dead.extend(letters)
        with session_factory() as s:
            service.store_dead_letters(s, letters)
            s.commit()

    ingestor = Ingestor(bus, 1, KnownElevators([CODE, OTHER]), dead_letter_sink=sink)
    worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600)
    return ingestor, worker


def _send(ingestor: Ingestor, clock: FixedClock, item: tuple[str, bytes]) -> None:
    ingestor.accept_mqtt(item[0], item[1], int(clock.now().timestamp() * 1000))


def _count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_entrapment_is_detected_stored_and_on_the_file(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    seed(session, clock)

    async def main() -> None:
        bus = InProcessBus()
        ingestor, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        t = Terminal(CODE, clock)
        _send(ingestor, clock, t.status(running=True, door_zone=False, passenger=True))
        clock.advance(timedelta(seconds=2))
        _send(
            ingestor, clock, t.status(running=False, door_zone=False, passenger=True)
        )  # stuck between floors
        await ingestor.flush()
        await worker.step(timeout=0.1)
        clock.advance(timedelta(seconds=40))  # silence: the timer fires on tick
        await worker.step(timeout=0.1)
        await worker.checkpoint()

    asyncio.run(main())
    session.expire_all()
    faults = {f.fault_type: f for f in session.scalars(select(Fault))}
    assert set(faults) == {"entrapment", "stopped_outside_door_zone"}
    ent = faults["entrapment"]
    assert ent.severity == "critical" and ent.cleared_at is None
    assert ent.evidence and ent.evidence[0] == f"{CODE}-2"
    assert ent.started_at == clock.now() - timedelta(seconds=40)
    kinds = [e.kind for e in session.scalars(select(ElevatorEvent).where(ElevatorEvent.kind == "fault"))]
    assert sorted(kinds) == ["fault", "fault"]
    live = session.get(LiveStatus, CODE)
    assert live is not None and live.passenger is True and live.door_zone is False
    assert sorted(live.open_faults) == ["entrapment", "stopped_outside_door_zone"]


def test_bad_messages_are_dead_lettered_with_reasons(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    seed(session, clock)

    async def main() -> None:
        bus = InProcessBus()
        ingestor, _ = _pipeline(session_factory, clock, bus)
        now = int(clock.now().timestamp() * 1000)
        ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/status", b"{not json", now)
        ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/status", b'{"msg_id":"x","seq":1,"ts":1}', now)
        ingestor.accept_mqtt(
            "liftwatch/v1/NOPE123/heartbeat", b'{"msg_id":"x","seq":1,"ts":1763888400000}', now
        )
        ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/weird", b"{}", now)
        ingestor.accept_mqtt(f"liftwatch/v1/{CODE}/status", b" " * 70_000, now)
        assert ingestor.stats.rejected == {
            "bad_json": 1,
            "invalid": 1,
            "unknown_elevator": 1,
            "bad_topic": 1,
            "too_large": 1,
        }
        await ingestor.flush()

    asyncio.run(main())
    session.expire_all()
    assert service.dead_letter_counts(session) == {
        "bad_json": 1,
        "invalid": 1,
        "unknown_elevator": 1,
        "bad_topic": 1,
        "too_large": 1,
    }
    letter = session.scalars(select(DeadLetter).where(DeadLetter.reason == "bad_json")).one()
    assert letter.payload == b"{not json" and letter.topic == f"liftwatch/v1/{CODE}/status"


def test_crash_between_checkpoints_loses_nothing_and_doubles_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """Faults raised before the crash were stored but not checkpointed; the restarted worker replays them
    (no doubles), and a fault whose messages were only on the stream is still found (no loss)."""
    seed(session, clock)
    bus = InProcessBus()

    async def before_crash() -> None:
        ingestor, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        a, b = Terminal(CODE, clock), Terminal(OTHER, clock)
        _send(ingestor, clock, a.status(running=True))
        await ingestor.flush()
        await worker.step(timeout=0.1)
        await worker.checkpoint()  # the last checkpoint before the crash
        _send(ingestor, clock, a.status(power=False))
        clock.advance(timedelta(seconds=6))
        _send(ingestor, clock, a.status(power=False))  # power cut confirmed
        _send(ingestor, clock, b.event(EventCode.ALARM_BUTTON))
        await ingestor.flush()
        await worker.step(timeout=0.1)  # stored, not checkpointed
        _send(ingestor, clock, b.event(EventCode.OVERRUN_TOP))  # on the stream, never processed
        await ingestor.flush()
        # crash: the worker object is dropped without a checkpoint

    async def after_restart() -> None:
        _, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        await worker.step(timeout=0.1)
        await worker.step(timeout=0.1)
        await worker.checkpoint()

    asyncio.run(before_crash())
    session.expire_all()
    assert sorted(f.fault_type for f in session.scalars(select(Fault))) == ["alarm_button", "power_cut"]
    asyncio.run(after_restart())
    session.expire_all()
    assert sorted(f.fault_type for f in session.scalars(select(Fault))) == [
        "alarm_button",
        "overrun_top",
        "power_cut",
    ]
    assert _count(session, ElevatorEvent, ElevatorEvent.kind == "fault") == 3
    assert _count(session, Fault) == 3


def test_a_failed_fault_store_is_retried_and_nothing_is_acknowledged_past_it(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """The database refuses the fault store twice (locked, as SQLite under load does). The fault is not
    skipped: nothing new is fetched and no checkpoint acknowledges the batch until it is stored and
    announced, once."""
    seed(session, clock)
    bus = InProcessBus()
    announced: list[str] = []

    async def main() -> None:
        ingestor, worker = _pipeline(session_factory, clock, bus)
        worker.on_faults = lambda changes, fresh: announced.extend(
            f"{c.fault_type.value}:{'raised' if c.raised else 'cleared'}" for c in changes
        )
        await worker.start()
        store = worker._store
        refusals = 2

        def locked_twice(changes: list[Any], bad: list[Any] | None = None) -> list[Any]:
            nonlocal refusals
            if refusals:
                refusals -= 1
                raise OperationalError("UPDATE faults ...", {}, Exception("database is locked"))
            return store(changes, bad)

        worker._store = locked_twice  # type: ignore[method-assign]
        b = Terminal(OTHER, clock)
        _send(ingestor, clock, b.event(EventCode.ALARM_BUTTON))
        await ingestor.flush()
        with pytest.raises(OperationalError):
            await worker.step(timeout=0.1)
        await worker.checkpoint()
        assert worker.stats.checkpoints == 0  # the batch is not acknowledged while its fault is unstored
        _send(ingestor, clock, b.event(EventCode.OVERRUN_TOP))
        await ingestor.flush()
        with pytest.raises(OperationalError):
            await worker.step(timeout=0.1)  # the store is retried first, fails again, nothing is fetched
        assert worker.stats.batches == 1
        await worker.step(timeout=0.1)  # stored and announced, then the next batch
        await worker.checkpoint()
        assert worker.stats.checkpoints == 1 and worker.stats.batches == 2

    asyncio.run(main())
    session.expire_all()
    assert sorted(f.fault_type for f in session.scalars(select(Fault))) == ["alarm_button", "overrun_top"]
    assert announced.count("alarm_button:raised") == 1


def test_live_rows_of_a_failed_save_are_saved_with_the_next_checkpoint(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """Rows leave the live board sorted by code (concurrent partition saves wait, never deadlock) and a
    save that fails puts them back; the checkpoint is not taken (nothing acknowledged)."""
    seed(session, clock)
    bus = InProcessBus()

    async def main() -> None:
        ingestor, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        a, b = Terminal(CODE, clock), Terminal(OTHER, clock)
        _send(ingestor, clock, b.status())
        _send(ingestor, clock, a.status())
        await ingestor.flush()
        await worker.step(timeout=0.1)
        assert [r["registration_code"] for r in worker.live.take_dirty(0)] == sorted([CODE, OTHER])
        worker.live.put_back([{"registration_code": CODE}, {"registration_code": OTHER}])
        save = worker._save

        def refused(*args: Any) -> None:
            raise OperationalError("INSERT INTO live_status ...", {}, Exception("deadlock detected"))

        worker._save = refused  # type: ignore[method-assign]
        with pytest.raises(OperationalError):
            await worker.checkpoint()
        assert worker.stats.checkpoints == 0 and worker.live.dirty == {CODE, OTHER}
        worker._save = save  # type: ignore[method-assign]
        await worker.checkpoint()
        assert worker.stats.checkpoints == 1 and not worker.live.dirty

    asyncio.run(main())
    session.expire_all()
    assert _count(session, LiveStatus) == 2


def test_every_duplicate_is_counted_where_it_was_dropped(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """A terminal that sends a message again (QoS 1 redelivery) is dropped by the detector; an ingest that
    retries a publish whose acknowledgement was lost is dropped by the stream. Each is counted where it
    was dropped, exactly, and neither doubles a fault (issue 17: the counter stayed 0 while about 9,900
    duplicates passed)."""
    from liftwatch.core.metrics import Metrics

    seed(session, clock)
    metrics = Metrics()

    def sample(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    async def main() -> None:
        bus = InProcessBus()
        ingestor = Ingestor(bus, 1, KnownElevators([CODE, OTHER]), metrics=metrics)
        worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600, metrics=metrics)
        await worker.start()
        t = Terminal(CODE, clock)
        alarm = t.event(EventCode.ALARM_BUTTON)
        for item in (t.status(), alarm, alarm, alarm):  # the alarm twice again
            _send(ingestor, clock, item)
        await ingestor.flush()
        await worker.step(timeout=0.1)
        # a publish that reached the stream but whose acknowledgement was lost: the retry has the same id
        real_publish = bus.publish
        calls = 0

        async def ack_lost(subject: str, data: bytes, msg_id: str | None = None) -> Any:
            nonlocal calls
            calls += 1
            stored = await real_publish(subject, data, msg_id)
            if calls == 1:
                raise TimeoutError("nats: timeout")  # stored, but the ingest never hears so
            return stored

        bus.publish = ack_lost  # type: ignore[method-assign]
        _send(ingestor, clock, t.status(running=True))
        _send(ingestor, clock, t.status(running=False))
        with pytest.raises(TimeoutError):
            await ingestor.flush()
        await ingestor.flush()  # the retry: the same batch id
        await worker.step(timeout=0.1)

    asyncio.run(main())
    assert sample("liftwatch_detector_duplicates_total") == 2
    assert sample("liftwatch_stream_duplicates_total", stream="telemetry") == 2  # the retried batch's two
    assert sample("liftwatch_detector_messages_total") == 6  # the retried batch read once, not twice
    session.expire_all()
    assert _count(session, Fault, Fault.fault_type == "alarm_button") == 1


_IDLE: dict[str, Any] = {"mode": ServiceMode.NORMAL, "running": False, "door_zone": True, "door_closed": True}


def test_the_live_board_writes_fault_changes_at_once_and_the_rest_at_its_pace(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every changed row within ``every_s``, a fifth of the elevators each fifth of it; an elevator whose
    faults changed at the next checkpoint (an entrapment's row is on screen at once); a last checkpoint
    writes everything; a row whose save failed goes with the next checkpoint."""
    from liftwatch.telemetry import worker as worker_module
    from liftwatch.telemetry.faults import FaultChange, FaultType, Severity
    from liftwatch.telemetry.worker import LIVE_SLICES, LiveBoard

    now = [1000.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: now[0])
    board = LiveBoard(every_s=10)
    codes = [f"11SHA{i:06d}" for i in range(50)]
    ms = int(clock.now().timestamp() * 1000)
    for seq, code in enumerate(codes, start=1):
        msg = Status(msg_id=f"{code}-1", seq=seq, ts=ms, passenger=False, **_IDLE)
        board.update(code, msg, ms)
    written: list[str] = []
    for _ in range(LIVE_SLICES):  # a checkpoint every 2 s: one slice each
        batch = [r["registration_code"] for r in board.take_dirty(ms)]
        assert len(batch) < len(codes)  # never the whole city at once
        written += batch
        assert board.take_dirty(ms) == []  # the same instant again: nothing due
        now[0] += 10 / LIVE_SLICES
    assert sorted(written) == codes  # each once, within 10 s
    ent = FaultChange(codes[7], FaultType.ENTRAPMENT, True, ms, ms, Severity.CRITICAL)
    board.update(codes[7], Status(msg_id="x", seq=99, ts=ms, passenger=True, **_IDLE), ms)
    board.update(codes[8], Status(msg_id="y", seq=99, ts=ms, passenger=False, **_IDLE), ms)
    board.apply([ent])
    first = [r["registration_code"] for r in board.take_dirty(ms)]
    assert codes[7] in first  # at once, whatever its slice
    board.put_back([board.row(codes[7], ms)])  # its save failed
    assert [r["registration_code"] for r in board.take_dirty(ms)] == [codes[7]]
    last = {r["registration_code"] for r in board.take_dirty(ms, everything=True)}
    assert codes[8] in last or codes[8] in first  # a last checkpoint leaves nothing behind
    assert board.dirty == set() and board.urgent == set()


def _yesterdays_recording(clock: FixedClock) -> list[tuple[str, bytes, int]]:
    """(topic, payload, receive ms) of a day ago: CODE stops between floors with a passenger and is freed
    2.5 minutes later; OTHER reports every 15 s throughout."""
    rec = FixedClock(clock.now() - timedelta(days=1))
    stuck, other = Terminal(CODE, rec), Terminal(OTHER, rec)
    out: list[tuple[str, bytes, int]] = []

    def add(item: tuple[str, bytes]) -> None:
        out.append((*item, int(rec.now().timestamp() * 1000) + 40))  # 40 ms on the way

    add(stuck.status(running=True, door_zone=False, passenger=True))
    for step in range(13):
        rec.advance(timedelta(seconds=15))
        add(other.status(running=step % 2 == 0))
        if step in (0, 4, 8):  # stuck; the same again a minute later (no news is not silence)
            add(stuck.status(running=False, door_zone=False, passenger=True))
        if step == 9:
            add(stuck.status(running=False, door_zone=True, door_closed=False, passenger=False))
    return out


def test_a_replay_with_the_stream_clock_gives_the_same_faults_at_any_pace(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """Yesterday's telemetry replayed with its receive times: in one go or one message at a time, the
    detector worker with ``stream_clock`` raises and clears exactly what a detector fed in order does.
    With the wall clock (a day later) the same replay finds terminals silent for a day."""
    seed(session, clock)
    session.commit()
    recording = _yesterdays_recording(clock)
    reference = Detector()
    expected = []
    for topic, payload, received_ms in recording:
        code, kind = parse_topic(topic)
        expected += reference.feed(code, decode(payload, kind), received_ms)
        expected += reference.tick(received_ms)
    key = [(c.fault_id, c.raised, c.at_ms) for c in expected]
    assert {c.fault_type.value for c in expected} == {"entrapment", "stopped_outside_door_zone"}
    assert sorted(r for _, r, _ in key) == [False, False, True, True]  # both raised, both cleared

    def replay(per_step: int, stream_clock: bool) -> list[tuple[str, bool, int]]:
        seen: list[tuple[str, bool, int]] = []

        async def main() -> None:
            bus = InProcessBus()
            ingestor = Ingestor(bus, 1, KnownElevators([CODE, OTHER]))
            worker = PartitionWorker(
                0,
                bus,
                session_factory,
                clock,
                checkpoint_s=3600,
                stream_clock=stream_clock,
                on_faults=lambda changes, _fresh: seen.extend(
                    (c.fault_id, c.raised, c.at_ms) for c in changes
                ),
            )
            await worker.start()
            for i in range(0, len(recording), per_step):
                for topic, payload, received_ms in recording[i : i + per_step]:
                    assert ingestor.accept_mqtt(topic, payload, received_ms)
                await ingestor.flush()
                while await worker.step(timeout=0.05):
                    pass

        asyncio.run(main())
        return seen

    assert replay(len(recording), stream_clock=True) == key
    assert replay(1, stream_clock=True) == key
    walled = replay(1, stream_clock=False)
    assert walled != key and any(":terminal_offline:" in fid for fid, _, _ in walled)
