"""The hazard worker (run with the maintenance role: ``liftwatch worker --role maintenance``, and in the
embedded pipeline):

* deadlines: every ``timer_every_s`` it fires the due escalation steps of hazards
  (``service.fire_due_timers``: durable rows, so a deadline set by one process fires in another after a
  restart; SKIP LOCKED, so two workers never fire one twice);
* notices: it delivers the ``hazard_notices`` outbox to the log and, with LIFTWATCH_HAZARD_WEBHOOK_URL, to
  the responsible unit's or regulator's system, through core/outbox.py's delivery loop as maintenance's
  and rescue's are (one row claimed with SKIP LOCKED, sent and marked at a time; at least once, a failed
  attempt kept for its next try with the maintenance notices' backoff, never dropped).

* sources: every LIFTWATCH_HAZARD_SOURCES_EVERY_S it reports the hidden dangers the platform finds itself
  (``hazards/sources.py``: dangerous and recurring faults, serious findings of signed inspections) over
  the last LIFTWATCH_HAZARD_SOURCES_LOOKBACK_H hours; ``service.report`` is idempotent on the finding's
  reference, so a scan that sees a finding again, or a second worker, opens no second hazard.

Its one loop reports a ``Health`` for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core import notify, outbox
from liftwatch.core.bus import Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import DomainError
from liftwatch.hazards import queries, service, sources
from liftwatch.hazards.models import HazardNotice
from liftwatch.inspection import service as inspection
from liftwatch.telemetry import queries as telemetry_queries

log = logging.getLogger(__name__)


def notice_payload(row: HazardNotice) -> dict[str, Any]:
    """What the log and the webhook receive for one notice (docs/HAZARDS.md)."""
    return outbox.payload(row, ("hazard_id", row.hazard_id), recipient=row.recipient)


class HazardWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        timer_every_s: float = 5.0,
        outbox_every_s: float = 2.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.timer_every_s = timer_every_s
        self.outbox_every_s = outbox_every_s
        # the time limit and retries are the maintenance notices' (the same receivers' kind of system)
        self.delivery = outbox.Delivery(
            HazardNotice,
            session_factory,
            clock,
            notify.Sender(
                settings.hazard_webhook_url,
                settings.maintenance_webhook_timeout_s,
                settings.maintenance_notice_retry_s,
                settings.maintenance_notice_retry_max_s,
            ),
            payload=notice_payload,
            tell=outbox.teller(
                log,
                "hazard %(kind)s: hazard %(hazard_id)d %(registration_code)s to %(recipient)s %(details)s "
                "(%(idempotency_key)s)",
            ),
            log=log,
            label="hazard notice",
            describe=lambda row: f"{row.kind} to {row.recipient}",
        )
        self.timers_fired = 0
        self.settings = settings
        self.rule = sources.SourceRule(settings.hazard_repeat_faults, settings.hazard_repeat_days)
        self.found = 0  # hidden dangers the scans opened
        self._next_scan: datetime | None = None
        self.health = Health("hazard worker", settings.worker_give_up_s)

    def fire(self) -> int:
        """Fire the due escalation steps (committed); returns how many notices they wrote."""
        with self.session_factory() as session:
            notices = service.fire_due_timers(session, self.clock)
            session.commit()
        for n in notices:
            log.warning(
                "hazard deadline fired: hazard %d (%s) %s, %s told",
                n.hazard_id,
                n.registration_code,
                n.kind,
                n.recipient,
            )
        self.timers_fired += len(notices)
        return len(notices)

    def findings(self, session: Session, now: datetime) -> list[sources.Finding]:
        """What the last LIFTWATCH_HAZARD_SOURCES_LOOKBACK_H hours of faults and signed inspections show."""
        start = now - timedelta(hours=self.settings.hazard_sources_lookback_h)
        recent = [
            sources.FaultSeen(*row) for row in telemetry_queries.faults_started_between(session, start, now)
        ]
        pairs = {(f.registration_code, f.fault_type) for f in recent}
        history = telemetry_queries.fault_starts(
            session, start - timedelta(days=self.rule.repeat_days), pairs
        )
        found = sources.monitoring_findings(
            recent, history, queries.open_monitoring_repeats(session), self.rule
        )
        signed = inspection.findings_signed_between(session, start, now)
        return found + sources.inspection_findings(sources.InspectionFinding(*row) for row in signed)

    def scan(self) -> int:
        """Report the findings (each in its own transaction: an elevator the registry no longer knows is
        logged and skipped, never a stop); returns how many hidden dangers were opened."""
        now = self.clock.now()
        with self.session_factory() as session:
            found = self.findings(session, now)
        opened = 0
        for f in found:
            with self.session_factory() as session:
                try:
                    out = service.report(
                        session,
                        SYSTEM_ACTOR,
                        f.registration_code,
                        f.source,
                        f.source_ref,
                        f.level,
                        f.description,
                        self.clock,
                        self.settings,
                    )
                    session.commit()
                except DomainError as exc:
                    session.rollback()
                    log.warning(
                        "hazard finding %s on %s not reported: %s", f.source_ref, f.registration_code, exc
                    )
                    continue
            if out.created:
                opened += 1
                log.warning(
                    "hazard found by the platform: hazard %d on %s (%s %s, %s)",
                    out.hazard.id,
                    f.registration_code,
                    f.source.value,
                    f.source_ref,
                    f.level.value,
                )
        self.found += opened
        return opened

    def scan_if_due(self) -> int:
        now = self.clock.now()
        if self._next_scan is not None and now < self._next_scan:
            return 0
        self._next_scan = now + timedelta(seconds=self.settings.hazard_sources_every_s)
        return self.scan()

    def deliver_due(self, limit: int = 50) -> int:
        """Deliver up to ``limit`` due notices through core/outbox.py's loop (each claimed, sent and marked
        in its own transaction; stops at the first failure); returns how many were delivered."""
        return self.delivery.deliver_due(limit)

    @property
    def delivered(self) -> int:
        return self.delivery.delivered

    async def _timer_step(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.fire)
        await asyncio.to_thread(self.scan_if_due)
        await asyncio.to_thread(self.deliver_due)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.timer_every_s)

    async def run(self, stop: asyncio.Event) -> None:
        """One loop: fire the due steps, then deliver what is due (a webhook's time limit bounds a step)."""
        await run_steps(lambda: self._timer_step(stop), stop, "hazard worker", self.health)
