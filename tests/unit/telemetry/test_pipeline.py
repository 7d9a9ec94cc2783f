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
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.models import DeadLetter, Fault, LiveStatus
from liftwatch.telemetry.protocol import Event, EventCode, ServiceMode, Status, encode
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
