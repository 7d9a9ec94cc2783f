"""Breaking what the alarm path depends on, with the real services: NATS frozen for 12 s under steady
traffic (the ingest loop must survive and lose nothing), NATS killed and restarted, and the incidents table
locked on PostgreSQL while an entrapment arrives (the fault must not be acknowledged without its
incident)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import JetStreamBus
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_session_factory
from liftwatch.rescue.intake import RescueWorker
from liftwatch.rescue.models import Incident
from liftwatch.rescue.service import RescueSettings
from liftwatch.telemetry import records
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.protocol import EventCode
from liftwatch.telemetry.records import Topology
from tests.conftest import NOW
from tests.factories import rescue_city, seed
from tests.integration.nats_server import OwnNats
from tests.unit.telemetry.test_pipeline import CODE, Terminal
from tests.waiting import run_bounded, until

pytestmark = pytest.mark.nats


async def _stream_records(url: str) -> list[Any]:
    bus = JetStreamBus(url)
    await bus.connect()
    try:
        consumer = await bus.consumer(records.STREAM, f"check{time.time_ns()}", f"{records.SUBJECT_PREFIX}.>")
        out: list[Any] = []
        while batch := await consumer.fetch(100, timeout=1):
            out += [r for m in batch for r in records.decode_batch(m.data)]
        return out
    finally:
        await bus.close()


def test_ingestion_survives_nats_frozen_for_12_seconds(own_nats: OwnNats) -> None:
    """300 msg/s for 20 s; NATS is frozen (SIGSTOP) for 12 s in the middle. The old loop died on the first
    failed flush (0 of 150 accepted afterwards); now every message accepted reaches the stream once, the
    acknowledgements of events wait for it, and readiness is false only meanwhile."""
    clock = FixedClock(NOW)
    term = Terminal(CODE, clock)

    async def main() -> tuple[Ingestor, int, bool]:
        bus = JetStreamBus(own_nats.url)
        await bus.connect()
        await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
        ingestor = Ingestor(bus, 2, KnownElevators([CODE]))
        acks = 0

        def ack() -> None:
            nonlocal acks
            acks += 1

        stop = asyncio.Event()
        loop = asyncio.create_task(ingestor.run(stop=stop))
        was_unready = False
        started = time.monotonic()
        sent = 0
        frozen_at: float | None = None
        thawed = False
        while time.monotonic() - started < 20:
            now = time.monotonic()
            if frozen_at is None and now - started >= 4:
                own_nats.freeze()
                frozen_at = now
            if frozen_at is not None and not thawed and now - frozen_at >= 12:
                own_nats.thaw()
                thawed = True
            for _ in range(3):
                clock.advance(timedelta(milliseconds=10))
                if sent % 30 == 0:
                    topic, payload = term.event(EventCode.ALARM_BUTTON)
                    ingestor.accept_mqtt(topic, payload, int(time.time() * 1000))
                    ingestor.after_publish(ack)
                else:
                    topic, payload = term.status(floor=sent % 20)
                    ingestor.accept_mqtt(topic, payload, int(time.time() * 1000))
                sent += 1
            was_unready = was_unready or not ingestor.health.ready
            await asyncio.sleep(0.01)  # the traffic's pace (300 messages a second), not a wait
        await until(lambda: not ingestor.buffered(), 30, lambda: f"{ingestor.buffered()} still buffered")
        stop.set()
        await loop
        assert ingestor.health.ready
        await bus.close()
        return ingestor, acks, was_unready

    ingestor, acks, was_unready = run_bounded(main())
    got = asyncio.run(_stream_records(own_nats.url))
    seqs = [json.loads(raw)["seq"] for _, _, _, raw in got]
    assert was_unready and ingestor.stats.flush_failures >= 1
    assert ingestor.stats.shed == 0
    assert len(seqs) == ingestor.stats.accepted  # nothing lost
    assert len(set(seqs)) == len(seqs)  # nothing doubled
    assert acks == sum(1 for _ in range(0, ingestor.stats.accepted, 30))  # every event acknowledged


def test_ingestion_survives_a_nats_restart(own_nats: OwnNats) -> None:
    """NATS killed and started again (its store on disk): what was accepted meanwhile arrives."""
    clock = FixedClock(NOW)
    term = Terminal(CODE, clock)

    async def main() -> Ingestor:
        bus = JetStreamBus(own_nats.url)
        await bus.connect()
        await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
        ingestor = Ingestor(bus, 1, KnownElevators([CODE]))
        stop = asyncio.Event()
        loop = asyncio.create_task(ingestor.run(stop=stop))
        for i in range(100):
            topic, payload = term.status(floor=i % 20)
            ingestor.accept_mqtt(topic, payload, int(time.time() * 1000))
            if i == 30:
                await asyncio.to_thread(own_nats.kill)
            if i == 60:
                await asyncio.to_thread(own_nats.start)
            await asyncio.sleep(0.02)  # the traffic's pace (50 messages a second), not a wait
        await until(lambda: not ingestor.buffered(), 30, lambda: f"{ingestor.buffered()} still buffered")
        stop.set()
        await loop
        await bus.close()
        return ingestor

    ingestor = run_bounded(main())
    seqs = [json.loads(raw)["seq"] for _, _, _, raw in asyncio.run(_stream_records(own_nats.url))]
    assert sorted(set(seqs)) == list(range(1, 101))
    assert ingestor.buffered() == 0


@pytest.mark.postgres
def test_rescue_does_not_acknowledge_a_fault_whose_incident_failed(
    pg_database_url: str, own_nats: OwnNats
) -> None:
    """The incidents table is locked (lock_timeout 300 ms on the worker) when an entrapment arrives: the
    old worker logged the error and acknowledged the fault, and no incident was ever opened. Now the
    fault stays on the stream and becomes exactly one incident once the lock is gone."""
    from liftwatch.core.db import make_engine
    from tests.conftest import _truncate_all

    engine = make_engine(pg_database_url, connect_args={"options": "-c lock_timeout=300"})
    _truncate_all(engine)
    factory: sessionmaker[Session] = make_session_factory(engine)
    clock = FixedClock(NOW)
    with factory() as s:
        seed(s, clock)
        rescue_city(s, clock)
        s.commit()
    topo = Topology("")
    fault_id = f"{CODE}:entrapment:{int(NOW.timestamp() * 1000)}"
    change = records.encode_fault(
        records.FaultRecord(
            fault_id=fault_id,
            registration_code=CODE,
            fault_type=records.FaultType.ENTRAPMENT,
            raised=True,
            severity=records.Severity.CRITICAL,
            at_ms=1,
            started_ms=1,
        )
    )
    settings = RescueSettings()
    locker = create_engine(pg_database_url)
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        with locker.begin() as conn:
            conn.execute(text("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    async def main() -> RescueWorker:
        bus = JetStreamBus(own_nats.url)
        await bus.connect()
        worker = RescueWorker(bus, factory, clock, topo, settings)
        await worker.start()
        first = await bus.publish(topo.faults_subject("entrapment"), change, msg_id=fault_id)
        # the server says which publish was a copy it dropped: counted, not doubled
        copy = await bus.publish(topo.faults_subject("entrapment"), change, msg_id=fault_id)
        assert first.duplicate is False and copy == (first.seq, True)
        holder = threading.Thread(target=hold_lock)
        holder.start()
        await asyncio.to_thread(locked.wait, 10)
        for _ in range(3):  # each try meets the lock
            with pytest.raises(Exception, match="lock"):
                await worker.step(timeout=1)
        release.set()
        await asyncio.to_thread(holder.join, 10)
        await worker.step(timeout=1)
        # a restarted worker finds nothing left unacknowledged
        again = RescueWorker(bus, factory, clock, topo, settings)
        await again.start()
        assert await again.step(timeout=1) == 0
        await bus.close()
        return worker

    worker = run_bounded(main())
    locker.dispose()
    with factory() as s:
        incidents = s.scalars(select(Incident)).all()
    engine.dispose()
    assert [(i.registration_code, i.fault_id) for i in incidents] == [(CODE, fault_id)]
    assert worker.incidents_opened == 1


def test_a_consumer_that_died_holding_a_message_loses_nothing(own_nats: OwnNats) -> None:
    """A rescue worker fetched a fault and died before acknowledging it. The old consumer resumed on
    the durable as it was: the message came back only after ack_wait (60 s), and acknowledging a newer
    fault meanwhile (AckAll) acknowledged it unseen (found by bench/chaos.py: one alarm of 60 lost)."""
    topo = Topology("")

    async def main() -> list[int]:
        first = JetStreamBus(own_nats.url)
        await first.connect()
        await first.ensure_stream(topo.faults_stream, [topo.faults_subjects])
        consumer = await first.consumer(topo.faults_stream, "rescue-intake", topo.faults_subjects)
        for n in (1, 2):
            await first.publish(topo.faults_subject("entrapment"), f"fault {n}".encode())
        got = await consumer.fetch(10, timeout=1)
        await consumer.ack_upto(got[0])  # fault 1 settled; fault 2 fetched, then the process dies
        await first._nc.close()  # type: ignore[attr-defined]
        second = JetStreamBus(own_nats.url)
        await second.connect()
        await second.publish(topo.faults_subject("entrapment"), b"fault 3")
        resumed = await second.consumer(topo.faults_stream, "rescue-intake", topo.faults_subjects)
        seen = await resumed.fetch(10, timeout=1)
        await resumed.ack_upto(seen[-1])
        await second.close()
        return [m.seq for m in seen]

    assert run_bounded(main()) == [2, 3]
