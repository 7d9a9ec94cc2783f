"""The city's figures rolled up per settled month (月度汇总): one row per month and cell of elevators.

A cell is the elevators that share a district, street, place type, maintenance unit and age band; its row
holds the month's additive counts: the elevators in use and monitored when the month was rolled up, the
faults, complaints and inspection results, and the numerators and denominators of the rescue formulas
(``rescue.kpis.compute_kpis`` judged each incident). Any dimension's figures of any settled month, for the
city or for one maintenance unit, are then one SUM ... GROUP BY over a few thousand rows instead of a year
of events joined to 300,000 elevators. ``service`` builds a month's rows the first time it is read after
the month settled and rebuilds them while late data may still arrive (docs/ANALYTICS.md, "Roll-up").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class _CountColumns:
    """The month's additive counts, of one cell or of the whole city (the same columns)."""

    elevators: Mapped[int] = mapped_column(Integer, default=0)  # in use when the month was rolled up
    monitored: Mapped[int] = mapped_column(Integer, default=0)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    inspections_passed: Mapped[int] = mapped_column(Integer, default=0)
    inspections_concluded: Mapped[int] = mapped_column(Integer, default=0)
    rescues: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_judged: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    arrival_judged: Mapped[int] = mapped_column(Integer, default=0)
    arrival_us: Mapped[int] = mapped_column(BigInteger, default=0)  # summed alarm-to-arrival time
    arrivals: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    success_judged: Mapped[int] = mapped_column(Integer, default=0)


class AnalyticsMonth(_CountColumns, Base):
    """A rolled-up month: when its cells were computed, how many, and the city's totals (the sum of its
    cells), so that the city's trend reads one row a month."""

    __tablename__ = "analytics_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # local calendar month, YYYY-MM
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cells: Mapped[int] = mapped_column(Integer)


class AnalyticsCell(_CountColumns, Base):
    """One month's counts for one cell of elevators (module docstring); every count is additive."""

    __tablename__ = "analytics_cells"
    __table_args__ = (
        UniqueConstraint(
            "month",
            "district",
            "street",
            "place_type",
            "maintenance_unit",
            "age_band",
            name="uq_analytics_cells",
        ),
        Index("ix_analytics_cells_unit", "maintenance_unit", "month"),  # a maintenance unit's figures
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    district: Mapped[str] = mapped_column(String(64))
    street: Mapped[str] = mapped_column(String(64))
    place_type: Mapped[str] = mapped_column(String(32))
    maintenance_unit: Mapped[str] = mapped_column(String(64))  # the unit's code, "" for none
    age_band: Mapped[str] = mapped_column(String(16))
