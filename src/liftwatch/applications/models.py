"""Tables of applications: the application with its form, each department's review with its deadline, the
durable timer of each deadline, and the trail of everything that happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Application(Base):
    """One application (办件). ``reference`` is its number (e.g. YW2026-000012); ``form`` the kind's fields
    as submitted (consent, funding, scope, the elevator to register, ...); ``registration_code`` the
    elevator it is about, or the one it registered."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_stage", "stage", "submitted_at"),
        Index("ix_applications_unit", "applicant_unit", "submitted_at"),
        Index("ix_applications_code", "registration_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # domain.Kind
    stage: Mapped[str] = mapped_column(String(16))  # domain.Stage
    applicant_unit: Mapped[str] = mapped_column(String(32))
    applicant: Mapped[str] = mapped_column(String(64))  # the account that submitted it
    registration_code: Mapped[str] = mapped_column(String(40), default="")
    district: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(200))
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """One department's review of an application, due by ``due_at``; ``late_at`` is set when the deadline
    passed with no decision (flagged for the regulator)."""

    __tablename__ = "application_reviews"
    __table_args__ = (
        UniqueConstraint("application_id", "department", name="uq_application_reviews_department"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    department: Mapped[str] = mapped_column(String(24))  # domain.Department
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)  # domain.Decision
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    late_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApplicationTimer(Base):
    """A review's deadline; ``fire_due_timers`` fires due ones, also after a restart (core/deadlines.py)."""

    __tablename__ = "application_timers"
    __table_args__ = (Index("ix_application_timers_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("application_reviews.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApplicationEvent(Base):
    """Every step of an application: who, when, what (the trail, copied onto the elevator's file)."""

    __tablename__ = "application_events"
    __table_args__ = (Index("ix_application_events_application", "application_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
