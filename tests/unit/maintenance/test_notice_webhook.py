"""Maintenance notices by webhook (core/notify.py, as rescue's), against a real HTTP receiver on a
controlled clock: each notice arrives once under its key, a refused attempt is retried when its backoff is
over, and a notice stays pending (never dropped) while the receiver is down. SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.metrics import Metrics
from liftwatch.maintenance import service
from liftwatch.maintenance.models import MaintenanceNotice
from liftwatch.maintenance.worker import MaintenanceWorker, notice_payload
from liftwatch.maintenance.workflow import WorkOrderSource
from tests.unit.maintenance.test_worker import _sample
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.webhook import WebhookReceiver


def _settings(url: str) -> Settings:
    return Settings(
        maintenance_corrective_sla_h=24,
        maintenance_escalation_h=24,
        maintenance_webhook_url=url,
        maintenance_notice_retry_s=5,
        maintenance_notice_retry_max_s=12,
    )


def _overdue(
    session: Session, clock: FixedClock, people: dict[str, Actor], worker: MaintenanceWorker
) -> None:
    """A corrective work order left unsigned past its SLA: two notices (the maintenance and the use unit)."""
    service.open_corrective(
        session,
        people["admin"],
        "11SHA000001",
        WorkOrderSource.FAULT,
        "F-1",
        "门锁故障",
        clock,
        worker.settings,
    )
    session.commit()
    clock.advance(timedelta(hours=24))
    assert worker.fire() == 2


def _rows(session_factory: sessionmaker[Session]) -> list[MaintenanceNotice]:
    with session_factory() as s:
        rows = list(s.scalars(select(MaintenanceNotice).order_by(MaintenanceNotice.id)))
        s.expunge_all()
        return rows


def test_each_notice_arrives_once_under_its_key(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with WebhookReceiver() as hook:
        worker = MaintenanceWorker(session_factory, clock, _settings(hook.url), Metrics())
        _overdue(session, clock, people, worker)
        with caplog.at_level(logging.INFO, logger="liftwatch.maintenance.worker"):
            assert worker.deliver_due() == 2
            assert worker.deliver_due() == 0  # delivered rows are not sent again
    rows = _rows(session_factory)
    assert hook.keys() == {rows[0].key: 1, rows[1].key: 1}
    assert [key for key, _ in hook.posts] == [r.key for r in rows]  # the header is the notice's key
    assert hook.bodies() == [notice_payload(r) for r in rows]
    assert {b["recipient"] for b in hook.bodies()} == {"MU-A", "UU-A"}
    assert all(r.delivered_at == clock.now() and r.attempts == 0 for r in rows)
    told = [r.getMessage() for r in caplog.records if r.getMessage().startswith("maintenance overdue")]
    assert len(told) == 2  # the log as before


def test_a_refused_notice_is_delivered_on_its_retry(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
) -> None:
    with WebhookReceiver() as hook:
        metrics = Metrics()
        worker = MaintenanceWorker(session_factory, clock, _settings(hook.url), metrics)
        _overdue(session, clock, people, worker)
        hook.refuse = 1  # a 5xx, then 2xx
        assert worker.deliver_due() == 0  # the first fails, and the round stops there
        first = _rows(session_factory)[0]
        assert (first.attempts, first.delivered_at) == (1, None) and "503" in first.last_error
        assert first.next_attempt_at == clock.now() + timedelta(seconds=5)
        assert worker.deliver_due() == 1  # the other one; the first waits for its retry
        assert hook.keys() == {_rows(session_factory)[1].key: 1}
        clock.advance(timedelta(seconds=5))
        assert worker.deliver_due() == 1
    rows = _rows(session_factory)
    assert hook.keys() == {rows[0].key: 1, rows[1].key: 1}
    assert (rows[0].attempts, rows[0].delivered_at) == (1, clock.now())
    assert _sample(metrics, "liftwatch_maintenance_notice_failures_total") == 1
    assert _sample(metrics, "liftwatch_maintenance_notices_delivered_total") == 2
    assert _sample(metrics, "liftwatch_maintenance_notices_pending") == 0


def test_notices_stay_pending_while_the_receiver_is_down(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with WebhookReceiver() as gone:
        down = gone.url
    metrics = Metrics()
    worker = MaintenanceWorker(session_factory, clock, _settings(down), metrics)
    _overdue(session, clock, people, worker)
    waits = []
    with caplog.at_level(logging.WARNING, logger="liftwatch.maintenance.worker"):
        for attempt in range(1, 4):
            assert worker.deliver_due() == 0 and worker.deliver_due() == 0  # one failure each
            assert worker.deliver_due() == 0  # neither is due again yet
            rows = _rows(session_factory)
            assert [(r.attempts, r.delivered_at) for r in rows] == [(attempt, None)] * 2
            assert "unreachable" in rows[0].last_error
            next_at = rows[0].next_attempt_at
            assert next_at is not None
            waits.append((next_at - clock.now()).total_seconds())
            clock.advance(next_at - clock.now())
    assert waits == [5, 10, 12]  # doubling, capped
    assert len([r for r in caplog.records if "not delivered, attempt" in r.getMessage()]) == 6
    assert _sample(metrics, "liftwatch_maintenance_notice_failures_total") == 6
    assert _sample(metrics, "liftwatch_maintenance_notices_pending") == 2
    # the receiver is back (a worker restarted with its address): both go, once each, under their keys
    with WebhookReceiver() as hook:
        assert MaintenanceWorker(session_factory, clock, _settings(hook.url)).deliver_due() == 2
    assert hook.keys() == {r.key: 1 for r in rows}
