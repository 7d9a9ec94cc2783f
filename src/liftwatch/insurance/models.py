"""Insurance tables (电梯安全责任保险): the liability policies, one per elevator and period of cover, and the
premium factor of each policy in each repricing period with the risk grade, score and factors behind it.

A policy's status (upcoming, valid, expired, cancelled) is derived from its dates and ``cancelled_at`` on
the day asked about (``domain.status_on``), never stored. Repricing a period again replaces its rows
(``service.reprice``); earlier periods' rows stay, so a policy's factors across periods are its history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class InsurancePolicy(Base):
    """One elevator's liability policy: the insurer (a unit of type insurer), its number (unique per
    insurer), the insured (the elevator's use unit when the policy was recorded), the days ``[start, end]``,
    the cover (limits per person and per accident) and the base premium, all money in fen."""

    __tablename__ = "insurance_policies"
    __table_args__ = (
        UniqueConstraint("insurer_unit_id", "policy_number", name="uq_insurance_policies_number"),
        Index("ix_insurance_policies_code", "registration_code", "end_date"),
        Index("ix_insurance_policies_insurer", "insurer_unit_id", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    insurer_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    policy_number: Mapped[str] = mapped_column(String(64))
    registration_code: Mapped[str] = mapped_column(String(40))
    insured_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # the last day covered (inclusive)
    limit_per_person_fen: Mapped[int] = mapped_column(BigInteger)
    limit_per_accident_fen: Mapped[int] = mapped_column(BigInteger)
    premium_fen: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PremiumFactorRow(Base):
    """A policy's premium factor in a repricing period (``2026-Q4``): the factor, the grade and score it was
    decided from (None before the elevator's first score), the largest risk factors behind the grade
    (``top``: factor, value, points) and the adjusted premium."""

    __tablename__ = "insurance_premium_factors"
    __table_args__ = (
        UniqueConstraint("policy_id", "period", name="uq_insurance_premium_factors_policy_period"),
        Index("ix_insurance_premium_factors_period", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policies.id"))
    period: Mapped[str] = mapped_column(String(16))
    factor: Mapped[float] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    top: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    adjusted_premium_fen: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_by: Mapped[str] = mapped_column(String(64))
