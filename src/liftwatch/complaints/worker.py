"""The complaint worker (run with the maintenance role, and in the embedded pipeline):

* timers: every ``timer_every_s`` it fires the due SLA limits of complaints (``service.fire_due_timers``:
  durable rows, so a limit set by one process fires in another after a restart; SKIP LOCKED);
* notices: it delivers the ``complaint_notices`` outbox to the log and, with
  LIFTWATCH_COMPLAINT_WEBHOOK_URL, to the regulator's or responsible unit's system, through core/outbox.py's
  loop as hazards' are (at least once, never dropped, the maintenance notices' backoff).

Its one loop reports a ``Health`` for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.complaints import service
from liftwatch.complaints.models import ComplaintNotice
from liftwatch.core import notify, outbox
from liftwatch.core.bus import Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings

log = logging.getLogger(__name__)


def notice_payload(row: ComplaintNotice) -> dict[str, Any]:
    """What the log and the webhook receive for one notice (docs/COMPLAINTS.md): no personal data."""
    return outbox.payload(row, ("complaint_id", row.complaint_id), recipient=row.recipient)


class ComplaintWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        timer_every_s: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.timer_every_s = timer_every_s
        self.delivery = outbox.Delivery(
            ComplaintNotice,
            session_factory,
            clock,
            notify.Sender(
                settings.complaint_webhook_url,
                settings.maintenance_webhook_timeout_s,
                settings.maintenance_notice_retry_s,
                settings.maintenance_notice_retry_max_s,
            ),
            payload=notice_payload,
            tell=outbox.teller(
                log,
                "complaint %(kind)s: complaint %(complaint_id)d %(registration_code)s to %(recipient)s "
                "%(details)s (%(idempotency_key)s)",
            ),
            log=log,
            label="complaint notice",
            describe=lambda row: f"{row.kind} to {row.recipient}",
        )
        self.timers_fired = 0
        self.health = Health("complaint worker", settings.worker_give_up_s)

    def fire(self) -> int:
        """Fire the due SLA limits (committed); returns how many notices they wrote."""
        with self.session_factory() as session:
            notices = service.fire_due_timers(session, self.clock)
            session.commit()
        for n in notices:
            log.warning(
                "complaint limit passed: complaint %d (%s) %s, %s told",
                n.complaint_id,
                n.registration_code,
                n.details.get("step"),
                n.recipient,
            )
        self.timers_fired += len(notices)
        return len(notices)

    def deliver_due(self, limit: int = 50) -> int:
        return self.delivery.deliver_due(limit)

    async def _step(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.fire)
        await asyncio.to_thread(self.deliver_due)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.timer_every_s)

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(lambda: self._step(stop), stop, "complaint worker", self.health)
