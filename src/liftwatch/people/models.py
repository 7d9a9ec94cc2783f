"""Tables of people: workers' certificates (a renewal is a new certificate; a revoked one stays, marked),
their training, and the use units' emergency drills."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Certificate(Base):
    """A special-equipment operator's certificate (特种设备作业人员证) of one worker. ``number`` is the
    certificate's own number (unique); ``username`` the holder's account when the holder signs in."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index("ix_certificates_holder", "username", "category", "expires_on"),
        Index("ix_certificates_unit", "unit_code", "expires_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(4))  # domain.Category
    holder_name: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64), default="")
    unit_code: Mapped[str] = mapped_column(String(32))  # the employer
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(64), default="")
    revoke_reason: Mapped[str] = mapped_column(Text, default="")


class Training(Base):
    """A training a worker attended (安全教育培训)."""

    __tablename__ = "trainings"
    __table_args__ = (Index("ix_trainings_holder", "username", "held_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    topic: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Drill(Base):
    """An emergency drill (应急演练) a use unit held; one per unit, day and scenario."""

    __tablename__ = "drills"
    __table_args__ = (
        UniqueConstraint("unit_code", "held_on", "scenario", name="uq_drills_unit_day_scenario"),
        Index("ix_drills_held", "held_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)
    scenario: Mapped[str] = mapped_column(String(16))  # domain.Scenario
    registration_code: Mapped[str] = mapped_column(String(40), default="")  # the elevator used, if one
    participants: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
