"""Durable work order deadlines across real processes on PostgreSQL: the process that opened a work order
(and with it its SLA deadline) is killed; a maintenance worker started afterwards, another OS process with
no state of its own, marks the order overdue at that deadline, once, and delivers its notices."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from liftwatch.core.clock import SystemClock, as_utc
from liftwatch.core.migrate import upgrade
from liftwatch.maintenance.models import MaintenanceNotice, WorkOrder, WorkOrderEvent
from tests.conftest import NATS_URL, fresh_pg_database, new_stream_namespace, require_service
from tests.factories import seed
from tests.waiting import wait_until

pytestmark = [pytest.mark.nats, pytest.mark.postgres]
CODE = "11SHA000001"
SLA_H = 0.0005  # 1.8 s
OPEN_AND_HANG = textwrap.dedent(
    f"""
    import sys, time
    from liftwatch.accounts.actor import Actor, Role
    from liftwatch.core.clock import SystemClock
    from liftwatch.core.config import Settings
    from liftwatch.core.db import make_engine, make_session_factory
    from liftwatch.maintenance import service
    from liftwatch.maintenance.workflow import WorkOrderSource

    factory = make_session_factory(make_engine(sys.argv[1]))
    with factory() as session:
        out = service.open_corrective(
            session, Actor("op", Role.RESCUE_OPERATOR), "{CODE}", WorkOrderSource.FAULT, "F-1", "门锁故障",
            SystemClock(), Settings(),
        )
        session.commit()
        print(out.work_order.id, flush=True)
    time.sleep(600)  # alive, holding nothing, until it is killed
    """
)


def test_a_work_order_deadline_set_by_a_killed_process_fires_in_a_new_one(tmp_path: Path) -> None:
    require_service("NATS", NATS_URL)
    with fresh_pg_database("liftwatch_mrestart") as url:
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            seed(session, SystemClock())
            session.commit()
        env = {
            **os.environ,
            "LIFTWATCH_DATABASE_URL": url,
            "LIFTWATCH_BUS_URL": NATS_URL,
            "LIFTWATCH_STREAM_NAMESPACE": new_stream_namespace("mrestart"),
            "LIFTWATCH_VAR_DIR": str(tmp_path),
            "LIFTWATCH_SECRET_KEY": "s" * 48,
            "LIFTWATCH_MAINTENANCE_CORRECTIVE_SLA_H": str(SLA_H),
            "LIFTWATCH_MAINTENANCE_ESCALATION_H": "0",
        }
        opener = subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_HANG, url], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert opener.stdout is not None
            order_id = int(opener.stdout.readline())
        finally:
            opener.send_signal(signal.SIGKILL)  # the process that set the deadline is gone
            opener.wait(10)
        with Session(engine) as session:
            order = session.get(WorkOrder, order_id)
            assert order is not None and order.overdue_at is None
            due = as_utc(order.due_at)
            assert due == as_utc(order.created_at) + timedelta(hours=SLA_H)

        worker = subprocess.Popen(
            [sys.executable, "-m", "liftwatch.cli", "worker", "--role", "maintenance", "--metrics-port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

        def fired_and_told() -> bool:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            with Session(engine) as session:
                order = session.get(WorkOrder, order_id)
                assert order is not None
                pending = session.scalars(
                    select(MaintenanceNotice.id).where(MaintenanceNotice.delivered_at.is_(None))
                ).all()
                return order.escalated_at is not None and not pending

        try:
            wait_until(fired_and_told, timeout=30, what="overdue, escalated and told by the new process")
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                _, err = worker.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                err = ""
        assert worker.returncode == 0, err[-2000:]
        with Session(engine) as session:
            order = session.get(WorkOrder, order_id)
            assert order is not None and order.overdue_at is not None
            assert as_utc(order.overdue_at) == due  # at the deadline, not when the worker got to it
            kinds = session.scalars(
                select(WorkOrderEvent.kind).where(WorkOrderEvent.work_order_id == order_id)
            ).all()
            assert kinds.count("overdue") == 1 and kinds.count("escalated") == 1  # once each
            notices = session.scalars(select(MaintenanceNotice).order_by(MaintenanceNotice.id)).all()
            assert sorted((n.kind, n.recipient) for n in notices) == [
                ("escalated", "regulator"),
                ("overdue", "MU-A"),
                ("overdue", "UU-A"),
            ]
            assert all(n.delivered_at is not None for n in notices)
        assert "maintenance overdue: work order" in err  # the log sink
        engine.dispose()
