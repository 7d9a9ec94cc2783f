"""Risk tables: the stored score of each elevator (风险分级) with its explanation and the facts it was scored
on, so the page and the API read a score without counting a year of records again. ``district`` is copied
from the registry at each recomputation: the page ranks the top risks of a district by an index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class RiskScoreRow(Base):
    """One elevator's latest score: ``contributions`` lists every factor's value and points (they sum to
    ``score``), ``facts`` what was known of it (``ElevatorFacts``), ``computed_at`` when."""

    __tablename__ = "risk_scores"
    __table_args__ = (
        Index("ix_risk_scores_score", "score"),
        Index("ix_risk_scores_district_score", "district", "score"),
        Index("ix_risk_scores_grade", "grade"),
    )

    registration_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    district: Mapped[str] = mapped_column(String(64), default="")
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(1))  # Grade
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
