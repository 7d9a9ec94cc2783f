"""Rating periods (评定周期): a calendar month, quarter or half-year of the city's days, named as the command
line and the API name it (``2026-11``, ``2026-Q4``, ``2026-H2``).

Pure: the standard library only. A period is ``[start, end)`` in local dates; the service turns them into
instants on the city's time zone. ``months`` is the number of calendar months it spans (1, 3 or 6): the
monthly rates (entrapments, complaints per 100 elevators a month) divide by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["Period", "PeriodKind", "closed_before", "parse_period"]


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"


_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.HALF_YEAR: 6}
_PATTERN = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12]))$")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    """One rating period: its kind, its name and its local dates ``[start, end)``."""

    kind: PeriodKind
    label: str
    start: date
    end: date

    @property
    def months(self) -> int:
        return _MONTHS[self.kind]


def _of(kind: PeriodKind, year: int, first_month: int) -> Period:
    start = date(year, first_month, 1)
    if kind is PeriodKind.MONTH:
        label = f"{year}-{first_month:02d}"
    elif kind is PeriodKind.QUARTER:
        label = f"{year}-Q{(first_month - 1) // 3 + 1}"
    else:
        label = f"{year}-H{(first_month - 1) // 6 + 1}"
    return Period(kind, label, start, _add_months(start, _MONTHS[kind]))


def parse_period(text: str) -> Period:
    """``2026-11`` (a month), ``2026-Q4`` (a quarter) or ``2026-H2`` (a half-year); ValueError otherwise."""
    m = _PATTERN.match(text.strip().upper())
    if m is None:
        raise ValueError(f"period '{text}': expected YYYY-MM, YYYY-Q1..Q4 or YYYY-H1..H2")
    year = int(m.group(1))
    if m.group(2):
        return _of(PeriodKind.MONTH, year, int(m.group(2)))
    if m.group(3):
        return _of(PeriodKind.QUARTER, year, (int(m.group(3)) - 1) * 3 + 1)
    return _of(PeriodKind.HALF_YEAR, year, (int(m.group(4)) - 1) * 6 + 1)


def closed_before(kind: PeriodKind, today: date) -> Period:
    """The last period of ``kind`` that ended on or before ``today`` (the one a scheduled run rates)."""
    size = _MONTHS[kind]
    current_first = ((today.month - 1) // size) * size + 1
    start = _add_months(date(today.year, current_first, 1), -size)
    return _of(kind, start.year, start.month)
