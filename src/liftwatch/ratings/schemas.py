"""The ratings API's shapes: a rated period, a unit's rating with its lines (criterion, the figure it was
rated on, points, weight; they sum to the total), the figures and counts behind it and the reasons; the
public shape carries unit names and figures only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from liftwatch.core.types import SingleLine


class PublicPeriodOut(BaseModel):
    """A rated period as the public sees it (who rated it is left out: a person's username)."""

    label: str
    kind: str
    start_date: date
    end_date: date  # exclusive
    computed_at: datetime

    @classmethod
    def of(cls, row: Any) -> PublicPeriodOut:
        return cls(
            label=row.label,
            kind=row.kind,
            start_date=row.start_date,
            end_date=row.end_date,
            computed_at=row.computed_at,
        )


class PeriodOut(PublicPeriodOut):
    computed_by: str

    @classmethod
    def of(cls, row: Any) -> PeriodOut:
        return cls(
            label=row.label,
            kind=row.kind,
            start_date=row.start_date,
            end_date=row.end_date,
            computed_at=row.computed_at,
            computed_by=row.computed_by,
        )


class LineOut(BaseModel):
    criterion: str
    value: float | None
    points: int
    weight: int


class UnitRatingOut(BaseModel):
    """One unit's rating: ``lines`` sum to ``total``; ``stars`` and ``rank`` are None when not rated."""

    unit_code: str
    unit_name: str
    elevators: int
    rated: bool
    total: int
    stars: int | None
    rank: int | None
    listing: str
    lines: list[LineOut]
    figures: dict[str, Any]
    why: list[dict[str, Any]]

    @classmethod
    def of(cls, row: Any) -> UnitRatingOut:
        return cls(
            unit_code=row.unit_code,
            unit_name=row.unit_name,
            elevators=row.elevators,
            rated=row.rated,
            total=row.total,
            stars=row.stars,
            rank=row.rank,
            listing=row.listing,
            lines=[LineOut(**line) for line in row.lines],
            figures=row.figures,
            why=row.why,
        )


class PeriodRatingsOut(BaseModel):
    period: PeriodOut
    ratings: list[UnitRatingOut]
    settings: dict[str, float] | None = None  # the centre's view: the settings the period was rated with


class HistoryItem(BaseModel):
    period: PeriodOut
    rating: UnitRatingOut


class HistoryOut(BaseModel):
    unit_code: str
    items: list[HistoryItem]


class ComputeIn(BaseModel):
    period: SingleLine = Field(max_length=16, description="2026-H2, 2026-Q4 or 2026-11")


class PublicRatingsOut(BaseModel):
    """The published ratings of a period (the latest unless named): units by name, no person's data."""

    period: PublicPeriodOut | None
    ratings: list[UnitRatingOut]
    red: list[str]  # unit codes on the red list
    black: list[str]
