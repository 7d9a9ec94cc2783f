"""The maintenance worker's steps on a controlled clock: due deadlines fire once, their notices reach the
log once and are marked delivered, the plan job runs at start, metrics count it all; its loops run and
stop with the process. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core import outbox
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.metrics import Metrics
from liftwatch.maintenance import service
from liftwatch.maintenance.models import MaintenanceNotice
from liftwatch.maintenance.worker import MaintenanceWorker
from liftwatch.maintenance.workflow import WorkOrderSource
from liftwatch.workers import ROLES, default_metrics_port
from tests.unit.maintenance.workorder_city import contract, people_fixture  # noqa: F401 - fixture
from tests.waiting import until

SETTINGS = Settings(maintenance_corrective_sla_h=24, maintenance_escalation_h=24)


def _sample(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.registry.get_sample_value(name, labels or {}) or 0.0


def test_a_due_deadline_fires_once_and_its_notices_are_delivered_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = service.open_corrective(
        session, people["admin"], "11SHA000001", WorkOrderSource.FAULT, "F-1", "门锁故障", clock, SETTINGS
    )
    session.commit()
    metrics = Metrics()
    worker = MaintenanceWorker(session_factory, clock, SETTINGS, metrics)
    assert worker.fire() == 0 and worker.deliver_due() == 0
    clock.advance(timedelta(hours=24))  # the SLA deadline, to the second
    assert worker.fire() == 2  # overdue: the maintenance unit and the use unit
    assert worker.fire() == 0
    with caplog.at_level(logging.INFO, logger="liftwatch.maintenance.worker"):
        assert worker.deliver_due() == 2
    told = [r.getMessage() for r in caplog.records if r.getMessage().startswith("maintenance overdue")]
    assert len(told) == 2 and any("MU-A" in m for m in told) and any("UU-A" in m for m in told)
    assert worker.deliver_due() == 0
    assert outbox.pending(session, MaintenanceNotice) == []
    clock.advance(timedelta(hours=24))  # still not signed: the regulator
    assert worker.fire() == 1 and worker.deliver_due() == 1
    order = service.get_work_order(session, people["admin"], out.work_order.id)
    session.refresh(order)
    assert order.overdue_at is not None and order.escalated_at is not None
    assert _sample(metrics, "liftwatch_maintenance_timers_fired_total", {"kind": "overdue"}) == 2
    assert _sample(metrics, "liftwatch_maintenance_timers_fired_total", {"kind": "escalated"}) == 1
    assert _sample(metrics, "liftwatch_maintenance_notices_delivered_total") == 3
    assert _sample(metrics, "liftwatch_maintenance_notices_pending") == 0


def test_the_loops_plan_fire_and_deliver_and_stop(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
) -> None:
    service.create_contract(session, people["admin"], contract(start=date(2026, 10, 1)), clock)
    service.open_corrective(
        session, people["admin"], "11SHA000001", WorkOrderSource.FAULT, "F-1", "门锁故障", clock, SETTINGS
    )
    session.commit()
    clock.advance(timedelta(hours=25))
    metrics = Metrics()
    worker = MaintenanceWorker(session_factory, clock, SETTINGS, metrics, timer_every_s=0.05, plan_delay_s=0)

    async def main() -> None:
        await worker.start()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await until(lambda: worker.delivered >= 2, timeout=10, what="the overdue notices delivered")
        assert worker.health.ready and worker.outbox_health.ready
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(main())
    assert (
        _sample(metrics, "liftwatch_maintenance_orders_planned_total") == 1
    )  # the plan job ran (no delay here)
    assert worker.timers_fired == 2


def test_the_maintenance_role_has_its_own_metrics_port() -> None:
    assert "maintenance" in ROLES
    assert default_metrics_port(frozenset({"maintenance"}), None) == 9120
    assert default_metrics_port(frozenset({"rescue", "maintenance"}), None) == 9110
    assert default_metrics_port(ROLES, None) == 9108
