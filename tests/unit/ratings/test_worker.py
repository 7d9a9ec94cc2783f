"""The ratings worker rates the month, quarter and half-year just closed once each, a settling day after
their end, and leaves a rated period alone; the period helpers name and bound the periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.ratings import service
from liftwatch.ratings.periods import PeriodKind, closed_before, parse_period
from liftwatch.ratings.worker import RatingsWorker
from tests.unit.ratings.test_queries import hand_made_quarter
from tests.unit.ratings.test_service import SMALL


def test_periods_by_name_and_the_one_just_closed() -> None:
    h2 = parse_period("2026-h2")
    assert (h2.kind, h2.label, h2.start, h2.end, h2.months) == (
        PeriodKind.HALF_YEAR, "2026-H2", date(2026, 7, 1), date(2027, 1, 1), 6,
    )  # fmt: skip
    assert parse_period("2026-Q4").end == date(2027, 1, 1) and parse_period("2026-02").end == date(2026, 3, 1)
    for bad in ("2026-Q5", "2026-13", "26-H1", "2026-H3", ""):
        with pytest.raises(ValueError):
            parse_period(bad)
    today = date(2026, 10, 2)
    assert [closed_before(k, today).label for k in PeriodKind] == ["2026-09", "2026-Q3", "2026-H1"]
    assert closed_before(PeriodKind.MONTH, date(2026, 1, 5)).label == "2025-12"


def test_the_worker_rates_each_closed_period_once(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    clock = FixedClock(datetime(2026, 10, 1, 20, 0, tzinfo=UTC))  # 2 October in Shanghai
    hand_made_quarter(session, clock)
    session.commit()
    worker = RatingsWorker(session_factory, clock, Settings(), SMALL)
    assert worker.step() == ["2026-09", "2026-Q3", "2026-H1"]
    assert worker.step() == []  # rated: left alone
    with session_factory() as s:
        _, rows = service.ratings_of(s, SYSTEM_ACTOR, "2026-Q3")
        assert [(r.unit_code, r.total) for r in rows] == [("MU-B", 80), ("MU-A", 10)]
    early = RatingsWorker(session_factory, FixedClock(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)), Settings())
    assert early.step() == []  # 1 December: November not settled yet
