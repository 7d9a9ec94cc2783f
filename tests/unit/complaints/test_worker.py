"""The complaint worker on a controlled clock: a passed limit fires once and its notice (no personal data)
reaches the webhook with its idempotency key and is marked delivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.complaints import service
from liftwatch.complaints.models import ComplaintNotice
from liftwatch.complaints.worker import ComplaintWorker
from liftwatch.complaints.workflow import Category, Channel
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.webhook import WebhookReceiver


def test_a_passed_limit_is_told_to_the_regulator_once(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    data = service.Intake(
        Channel.WECHAT, "wx-1", Category.NOISE, "电梯异响很大", code="11SHA000001",
        complainant_name="张三", complainant_phone="13812345678", assign=False,
    )  # fmt: skip
    service.intake(session, people["operator"], data, clock)
    session.commit()
    with WebhookReceiver() as hook:
        worker = ComplaintWorker(session_factory, clock, Settings(complaint_webhook_url=hook.url))
        assert worker.fire() == 0
        clock.advance(timedelta(hours=24))
        assert (worker.fire(), worker.fire()) == (1, 0)
        assert worker.deliver_due() == 1 and worker.deliver_due() == 0
        [(key, body)] = hook.posts
    assert (body["kind"], body["recipient"], body["details"]["step"]) == ("overdue", "regulator", "assign")
    assert "13812345678" not in str(body) and "张三" not in str(body)
    with session_factory() as s:
        row = s.scalars(select(ComplaintNotice)).one()
        assert row.delivered_at is not None and row.key == body["idempotency_key"] == key
