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
from liftwatch.core.bus import Bus, BusMessage, Consumer, Health, run_steps, run_together
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import DomainError
from liftwatch.core.logs import mask_secrets
from liftwatch.core.metrics import Metrics
from liftwatch.rescue import service
from liftwatch.rescue.domain import Source
from liftwatch.rescue.outbox import Outbox
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
        topology: Topology,
        settings: service.RescueSettings,
        metrics: Metrics | None = None,
        timer_every_s: float = 2.0,
        outbox_every_s: float = 1.0,
    ) -> None:
        self.bus = bus
        self.session_factory = session_factory
        self.clock = clock
        self.topology = topology
        self.settings = settings
        self.timer_every_s = timer_every_s
        self.outbox_every_s = outbox_every_s
        self.metrics = metrics
        self.outbox = Outbox(session_factory, clock, settings, metrics)
        self._consumer: Consumer | None = None
        self._next_timers = 0.0
        self.incidents_opened = 0
        self.passed_over = 0  # faults that can never become incidents (logged)
        self._warm_up: asyncio.Task[None] | None = None
        self._held: list[BusMessage] = []  # fetched, not yet settled: tried again before fetching more
        self._wrote_notices = asyncio.Event()  # wakes the outbox loop after this worker's own changes
        self.health = Health("rescue worker")
        self.outbox_health = Health("notice outbox")

    @classmethod
    def from_settings(
        cls,
        bus: Bus,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        topology: Topology,
        metrics: Metrics | None = None,
    ) -> RescueWorker:
        """The worker as a process runs it: the rescue settings read from the environment once, here."""
        rescue_settings = service.RescueSettings.for_city(settings)
        worker = cls(bus, session_factory, clock, topology, rescue_settings, metrics)
        worker.health.give_up_s = worker.outbox_health.give_up_s = settings.worker_give_up_s
        return worker

    async def start(self) -> None:
        conf = self.settings.model_dump(mode="json")
        conf["webhook_url"] = mask_secrets(self.settings.webhook_url) or "none (notices go to the log only)"
        log.info("rescue worker: starting", extra={"rescue": conf})
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
        changes = {"raised": 0, "cleared": 0}
        for m in batch:
            try:
                change = decode_fault(m.data)
            except msgspec.DecodeError as exc:
                self.passed_over += 1
                if self.metrics is not None:
                    self.metrics.rescue_passed_over.inc()
                log.error(
                    "rescue intake: undecodable fault change at seq %d (%s): %r", m.seq, exc, m.data[:200]
                )
                continue
            changes["raised" if change.raised else "cleared"] += 1
            source = SOURCES.get(change.fault_type)
            if source is not None and change.raised:
                reports.append(service.Report(change.registration_code, source, fault_id=change.fault_id))
        wrote = False
        if reports:
            wrote = await asyncio.to_thread(self._open, reports)  # raises on a database error: nothing acked
            wrote = await asyncio.to_thread(self._surge) or wrote
        if batch:
            await self._consumer.ack_upto(batch[-1])  # after the incidents are committed
            if self.metrics is not None:  # counted once settled (a held batch is tried again)
                for change_kind, n in changes.items():
                    if n:
                        self.metrics.rescue_fault_changes.labels(change_kind).inc(n)
        self._held = []
        if time.monotonic() >= self._next_timers:
            wrote = await asyncio.to_thread(self._fire) or wrote
            self._next_timers = time.monotonic() + self.timer_every_s
        if wrote:
            self._wrote_notices.set()
        return len(batch)

    def _open(self, reports: list[service.Report]) -> bool:
        """Open or join an incident for each report, committing each (its notices with it). Idempotent on
        fault_id, so after a failure the whole list is tried again and what was committed changes nothing.
        True when a notice was written."""
        wrote = False
        for call in reports:
            with self.session_factory() as session:
                try:
                    out = service.report(session, DETECTOR, call, self.clock, self.settings)
                    session.commit()
                except DomainError as exc:  # never an incident (e.g. not in the registry)
                    session.rollback()
                    self.passed_over += 1
                    if self.metrics is not None:
                        self.metrics.rescue_passed_over.inc()
                    log.error("rescue intake: no incident for %s (%s): %s", call.code, call.fault_id, exc)
                    continue
                except Exception:
                    session.rollback()
                    log.error(
                        "rescue intake: could not open an incident for %s (%s)", call.code, call.fault_id
                    )
                    raise
            self._count(out.notices)
            if out.created:
                self.incidents_opened += 1
                if self.metrics is not None:
                    self.metrics.rescue_incidents_opened.labels(call.source.value).inc()
                log.info(
                    "rescue intake: incident %d opened for %s (%s, fault %s)",
                    out.incident.id,
                    call.code,
                    call.source.value,
                    call.fault_id,
                )
            wrote = wrote or bool(out.notices)
        return wrote

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

    def _surge(self) -> bool:
        """Many open incidents at once (a power cut): plan them all together. A failure here must not stop
        the worker: the incidents keep their one-by-one dispatch and deadlines still fire."""
        try:
            with self.session_factory() as session:
                notices = service.replan_surge(session, self.clock, self.settings)
                session.commit()
        except Exception:
            log.exception("rescue worker: surge planning failed; incidents keep their one-by-one dispatch")
            return False
        self._count(notices)
        return bool(notices)

    def _fire(self) -> bool:
        with self.session_factory() as session:
            notices = service.fire_due_timers(session, self.clock, self.settings)
            # crews whose shift started (or freed elsewhere) take incidents waiting for a crew
            notices += service.dispatch_waiting(session, self.clock, self.settings)
            session.commit()
        self._count(notices)
        for n in notices:  # after the commit: what is logged happened (its notice follows via the outbox)
            if n.kind == "escalated":
                log.warning(
                    "rescue deadline fired: incident %d (%s) escalated to %s: %s",
                    n.incident_id,
                    n.registration_code,
                    n.level,
                    n.details.get("reason", ""),
                )
        return bool(notices)

    def _count(self, notices: list[service.Notice]) -> None:
        """What the worker did, committed, by the notice it wrote (dispatched, no_crew, escalated...)."""
        if self.metrics is None:
            return
        for n in notices:
            self.metrics.rescue_actions.labels(n.kind).inc()

    async def deliver(self) -> int:
        """Send the due notices of the outbox (whoever wrote them: this worker, the web, the console)."""
        return await asyncio.to_thread(self.outbox.deliver_due)

    async def _deliver_step(self, stop: asyncio.Event) -> None:
        if await self.deliver():
            return  # maybe more are due
        self._wrote_notices.clear()
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wrote_notices.wait())]
        try:
            await asyncio.wait(waits, timeout=self.outbox_every_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        """Two loops: faults and deadlines, and the outbox (so a webhook that hangs delays no incident).
        Either one giving up (``Unrecoverable``) ends both."""
        await run_together(
            run_steps(self.step, stop, "rescue worker", self.health),
            run_steps(lambda: self._deliver_step(stop), stop, "notice outbox", self.outbox_health),
        )
