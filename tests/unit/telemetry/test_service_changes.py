"""The record of service-mode and online changes (issue 13): the detector's second output, written by the
worker with the checkpoint that acknowledges the messages (a replay after a crash re-derives the same rows
and adds none), and the read that turns it into online and per-mode spans."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import InProcessBus
from liftwatch.core.clock import FixedClock, as_utc
from liftwatch.telemetry import queries
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.models import ServiceStateChange
from liftwatch.telemetry.protocol import ServiceMode, Status
from tests.factories import seed
from tests.unit.telemetry.test_detector import T0, make
from tests.unit.telemetry.test_pipeline import CODE, Terminal, _pipeline, _send

N, INSP = ServiceMode.NORMAL, ServiceMode.INSPECTION


def _status(seq: int, mode: ServiceMode, **fields: Any) -> Status:
    return Status(
        msg_id=f"m{seq}",
        seq=seq,
        ts=T0 + seq * 1000,
        mode=mode,
        running=False,
        door_zone=True,
        door_closed=True,
        **fields,
    )


def test_the_detector_reports_each_mode_change_once_and_remembers_the_mode() -> None:
    det = make()
    for seq, mode, trips in ((1, N, 100), (2, N, 101), (3, INSP, None), (4, INSP, 101), (5, N, 102)):
        det.feed("E1", _status(seq, mode, trips=trips), T0 + seq * 1000)
    changes = det.take_mode_changes()
    assert [(c.at_ms - T0, c.mode, c.previous, c.trips) for c in changes] == [
        (1000, N, None, 100),  # first status seen
        (3000, INSP, N, None),  # the message carried no counter
        (5000, N, INSP, 102),
    ]
    assert det.take_mode_changes() == []
    restored = make()
    restored.load(det.dump())
    restored.feed("E1", _status(6, N), T0 + 6000)
    assert restored.take_mode_changes() == []  # the mode survives a checkpoint: no change to report
    restored.feed("E1", _status(3, INSP), T0 + 7000)  # late (stale) status: no change
    assert restored.take_mode_changes() == []


def _rows(session_factory: sessionmaker[Session]) -> list[tuple[str, int, int | None, int | None]]:
    with session_factory() as s:
        rows = s.scalars(select(ServiceStateChange).order_by(ServiceStateChange.at, ServiceStateChange.id))
        return [(r.kind, r.value, r.previous, r.trips) for r in rows]


def test_changes_are_written_with_the_checkpoint_and_a_replay_adds_none(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    """A visit: inspection on, off. Nothing is written before the checkpoint; a crash after it replays the
    messages not acknowledged and writes their changes once; a status without counters gets the board's."""
    seed(session, clock)
    bus = InProcessBus()
    term = Terminal(CODE, clock)

    async def before_crash() -> None:
        ingestor, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        for fields in ({"mode": N, "trips": 500}, {"mode": N, "trips": 501}, {"mode": INSP}):
            _send(ingestor, clock, term.status(**fields))
            clock.advance(timedelta(seconds=20))
        await ingestor.flush()
        await worker.step(timeout=0.1)
        assert _rows(session_factory) == []  # not before the checkpoint
        await worker.checkpoint()
        assert _rows(session_factory) == [("mode", 1, None, 500), ("mode", 2, 1, 501)]
        _send(ingestor, clock, term.status(mode=N, trips=503))
        await ingestor.flush()
        await worker.step(timeout=0.1)  # seen, not checkpointed: the crash comes now

    async def after_restart() -> None:
        _, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        await worker.step(timeout=0.1)
        await worker.checkpoint()
        assert worker.stats.messages == 1  # only what the checkpoint had not acknowledged

    asyncio.run(before_crash())
    assert len(_rows(session_factory)) == 2
    asyncio.run(after_restart())
    expected = [("mode", 1, None, 500), ("mode", 2, 1, 501), ("mode", 1, 2, 503)]
    assert _rows(session_factory) == expected
    # the same changes recorded again (a replay from an older checkpoint) are skipped by the unique key
    with session_factory() as s:
        again = [
            telemetry.state_change_row(
                CODE, int(as_utc(r.at).timestamp() * 1000), r.kind, r.value, 0, 0, 0, r.at
            )
            for r in s.scalars(select(ServiceStateChange))
        ]
        telemetry.record_state_changes(s, again)
        s.commit()
    assert _rows(session_factory) == expected


def test_a_silent_terminal_is_recorded_offline_from_its_last_message_and_online_again(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    seed(session, clock)
    bus = InProcessBus()
    term = Terminal(CODE, clock)
    last = clock.now()

    async def main() -> None:
        ingestor, worker = _pipeline(session_factory, clock, bus)
        await worker.start()
        _send(ingestor, clock, term.status(trips=42))
        await ingestor.flush()
        await worker.step(timeout=0.1)
        clock.advance(timedelta(minutes=3))  # past offline_after (2 min by default)
        await worker.step(timeout=0.05)
        await worker.checkpoint()
        _send(ingestor, clock, term.status())
        await ingestor.flush()
        await worker.step(timeout=0.1)
        await worker.checkpoint()

    asyncio.run(main())
    with session_factory() as s:
        rows = list(s.scalars(select(ServiceStateChange).order_by(ServiceStateChange.at)))
        got = [(r.kind, r.value, r.trips, as_utc(r.at)) for r in rows]
    assert got == [
        ("mode", 1, 42, last),
        ("online", 0, 42, last),  # silent from its last message
        ("online", 1, 42, last + timedelta(minutes=3)),
    ]


def test_the_history_gives_online_spans_and_modes_only_while_online(session: Session) -> None:
    t = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)

    def at(minutes: int) -> int:
        return int((t + timedelta(minutes=minutes)).timestamp() * 1000)

    rows = [
        ("mode", at(-600), int(N), 10),  # heard long before the window
        ("mode", at(10), int(INSP), 20),
        ("online", at(20), 0, 20),  # silent 20..40, still in inspection mode
        ("online", at(40), 1, 20),
        ("mode", at(50), int(N), 21),
    ]
    telemetry.record_state_changes(
        session,
        [telemetry.state_change_row("E9", ms, kind, v, None, trips, None, t) for kind, ms, v, trips in rows],
    )
    session.commit()

    def span(a: int, b: int) -> queries.Span:
        return queries.Span(t + timedelta(minutes=a), t + timedelta(minutes=b))

    h = queries.service_history(session, "E9", t, t + timedelta(minutes=60))
    assert h.heard and h.online == (span(0, 20), span(40, 60))
    assert h.spans(INSP) == (span(10, 20), span(40, 50))
    assert h.spans(N) == (span(0, 10), span(50, 60))
    assert [c.value for c in h.changes] == [int(INSP), 0, 1, int(N)]
    assert queries.counters_at(session, "E9", t + timedelta(minutes=45)) == queries.Counters(
        t + timedelta(minutes=40), 20, None
    )
    unheard = queries.service_history(session, "E8", t, t + timedelta(minutes=60))
    assert not unheard.heard and unheard.online == () and unheard.modes == {}
