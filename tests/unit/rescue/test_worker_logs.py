"""What the rescue worker logs for an operator (docs/OPERATIONS.md, "Logs"): its settings at start with the
webhook's token masked, every incident it opens (once, however often the fault comes again), every
escalation a deadline fires, every notice once and each webhook delivery."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import InProcessBus
from liftwatch.core.clock import FixedClock
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.rescue.intake import RescueWorker
from liftwatch.telemetry.records import Topology
from tests.webhook import WebhookReceiver

CODE = "11SHA000001"


def _messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[tuple[int, str]]:
    """The lines of one logger (the surge planner's warm-up thread may log meanwhile: not counted)."""
    return [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name == logger and "surge planner" not in r.getMessage()
    ]


def test_the_rescue_worker_logs_settings_incidents_escalations_and_notices(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    city: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="liftwatch.rescue")
    with WebhookReceiver() as hook:
        settings = rescue.RescueSettings(webhook_url=f"{hook.url}?token=hook-secret-1", ack_limit_s=300)
        worker = RescueWorker(InProcessBus(), session_factory, clock, Topology(""), settings)

        asyncio.run(worker.start())
        (start,) = [r for r in caplog.records if r.getMessage() == "rescue worker: starting"]
        assert start.rescue["webhook_url"] == f"{hook.url}?token=***"  # type: ignore[attr-defined]
        assert start.rescue["ack_limit_s"] == 300  # type: ignore[attr-defined]
        assert "hook-secret-1" not in caplog.text

        caplog.clear()
        report = rescue.Report(CODE, Source.IOT, fault_id="fault-1")
        worker._open([report])
        worker._open([report])  # the same fault again: the same incident, no second line
        opened = [m for _, m in _messages(caplog, "liftwatch.rescue.intake")]
        assert len(opened) == 1
        assert opened[0].startswith("rescue intake: incident ")
        assert opened[0].endswith(f" opened for {CODE} (iot, fault fault-1)")
        incident_id = int(opened[0].split()[3])

        caplog.clear()
        clock.advance(timedelta(seconds=301))  # nobody acknowledged in time
        assert worker._fire()
        fired = _messages(caplog, "liftwatch.rescue.intake")
        assert fired == [
            (
                logging.WARNING,
                f"rescue deadline fired: incident {incident_id} ({CODE}) escalated to L2: no_acknowledgement",
            )
        ]

        caplog.clear()
        delivered = worker.outbox.deliver_due()
        assert delivered >= 3  # raised, dispatched, escalated (and the new dispatch)
        notices = [m for _, m in _messages(caplog, "liftwatch.rescue")]
        deliveries = [m for _, m in _messages(caplog, "liftwatch.rescue.outbox")]
        assert len(notices) == delivered and len(deliveries) == delivered
        assert any(m.startswith(f"rescue escalated: incident {incident_id} L2 {CODE}") for m in notices)
        assert all(m.endswith("delivered to the webhook") for m in deliveries)
        assert worker.outbox.deliver_due() == 0
        assert len(_messages(caplog, "liftwatch.rescue")) == delivered  # each notice told once
