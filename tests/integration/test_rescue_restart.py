"""Durable deadlines across real processes on PostgreSQL: the process that opened an incident (and with it
the acknowledgement deadline) is killed; a rescue worker started afterwards, another OS process with no
state of its own, escalates the incident to L2 at that deadline, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from liftwatch.core.clock import SystemClock, as_utc
from liftwatch.core.migrate import upgrade
from liftwatch.rescue.models import Incident, IncidentEvent, RescueTimer
from tests.conftest import NATS_URL, fresh_pg_database, new_stream_namespace, require_service
from tests.factories import rescue_city, seed

pytestmark = [pytest.mark.nats, pytest.mark.postgres]
CODE = "11SHA000001"
ACK_LIMIT_S = 4
OPEN_AND_HANG = textwrap.dedent(
    f"""
    import sys, time
    from liftwatch.accounts.actor import Actor, Role
    from liftwatch.core.clock import SystemClock
    from liftwatch.core.db import make_engine, make_session_factory
    from liftwatch.rescue import service
    from liftwatch.rescue.domain import Source

    factory = make_session_factory(make_engine(sys.argv[1]))
    with factory() as session:
        out = service.report(
            session, Actor("op", Role.RESCUE_OPERATOR), service.Report("{CODE}", Source.PHONE), SystemClock(),
            service.RescueSettings(),
        )
        session.commit()
        print(out.incident.id, flush=True)
    time.sleep(600)  # alive, holding nothing, until it is killed
    """
)


def test_a_deadline_set_by_a_killed_process_fires_in_a_new_one(tmp_path: Path) -> None:
    require_service("NATS", NATS_URL)
    with fresh_pg_database("liftwatch_restart") as url:
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            clock = SystemClock()
            seed(session, clock)
            rescue_city(session, clock, CODE)
            session.commit()
        env = {
            **os.environ,
            "LIFTWATCH_DATABASE_URL": url,
            "LIFTWATCH_BUS_URL": NATS_URL,
            "LIFTWATCH_STREAM_NAMESPACE": new_stream_namespace("restart"),
            "LIFTWATCH_VAR_DIR": str(tmp_path),
            "LIFTWATCH_SECRET_KEY": "s" * 48,
            "LIFTWATCH_RESCUE_ACK_LIMIT_S": str(ACK_LIMIT_S),
        }
        opener = subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_HANG, url], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert opener.stdout is not None
            incident_id = int(opener.stdout.readline())
        finally:
            opener.send_signal(signal.SIGKILL)  # the process that set the deadline is gone
            opener.wait(10)
        with Session(engine) as session:
            inc = session.get(Incident, incident_id)
            assert inc is not None and inc.level == "L1" and inc.dispatched_at is not None
            due = as_utc(inc.dispatched_at) + timedelta(seconds=ACK_LIMIT_S)
            kinds = session.scalars(
                select(RescueTimer.kind).where(
                    RescueTimer.incident_id == incident_id, RescueTimer.fired_at.is_(None)
                )
            ).all()
            assert "ack" in kinds

        worker = subprocess.Popen(
            [sys.executable, "-m", "liftwatch.cli", "worker", "--role", "rescue", "--metrics-port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            level = "L1"
            while time.monotonic() < deadline and level == "L1":
                assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
                with Session(engine) as session:
                    inc = session.get(Incident, incident_id)
                    assert inc is not None
                    level = inc.level
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        with Session(engine) as session:
            inc = session.get(Incident, incident_id)
            assert inc is not None
            assert inc.level == "L2", "the new process did not escalate in 30 s"
            assert inc.escalated_l2_at is not None and as_utc(inc.escalated_l2_at) == due  # at the deadline
            escalations = session.scalars(
                select(IncidentEvent).where(
                    IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "escalated"
                )
            ).all()
            assert len(escalations) == 1  # once
            fired = session.scalars(  # the L1 acknowledgement deadline (L2 got its own)
                select(RescueTimer)
                .where(RescueTimer.incident_id == incident_id, RescueTimer.kind == "ack")
                .order_by(RescueTimer.id)
            ).first()
            assert fired is not None
            assert fired.fired_at is not None and as_utc(fired.fired_at) >= due  # fired, and not early
            assert (inc.crew_id, inc.responder_unit) == ("RS1", "RS-1")  # L2: the rescue station
        engine.dispose()
