"""The hazard worker's steps on a controlled clock: a due escalation step fires once, its notice reaches
the log once and is marked delivered; its loop runs and stops with the process."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core import outbox
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service
from liftwatch.hazards.models import HazardNotice
from liftwatch.hazards.worker import HazardWorker, notice_payload
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.waiting import until
from tests.webhook import WebhookReceiver

SETTINGS = Settings(timezone="Asia/Shanghai")


def test_a_due_step_fires_once_and_its_notice_is_logged_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service.report(
        session, people["inspector"], "11SHA000001", HazardSource.COMPLAINT, "12345-1", HazardLevel.GENERAL,
        "轿厢异响", clock, SETTINGS,
    )  # fmt: skip
    session.commit()
    worker = HazardWorker(session_factory, clock, SETTINGS)
    assert worker.fire() == 0 and worker.deliver_due() == 0
    clock.advance(datetime(2026, 12, 23, 16, 0, tzinfo=UTC) - clock.now())  # the deadline
    assert worker.fire() == 1
    assert worker.fire() == 0
    with caplog.at_level(logging.INFO, logger="liftwatch.hazards.worker"):
        assert worker.deliver_due() == 1
    told = [r.getMessage() for r in caplog.records if r.getMessage().startswith("hazard overdue")]
    assert len(told) == 1 and "UU-A" in told[0]
    assert worker.deliver_due() == 0
    assert outbox.pending(session, HazardNotice) == []


def test_with_a_webhook_each_notice_arrives_once_under_its_key(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    """LIFTWATCH_HAZARD_WEBHOOK_URL: the notices go to the receiver too (core/outbox.py's loop, as
    maintenance's); a refused one is kept and sent on its retry (the maintenance notices' backoff)."""
    service.report(
        session, people["inspector"], "11SHA000001", HazardSource.COMPLAINT, "12345-1", HazardLevel.MAJOR,
        "轿厢异响", clock, SETTINGS,
    )  # fmt: skip
    session.commit()
    clock.advance(datetime(2026, 12, 8, 16, 0, tzinfo=UTC) - clock.now())  # a major one's deadline
    with WebhookReceiver() as hook:
        settings = Settings(
            timezone="Asia/Shanghai", hazard_webhook_url=hook.url, maintenance_notice_retry_s=5
        )
        worker = HazardWorker(session_factory, clock, settings)
        notices = worker.fire()
        hook.refuse = 1
        assert notices >= 2 and worker.deliver_due() == 0  # refused: kept, and the round stops
        assert worker.deliver_due() == notices - 1
        clock.advance(timedelta(seconds=5))
        assert worker.deliver_due() == 1 and worker.deliver_due() == 0
        with session_factory() as s:
            rows = list(s.scalars(select(HazardNotice).order_by(HazardNotice.id)))
            assert outbox.pending(s, HazardNotice) == []
        assert hook.keys() == {r.key: 1 for r in rows}
        assert sorted(hook.bodies(), key=lambda b: b["idempotency_key"]) == sorted(
            (notice_payload(r) for r in rows), key=lambda b: b["idempotency_key"]
        )
        assert (rows[0].attempts, rows[0].delivered_at) == (1, clock.now())  # on its retry
        assert all(r.delivered_at == clock.now() - timedelta(seconds=5) for r in rows[1:])


def test_the_loop_runs_and_stops(session_factory: sessionmaker[Session], clock: FixedClock) -> None:
    worker = HazardWorker(session_factory, clock, SETTINGS, timer_every_s=0.01)

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await until(lambda: worker.health.report()["steps"] >= 2, timeout=5, what="two steps of the loop")
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(go())
