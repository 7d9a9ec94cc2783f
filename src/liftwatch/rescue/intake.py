"""The rescue worker: turns entrapment and alarm-button faults from the durable FAULTS stream into
incidents (idempotent on fault_id, so a redelivered fault changes nothing), and fires due deadlines.

A fault is acknowledged only after its incident is committed. When the database fails, the fetched batch
is kept and tried again (with backoff) before anything newer is fetched; only a fault that can never
become an incident (the elevator is not in the registry: a domain error) is logged and passed over."""

from __future__ import annotations

import asyncio
import logging
import time

import msgspec
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.bus import Bus, BusMessage, Consumer, Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.errors import DomainError
from liftwatch.rescue import service
from liftwatch.rescue.domain import Source
from liftwatch.rescue.notify import Notifier
from liftwatch.telemetry.records import FaultType, Topology, decode_fault

log = logging.getLogger(__name__)

DETECTOR = Actor("detector", Role.ADMIN)
SOURCES = {FaultType.ENTRAPMENT: Source.IOT, FaultType.ALARM_BUTTON: Source.ALARM_BUTTON}


class RescueWorker:
    def __init__(
        self,
        bus: Bus,
        session_factory: sessionmaker[Session],
        clock: Clock,
        notifier: Notifier,
        topology: Topology,
        settings: service.RescueSettings | None = None,
        timer_every_s: float = 2.0,
    ) -> None:
        self.bus = bus
        self.session_factory = session_factory
        self.clock = clock
        self.notifier = notifier
        self.topology = topology
        self.settings = settings or service.RescueSettings()
        self.timer_every_s = timer_every_s
        self._consumer: Consumer | None = None
        self._next_timers = 0.0
        self.incidents_opened = 0
        self.passed_over = 0  # faults that can never become incidents (logged)
        self._warm_up: asyncio.Task[None] | None = None
        self._held: list[BusMessage] = []  # fetched, not yet settled: tried again before fetching more
        self.health = Health("rescue worker")

    async def start(self) -> None:
        # Load the compiled surge search now, in the background, so the first surge plan (a power cut)
        # does not wait for it; the worker takes faults meanwhile.
        self._warm_up = asyncio.create_task(asyncio.to_thread(self._load_surge))
        topo = self.topology
        await self.bus.ensure_stream(topo.faults_stream, [topo.faults_subjects], max_age_s=7 * 86_400)
        self._consumer = await self.bus.consumer(topo.faults_stream, "rescue-intake", topo.faults_subjects)

    async def step(self, timeout: float = 0.5) -> int:
        assert self._consumer is not None, "start() first"
        if self._held:  # the last step could not open its incidents: those come first
            batch = self._held
        else:
            batch = await self._consumer.fetch(100, timeout=timeout)
            self._held = batch
        reports = []
        for m in batch:
            try:
                change = decode_fault(m.data)
            except msgspec.DecodeError as exc:
                self.passed_over += 1
                log.error(
                    "rescue intake: undecodable fault change at seq %d (%s): %r", m.seq, exc, m.data[:200]
                )
                continue
            source = SOURCES.get(change.fault_type)
            if source is not None and change.raised:
                reports.append((change.registration_code, source, change.fault_id))
        if reports:
            await asyncio.to_thread(self._open, reports)  # raises on a database error: nothing acked
            await asyncio.to_thread(self._surge)
        if batch:
            await self._consumer.ack_upto(batch[-1])  # after the incidents are committed
        self._held = []
        if time.monotonic() >= self._next_timers:
            await asyncio.to_thread(self._fire)
            self._next_timers = time.monotonic() + self.timer_every_s
        return len(batch)

    def _open(self, reports: list[tuple[str, Source, str]]) -> None:
        """Open or join an incident for each report, committing each. Idempotent on fault_id, so after a
        failure the whole list is tried again and what was committed changes nothing."""
        notices: list[service.Notice] = []
        try:
            for code, source, fault_id in reports:
                with self.session_factory() as session:
                    try:
                        out = service.report(
                            session,
                            DETECTOR,
                            code,
                            source,
                            self.clock,
                            fault_id=fault_id,
                            settings=self.settings,
                        )
                        session.commit()
                    except DomainError as exc:  # never an incident (e.g. not in the registry)
                        session.rollback()
                        self.passed_over += 1
                        log.error("rescue intake: no incident for %s (%s): %s", code, fault_id, exc)
                        continue
                    except Exception:
                        session.rollback()
                        log.error("rescue intake: could not open an incident for %s (%s)", code, fault_id)
                        raise
                if out.created:
                    self.incidents_opened += 1
                notices += out.notices
        finally:
            self.notifier.send(notices)

    @staticmethod
    def _load_surge() -> None:
        started = time.monotonic()
        try:
            from liftwatch.rescue import surge

            surge.warm_up()
        except Exception:  # a surge plan will try again (and say why) when it is needed
            log.exception("rescue worker: could not load the surge planner")
            return
        log.info("rescue worker: surge planner loaded in %.1f s", time.monotonic() - started)

    def _surge(self) -> None:
        """Many open incidents at once (a power cut): plan them all together. A failure here must not stop
        the worker: the incidents keep their one-by-one dispatch and deadlines still fire."""
        try:
            with self.session_factory() as session:
                notices = service.replan_surge(session, self.clock, self.settings)
                session.commit()
        except Exception:
            log.exception("rescue worker: surge planning failed; incidents keep their one-by-one dispatch")
            return
        self.notifier.send(notices)

    def _fire(self) -> None:
        with self.session_factory() as session:
            notices = service.fire_due_timers(session, self.clock, self.settings)
            session.commit()
        self.notifier.send(notices)

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(self.step, stop, "rescue worker", self.health)
