"""core/outbox.py on real notice rows (hazard_notices) and a real HTTP receiver: the delivery loop tells the
log once, sends each notice under its key, keeps a refused one with its attempts and next try (the domain's
``on_failed`` runs in that transaction), and the marks and counts read the same rows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core import notify, outbox
from liftwatch.core.clock import FixedClock
from liftwatch.hazards import service
from liftwatch.hazards.models import HazardNotice
from liftwatch.hazards.worker import notice_payload
from tests.unit.core.test_deadlines import DUE, _two_hazards
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.webhook import WebhookReceiver

log = logging.getLogger("tests.outbox")


def _two_notices(session: Session, people: dict[str, Actor], clock: FixedClock) -> list[str]:
    _two_hazards(session, people, clock)
    clock.advance(DUE - clock.now())
    assert len(service.fire_due_timers(session, clock)) == 2
    session.commit()
    return [n.key for n in outbox.pending(session, HazardNotice)]


def test_the_loop_sends_each_once_and_keeps_a_refused_one(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    keys = _two_notices(session, people, clock)
    told: list[str] = []
    failed: list[tuple[str, int]] = []

    def on_failed(s: Session, row: HazardNotice, now: datetime, f: notify.Failure) -> None:
        assert row.attempts == f.attempts and now == clock.now()
        failed.append((row.key, f.attempts))

    with WebhookReceiver() as hook:
        delivery = outbox.Delivery(
            HazardNotice,
            session_factory,
            clock,
            notify.Sender(hook.url, 5.0, 10.0, 60.0),
            payload=notice_payload,
            tell=lambda body: told.append(body["idempotency_key"]),
            log=log,
            on_failed=on_failed,
        )
        hook.refuse = 1
        assert delivery.deliver_due() == 0  # the first is refused, and the round stops there
        assert failed == [(keys[0], 1)] and delivery.failures == 1
        assert delivery.deliver_due() == 1  # the second; the first waits for its next try
        clock.advance(timedelta(seconds=10))
        assert delivery.deliver_due() == 1 and delivery.deliver_due() == 0
    assert told == [keys[0], keys[1]]  # the log once each, a retry is not told again
    assert hook.keys() == {keys[0]: 1, keys[1]: 1} and delivery.delivered == 2
    with session_factory() as s:
        rows: list[Any] = list(s.scalars(select(HazardNotice).order_by(HazardNotice.id)))
        assert [(r.attempts, r.delivered_at is not None) for r in rows] == [(1, True), (0, True)]
        assert "503" in rows[0].last_error and outbox.count_pending(s, HazardNotice) == 0


def test_pending_and_marks(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    keys = _two_notices(session, people, clock)
    assert outbox.count_pending(session, HazardNotice) == 2
    now = clock.now()
    assert outbox.claim_one(session, HazardNotice, now) is not None
    assert outbox.mark_delivered(session, HazardNotice, [keys[0]], now) == 1
    assert outbox.mark_delivered(session, HazardNotice, [keys[0], "nope"], now) == 0  # delivered once
    session.commit()
    assert [r.key for r in outbox.pending(session, HazardNotice)] == [keys[1]]
    row = outbox.claim_one(session, HazardNotice, now)
    assert row is not None and row.key == keys[1]
    outbox.mark_failed(row, notify.Failure(1, "x" * 600, 5.0, now + timedelta(seconds=5)))
    session.commit()
    assert outbox.claim_one(session, HazardNotice, now) is None  # not due before its next try
    assert outbox.claim_one(session, HazardNotice, now + timedelta(seconds=5)) is not None
    assert len(row.last_error) == 500 and outbox.count_pending(session, HazardNotice) == 1
