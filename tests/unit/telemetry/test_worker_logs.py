"""What the telemetry workers log for an operator (docs/OPERATIONS.md, "Logs"): rejects as one summary per
period by reason, never a line per message; a detector partition's checkpoint at info (then at most once a
minute); where a restarted partition resumes and when its replay is done."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import InProcessBus
from liftwatch.core.clock import FixedClock
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.protocol import EventCode
from liftwatch.telemetry.worker import PartitionWorker
from tests.factories import seed
from tests.unit.telemetry.test_pipeline import CODE, Terminal

INGEST = "liftwatch.telemetry.ingest"
WORKER = "liftwatch.telemetry.worker"


def _lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == logger]


def test_rejects_are_logged_as_one_summary_per_period(
    caplog: pytest.LogCaptureFixture, clock: FixedClock
) -> None:
    ingestor = Ingestor(InProcessBus(), 1, KnownElevators([CODE]), reject_report_s=60)
    good, stranger = Terminal(CODE, clock), Terminal("11SHZ999999", clock)
    caplog.set_level(logging.INFO, logger=INGEST)
    for _ in range(50):
        ingestor.accept_mqtt(*stranger.event(EventCode.ALARM_BUTTON), received_ms=1)
    for _ in range(3):
        ingestor.accept_mqtt(good.event(EventCode.ALARM_BUTTON)[0], b"{not json", received_ms=1)
    ingestor.report_rejects()  # within the period: nothing yet, and never a line per message
    assert _lines(caplog, INGEST) == []

    ingestor.reject_report_s = 0  # the period is over
    ingestor.report_rejects()
    ((level, line),) = _lines(caplog, INGEST)
    assert level == logging.WARNING  # not only elevators waiting for their registration
    assert line.startswith("rejected 53 messages in the last ")
    assert line.endswith("kept as dead letters: unknown_elevator=50 bad_json=3")

    caplog.clear()
    ingestor.report_rejects()  # nothing rejected since: no line
    assert _lines(caplog, INGEST) == []
    ingestor.accept_mqtt(*stranger.event(EventCode.ALARM_BUTTON), received_ms=1)
    ingestor.report_rejects()
    ((level, line),) = _lines(caplog, INGEST)
    assert level == logging.INFO and line.endswith(": unknown_elevator=1")  # replayed once registered


def test_a_restarted_partition_logs_its_checkpoint_resume_and_replay(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed(session, clock)
    bus = InProcessBus()
    caplog.set_level(logging.INFO, logger=WORKER)
    terminal = Terminal(CODE, clock)

    async def first_run() -> None:
        ingestor = Ingestor(bus, 1, KnownElevators([CODE]))
        worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600)
        await worker.start()
        for _ in range(3):
            ingestor.accept_mqtt(*terminal.status(), received_ms=1)
            await ingestor.flush()
        await worker.step(timeout=0.1)
        await worker.checkpoint()
        ingestor.accept_mqtt(*terminal.status(), received_ms=1)
        await ingestor.flush()
        await worker.step(timeout=0.1)
        await worker.checkpoint()  # within the minute: at debug only
        for _ in range(2):  # on the stream, not yet read: the restart replays them
            ingestor.accept_mqtt(*terminal.status(), received_ms=1)
            await ingestor.flush()

    async def restart() -> None:
        worker = PartitionWorker(0, bus, session_factory, clock, checkpoint_s=3600)
        await worker.start()
        await worker.step(timeout=0.1)
        await worker.step(timeout=0.1)  # caught up already: said once

    asyncio.run(first_run())
    assert [m for _, m in _lines(caplog, WORKER)] == [
        "detector partition 0: no checkpoint: reading the stream from its start; 0 messages to replay",
        "detector partition 0: checkpoint saved at stream seq 3 (1 saved since the last line; "
        "0 messages not yet acknowledged)",
    ]
    caplog.clear()
    asyncio.run(restart())
    assert [m for _, m in _lines(caplog, WORKER)] == [
        "detector partition 0: resuming after its checkpoint at stream seq 4; 2 messages to replay",
        f"detector partition 0: replay done, caught up at stream seq 6: 2 messages in {_seconds(caplog)} s",
    ]


def _seconds(caplog: pytest.LogCaptureFixture) -> str:
    """The duration in the replay line (the wall clock's, not the test's)."""
    line = [r.getMessage() for r in caplog.records if "replay done" in r.getMessage()]
    return line[0].rsplit(" in ", 1)[1].removesuffix(" s") if line else "?"
