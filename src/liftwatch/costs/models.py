"""Cost tables: the ledger entries of each use unit (费用台账) and the half-yearly publications (费用公开).

Both are append-only: the ORM refuses to update or delete a row. A wrong entry is corrected by a reversing
entry; a publication is a frozen snapshot that never changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class CostEntry(Base):
    """One entry of a use unit's ledger. ``amount_fen`` is signed: income +, expense - (domain.signed).
    ``(use_unit, source_ref)`` is unique: a contract's half-year (``ct:<id>:<period>``), a work order
    (``wo:<id>``), an external receipt (``rc:<number>``) or a reversal (``rev:<entry id>``) is booked once.
    ``period`` is the half-year it is published in: its date's, or the next unpublished one when that one
    was published already. ``residential`` is the elevator's place type when booked (unit-wide entries:
    true), since only residential costs are published."""

    __tablename__ = "cost_entries"
    __table_args__ = (
        UniqueConstraint("use_unit", "source_ref", name="uq_cost_entries_source_ref"),
        Index("ix_cost_entries_unit_period", "use_unit", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_unit: Mapped[str] = mapped_column(String(32))  # the use unit's code
    kind: Mapped[str] = mapped_column(String(24))  # domain.EntryKind
    registration_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    residential: Mapped[bool] = mapped_column(Boolean, default=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    on: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(8))  # domain.HalfYear, "2026-H2"
    source_ref: Mapped[str] = mapped_column(String(140))
    note: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("cost_entries.id"), nullable=True, unique=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CostPublication(Base):
    """A published half-year of one use unit's ledger: ``snapshot`` holds its summary as published
    (domain.Summary.as_json plus the unit's name and the advertising income's use) and never changes; a
    later correction lands in a later period. ``unit_name`` is the name when published (the public search)."""

    __tablename__ = "cost_publications"
    __table_args__ = (UniqueConstraint("use_unit", "period", name="uq_cost_publications_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    use_unit: Mapped[str] = mapped_column(String(32))
    unit_name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(8))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FrozenRecord(RuntimeError):
    pass


def _refuse(_mapper: Mapper[Any], _conn: Any, target: CostEntry | CostPublication) -> None:
    raise FrozenRecord(f"{type(target).__name__} {target.id} is booked: correct it by a reversing entry")


for _table in (CostEntry, CostPublication):
    event.listen(_table, "before_update", _refuse)
    event.listen(_table, "before_delete", _refuse)
