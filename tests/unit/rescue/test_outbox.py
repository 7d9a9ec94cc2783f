"""The notice outbox, on SQLite and PostgreSQL, against a real HTTP receiver: notices are rows written with
their change (none for a rolled-back one), delivered once with a stable idempotency key, retried with
capped exponential backoff when the receiver fails, never dropped, and visible on the incident and in the
metrics."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.metrics import Metrics
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.rescue.models import IncidentEvent, NoticeOutbox
from liftwatch.rescue.outbox import Outbox, retry_delay_s
from tests.webhook import WebhookReceiver

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
CODE = "11SHA000001"


def _call(session: Session, clock: FixedClock, settings: rescue.RescueSettings) -> rescue.Outcome:
    out = rescue.report(session, OPERATOR, rescue.Report(CODE, Source.PHONE), clock, settings)
    session.commit()
    return out


def _rows(session_factory: sessionmaker[Session]) -> list[NoticeOutbox]:
    with session_factory() as s:
        rows = list(s.scalars(select(NoticeOutbox).order_by(NoticeOutbox.id)))
        s.expunge_all()
        return rows


def _sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


def test_notices_leave_with_their_commit_and_are_delivered_once(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, city: None
) -> None:
    with WebhookReceiver() as hook:
        settings = rescue.RescueSettings(webhook_url=hook.url)
        # a report that is rolled back leaves no notice behind
        rescue.report(session, OPERATOR, rescue.Report(CODE, Source.PHONE), clock, settings)
        session.rollback()
        assert _rows(session_factory) == []
        out = _call(session, clock, settings)
        inc = out.incident
        events = {e.kind: e.id for e in rescue_queries.incident_events(session, inc)}
        rows = _rows(session_factory)
        assert [(r.kind, r.key) for r in rows] == [
            ("raised", f"{inc.id}:{events['raised']}:raised"),
            ("dispatched", f"{inc.id}:{events['dispatched']}:dispatched"),
        ]
        assert [n.key for n in out.notices] == [r.key for r in rows]
        assert all(r.delivered_at is None and r.attempts == 0 for r in rows)

        metrics = Metrics()
        outbox = Outbox(session_factory, clock, settings, metrics)
        assert outbox.backlog().pending == 2
        assert outbox.deliver_due() == 2
        assert outbox.deliver_due() == 0  # delivered rows are not sent again
    assert hook.keys() == {rows[0].key: 1, rows[1].key: 1}
    dispatched = hook.bodies()[1]
    assert dispatched == {
        "idempotency_key": rows[1].key,
        "incident_id": inc.id,
        "kind": "dispatched",
        "level": "L1",
        "registration_code": CODE,
        "details": {"crew": "A1", "eta_s": dispatched["details"]["eta_s"]},
        "created_at": clock.now().isoformat(),
    }
    assert all(r.delivered_at == clock.now() for r in _rows(session_factory))
    assert _sample(metrics, "liftwatch_notices_delivered_total") == 2
    assert _sample(metrics, "liftwatch_notices_pending") == 0


def test_a_failing_receiver_gets_retries_with_backoff_and_the_incident_shows_it(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, city: None
) -> None:
    with WebhookReceiver() as hook:
        settings = rescue.RescueSettings(
            webhook_url=hook.url, notice_retry_s=5, notice_retry_max_s=12, notice_alert_after=3
        )
        inc = _call(session, clock, settings).incident
        metrics = Metrics()
        outbox = Outbox(session_factory, clock, settings, metrics)
        hook.refuse = 8  # four attempts of each of the two notices
        waits = []
        for attempt in range(1, 5):
            assert outbox.deliver_due() == 0  # one fails, and the round stops there
            assert outbox.deliver_due() == 0  # the other one
            assert hook.refuse == 8 - 2 * attempt
            assert outbox.deliver_due() == 0 and hook.refuse == 8 - 2 * attempt  # neither is due again yet
            rows = _rows(session_factory)
            assert [r.attempts for r in rows] == [attempt, attempt] and "503" in rows[0].last_error
            waits.append((rows[0].next_attempt_at - clock.now()).total_seconds())
            clock.advance(rows[0].next_attempt_at - clock.now())
        assert waits == [5, 10, 12, 12]  # doubling, capped
        # visible: the metrics, the audit trail (once, at the third failure) and the undelivered notices
        assert _sample(metrics, "liftwatch_notice_failures_total") == 8
        assert _sample(metrics, "liftwatch_notices_pending") == 2
        # observed at the last round, before the last wait
        assert _sample(metrics, "liftwatch_notice_oldest_pending_seconds") == sum(waits[:-1])
        failed = session.scalars(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == inc.id, IncidentEvent.kind == "notice_failed"
            )
        ).all()
        assert [(e.actor, e.details["notice"], e.details["attempts"]) for e in failed] == [
            ("outbox", "raised", 3),
            ("outbox", "dispatched", 3),
        ]
        assert [n.kind for n in rescue_queries.undelivered_notices(session, inc)] == ["raised", "dispatched"]
        # the receiver recovers: both go, each once, the retried one under its same key
        assert outbox.deliver_due() == 2
    rows = _rows(session_factory)
    assert hook.keys() == {rows[0].key: 1, rows[1].key: 1}
    assert [(r.attempts, r.delivered_at) for r in rows] == [(4, clock.now())] * 2
    session.expire_all()
    assert rescue_queries.undelivered_notices(session, inc) == []


def test_an_unreachable_receiver_is_a_failed_attempt(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, city: None
) -> None:
    settings = rescue.RescueSettings(webhook_url="http://127.0.0.1:9/nowhere", webhook_timeout_s=1)
    _call(session, clock, settings)
    assert Outbox(session_factory, clock, settings).deliver_due() == 0
    first, second = _rows(session_factory)
    assert first.attempts == 1 and "unreachable" in first.last_error and first.delivered_at is None
    assert second.attempts == 0  # not tried after the first failure: it waits for the next round


def test_without_a_webhook_the_log_takes_each_notice_once(
    session_factory: sessionmaker[Session],
    session: Session,
    clock: FixedClock,
    city: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = rescue.RescueSettings(webhook_url="")
    out = _call(session, clock, settings)
    with caplog.at_level("INFO", logger="liftwatch.rescue"):
        assert Outbox(session_factory, clock, settings).deliver_due() == 2
        assert Outbox(session_factory, clock, settings).deliver_due() == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "liftwatch.rescue"]
    assert len(logged) == 2 and all(n.key in m for n, m in zip(out.notices, logged, strict=True))


def test_retry_delay_doubles_up_to_the_cap() -> None:
    settings = rescue.RescueSettings(notice_retry_s=2, notice_retry_max_s=600)
    assert [retry_delay_s(settings, n) for n in (1, 2, 3, 9, 10, 50)] == [2, 4, 8, 512, 600, 600]


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_two_workers_never_send_one_notice_twice(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, city: None
) -> None:
    """PostgreSQL: rows are claimed FOR UPDATE SKIP LOCKED, so two workers delivering at once each send
    different notices. (The embedded SQLite layout has one worker.)"""
    assert session.get_bind().dialect.name == "postgresql"
    with WebhookReceiver() as hook:
        settings = rescue.RescueSettings(webhook_url=hook.url)
        for code in ("11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"):
            rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, settings)
        session.commit()
        total = len(_rows(session_factory))
        results: list[int] = []
        outboxes = [Outbox(session_factory, clock, settings) for _ in range(2)]
        threads = [
            threading.Thread(target=lambda o: results.append(o.deliver_due()), args=(o,)) for o in outboxes
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(results) == total
    assert set(hook.keys().values()) == {1} and len(hook.keys()) == total


def test_settings_refuse_an_unknown_time_zone() -> None:
    from pydantic import ValidationError

    from liftwatch.core.config import Settings

    with pytest.raises(ValidationError, match="timezone") as caught:
        Settings(timezone="Asia/Chongqin")
    assert "unknown time zone 'Asia/Chongqin'" in str(caught.value)
    assert rescue.RescueSettings.for_city(Settings(timezone="Asia/Urumqi")).tz.key == "Asia/Urumqi"
