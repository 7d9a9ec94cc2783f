"""Tables of main parts and recalls: each elevator's parts (a replaced part stays, with the day it came
out and what replaced it), manufacturers' recalls, and each recall's affected elevators with the work
order opened for them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Part(Base):
    """One main part of one elevator. ``current_key`` ("<registration code>:<kind>") is set while the part
    is in the elevator and cleared when it comes out: unique, so an elevator has one current part of each
    kind (NULLs do not clash, on SQLite and PostgreSQL alike). ``*_key`` columns hold ``domain.key`` of
    the maker, model and serial for recalls to match on."""

    __tablename__ = "parts"
    __table_args__ = (
        Index("ix_parts_code", "registration_code", "kind"),
        Index("ix_parts_model", "kind", "model_key", "maker_key"),
        Index("ix_parts_end_of_life", "end_of_life_on"),
        Index("ix_parts_wear", "wear", "wear_share"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))  # domain.PartKind
    current_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    manufacturer: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str] = mapped_column(String(64))
    maker_key: Mapped[str] = mapped_column(String(100))
    model_key: Mapped[str] = mapped_column(String(64))
    serial_key: Mapped[str] = mapped_column(String(64))
    installed_on: Mapped[date] = mapped_column(Date)
    design_life_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    design_life_cycles: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_of_life_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # from the years
    counter_at_install: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    removed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    removed_reason: Mapped[str] = mapped_column(Text, default="")
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id"), nullable=True)
    # the wear as last judged (service.refresh_wear, hourly, and on recording): what the worn list reads
    wear: Mapped[str] = mapped_column(String(8), default="unknown", server_default="unknown")  # domain.Wear
    wear_share: Mapped[float | None] = mapped_column(Float, nullable=True)  # the further of the two shares
    wear_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recall(Base):
    """A manufacturer's recall (召回) of one part kind, model and serial range, with the day its
    rectification is due. ``reference`` is the recall's own number (its idempotency key)."""

    __tablename__ = "recalls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    manufacturer: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(64))
    maker_key: Mapped[str] = mapped_column(String(100))
    model_key: Mapped[str] = mapped_column(String(64))
    serial_first: Mapped[str] = mapped_column(String(64))
    serial_last: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    remedy: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class RecallItem(Base):
    """An elevator a recall reaches through one of its parts, and the rectification work order opened for
    it (None with ``problem`` when none could be opened, e.g. no maintenance unit)."""

    __tablename__ = "recall_items"
    __table_args__ = (
        UniqueConstraint("recall_id", "part_id", name="uq_recall_items_part"),
        Index("ix_recall_items_code", "registration_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    registration_code: Mapped[str] = mapped_column(String(40))
    serial: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    problem: Mapped[str] = mapped_column(Text, default="")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
