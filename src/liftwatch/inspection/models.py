"""Inspection tables: inspections (定期检验, re-inspections) and their non-conformities (不符合项), each
linked to the rectification work order it opened in maintenance; the maintenance unit's self-tests (自行检测,
migration 0017)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Inspection(Base):
    """One inspection of one elevator. ``unit_code`` is the maintenance unit at scheduling (its staff read
    it); ``body_unit_code`` the inspection body, ``inspector`` the inspector who records it. Once
    ``signed_at`` is set the row is never changed; a re-inspection is a new row with ``original_id``."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_code", "registration_code", "scheduled_date"),
        Index("ix_inspections_due", "performed_at", "due_date"),
        Index("ix_inspections_inspector", "inspector"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(16))  # InspectionKind
    body_unit_code: Mapped[str] = mapped_column(String(32))
    inspector: Mapped[str] = mapped_column(String(64))
    scheduled_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    original_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), nullable=True)
    performed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    conclusion: Mapped[str | None] = mapped_column(String(32), nullable=True)  # Conclusion
    report_number: Mapped[str] = mapped_column(String(64), default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Nonconformity(Base):
    """An item found not to conform (不符合项), numbered from 1 within its inspection; ``work_order_id`` is
    the rectification work order opened for it (maintenance, source "inspection", ref "<inspection>:<n>")."""

    __tablename__ = "inspection_nonconformities"
    __table_args__ = (UniqueConstraint("inspection_id", "item_no", name="uq_inspection_nonconformities_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    item_no: Mapped[int] = mapped_column(Integer)
    # the inspection item it concerns (检验项目, e.g. "3.8 层门自闭装置"), free text; "" before 0017
    item: Mapped[str] = mapped_column(String(64), default="", server_default="")
    text: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # Severity
    rectify_by: Mapped[date] = mapped_column(Date)
    work_order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SelfTest(Base):
    """A self-test (自行检测, TSG T7008-2023) the maintenance unit made of one elevator on one day, before
    (or, under the reform schedule, between) periodic inspections. Recorded once, never changed: a second
    record of the same elevator and day is refused (409). ``unit_code`` is the maintenance unit that made it
    (its staff read it), ``tester`` the person who tested (a name, not necessarily an account)."""

    __tablename__ = "inspection_self_tests"
    __table_args__ = (
        UniqueConstraint("registration_code", "tested_on", name="uq_inspection_self_tests_day"),
        Index("ix_inspection_self_tests_unit", "unit_code", "tested_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(32))
    tested_on: Mapped[date] = mapped_column(Date)
    conclusion: Mapped[str] = mapped_column(String(32))  # Conclusion
    tester: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
