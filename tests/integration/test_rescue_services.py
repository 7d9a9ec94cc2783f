"""Through the real NATS JetStream: the same entrapment reported by the terminal (a fault on the durable
FAULTS stream, delivered twice) and by three phone calls at the same moment gives exactly one incident."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import Settings
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.rescue.models import Incident, IncidentEvent
from liftwatch.telemetry.records import Topology
from liftwatch.workers import Pipeline
from tests.conftest import NATS_URL, new_stream_namespace, require_service
from tests.factories import seed
from tests.waiting import run_bounded, until

pytestmark = pytest.mark.nats
CODE = "11SHB000004"


def test_terminal_and_three_calls_at_once_give_one_incident(
    session: Session, session_factory: sessionmaker[Session], clock: Any, tmp_path: Path
) -> None:
    require_service("NATS", NATS_URL)
    seed(session, clock)
    session.close()
    ns = new_stream_namespace("r")
    topo = Topology(ns)
    settings = Settings(var_dir=tmp_path, secret_key="s" * 48, bus_url=NATS_URL, stream_namespace=ns)
    fault_id = f"{CODE}:entrapment:{int(time.time() * 1000)}"
    change = msgspec.json.encode(
        {"fault_id": fault_id, "registration_code": CODE, "fault_type": "entrapment", "raised": True,
         "severity": "critical", "at_ms": 1, "started_ms": 1, "evidence": []}
    )  # fmt: skip
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def phone_call(n: int) -> None:
        try:
            with session_factory() as s:
                barrier.wait(10)
                call = rescue.Report(CODE, Source.PHONE)
                rescue.report(
                    s, Actor(f"op{n}", Role.RESCUE_OPERATOR), call, SystemClock(), rescue.RescueSettings()
                )
                s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    async def main() -> None:
        pipeline = Pipeline(settings, session_factory, SystemClock(), roles=frozenset({"rescue"}))
        await pipeline.start()
        try:
            threads = [threading.Thread(target=phone_call, args=(n,)) for n in range(3)]
            for t in threads:
                t.start()
            await asyncio.to_thread(barrier.wait, 10)
            # the terminal's fault, twice (a redelivery after JetStream's duplicate window)
            await pipeline.bus.publish(topo.faults_subject("entrapment"), change, msg_id="a")  # type: ignore[union-attr]
            await pipeline.bus.publish(topo.faults_subject("entrapment"), change, msg_id="b")  # type: ignore[union-attr]
            for t in threads:
                await asyncio.to_thread(t.join, 20)
            bus = pipeline.bus
            assert bus is not None

            async def both_deliveries_taken() -> bool:  # the intake acknowledges after it commits
                return await bus.backlog(topo.faults_stream, consumer_prefix="rescue-intake") == 0

            await until(both_deliveries_taken, what="the rescue intake takes both deliveries of the fault")
        finally:
            await pipeline.stop()

    run_bounded(main())
    assert not errors, errors
    with session_factory() as s:
        incidents = s.scalars(select(Incident)).all()
        assert len(incidents) == 1
        inc = incidents[0]
        assert inc.registration_code == CODE and inc.fault_id == fault_id
        kinds = [k for (k,) in s.execute(select(IncidentEvent.kind).order_by(IncidentEvent.id))]
        assert kinds.count("raised") == 1
        assert kinds.count("joined") == 3  # four reports, one incident; the redelivered fault adds nothing
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
