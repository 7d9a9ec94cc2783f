"""Assessment tables: the safety assessments (安全评估) of old residential elevators and the measures taken
on three-no elevators (三无电梯), each by registration code (the registry's elevator), each row written once
by ``assessment.service`` (a request key makes a form sent twice one row)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class SafetyAssessment(Base):
    """One safety assessment of one elevator: who assessed (the body's name and, when registered, its unit
    code), on which day, the result and the findings, and the decision taken after it (更新改造大修) with its
    day; ``hazard_id`` is the hazard it opened, if any (hazards', by id)."""

    __tablename__ = "safety_assessments"
    __table_args__ = (Index("ix_safety_assessments_code", "registration_code", "assessed_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    assessor: Mapped[str] = mapped_column(String(200))
    assessor_unit: Mapped[str] = mapped_column(String(32), default="")
    assessed_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))  # domain.AssessmentResult
    findings: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(16))  # domain.Decision
    decision_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    hazard_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThreeNoMeasure(Base):
    """One measure taken on a three-no elevator: its kind, day, note and who took it (a street office, a
    unit), and the status it leaves the elevator in (the latest measure's status is the elevator's)."""

    __tablename__ = "three_no_measures"
    __table_args__ = (Index("ix_three_no_measures_code", "registration_code", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))  # domain.MeasureKind
    taken_on: Mapped[date] = mapped_column(Date)
    taken_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # domain.ThreeNoStatus
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
