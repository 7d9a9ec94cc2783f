"""The risk API's shapes: a stored score with its explanation (every factor's value and points, summing to
the score) and the facts it was computed on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from liftwatch.risk.domain import GRADE_COLOUR, Grade


class ContributionOut(BaseModel):
    factor: str
    value: float | str | None
    points: int


class RiskScoreOut(BaseModel):
    """One elevator's score: ``contributions`` sum to ``score``; ``colour`` is the grade's display colour."""

    registration_code: str
    district: str
    score: int
    grade: str
    colour: str
    computed_at: datetime
    contributions: list[ContributionOut]
    facts: dict[str, Any]

    @classmethod
    def of(cls, row: Any) -> RiskScoreOut:
        return cls(
            registration_code=row.registration_code,
            district=row.district,
            score=row.score,
            grade=row.grade,
            colour=GRADE_COLOUR[Grade(row.grade)].value,
            computed_at=row.computed_at,
            contributions=[ContributionOut(**c) for c in row.contributions],
            facts=row.facts,
        )


class RiskListOut(BaseModel):
    items: list[RiskScoreOut]
