"""Ratings tables: the rated periods and each maintenance unit's rating in them (星级评定, 红黑榜), with the
lines, figures and reasons behind it, so the pages and the API read a rating without counting again.

A period is rated again by replacing its rows (``service.compute``); the rows of earlier periods stay, so a
unit's ratings across periods are its history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class RatingPeriodRow(Base):
    """A rated period: its name (``2026-H2``), kind, local days ``[start, end)``, when and by whom it was
    last computed and the settings used (every ``RatingSettings`` value)."""

    __tablename__ = "rating_periods"
    __table_args__ = (UniqueConstraint("label", name="uq_rating_periods_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # periods.PeriodKind
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # exclusive
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_by: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UnitRatingRow(Base):
    """One maintenance unit's rating in a period: ``lines`` (criterion, value, points, weight) sum to
    ``total``; ``figures`` the ``UnitFigures`` and the counts behind them; ``why`` the reasons."""

    __tablename__ = "unit_ratings"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_code", name="uq_unit_ratings_period_unit"),
        Index("ix_unit_ratings_unit", "unit_code", "period_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("rating_periods.id"))
    unit_code: Mapped[str] = mapped_column(String(32))
    unit_name: Mapped[str] = mapped_column(String(200), default="")
    elevators: Mapped[int] = mapped_column(Integer)
    rated: Mapped[bool] = mapped_column(Boolean)
    total: Mapped[int] = mapped_column(Integer)
    stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    listing: Mapped[str] = mapped_column(String(8))  # domain.Listing
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    why: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
