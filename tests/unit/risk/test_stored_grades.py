"""``risk.service.stored_grades``: the grades of the codes asked for that have one, however many codes
(the dashboard asks for its 20,000 map points at once: batches of IN lists on SQLite, one array parameter
on PostgreSQL); on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from liftwatch.risk import service
from liftwatch.risk.models import RiskScoreRow


def test_the_grades_of_many_codes(session: Session) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    graded = {f"31SH{n:07d}": "ABCD"[n % 4] for n in range(0, 2_600, 7)}
    session.add_all(
        RiskScoreRow(registration_code=code, district="静安区", score=10, grade=grade, computed_at=at)
        for code, grade in graded.items()
    )
    session.commit()
    asked = [f"31SH{n:07d}" for n in range(2_600)] + ["31SH0000000", "unknown"]  # a repeat, an unknown
    assert service.stored_grades(session, asked) == graded
    assert service.stored_grades(session, []) == {}
    assert service.stored_grades(session, ["31SH0000007"]) == {"31SH0000007": "D"}  # 7 % 4 = 3
