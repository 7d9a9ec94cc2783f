"""Cost disclosure (费用公开), the pure part: entry kinds and their signs, half-year periods, the proration of
a maintenance contract's yearly price over a half-year, and the summary a publication freezes.

Amounts are integer fen (分, 1 yuan = 100 fen) and *signed as the ledger sees them*: income is positive,
an expense is negative. A user types a positive amount; the kind gives the sign (:func:`signed`). A
reversing entry carries the negated amount of the entry it reverses, under the same kind, so every total
below is a plain sum and a reversed entry nets to zero.

No database, no web: the service and the pages hand plain values in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any


class EntryKind(StrEnum):
    MAINTENANCE_FEE = "maintenance_fee"  # 维保费: a maintenance contract's share of the half-year
    REPAIR = "repair"  # 维修及配件: a repair or parts, from a work order or a receipt
    ADVERTISING_INCOME = "advertising_income"  # 轿厢广告收益
    OTHER_INCOME = "other_income"  # 其他收入
    OTHER_EXPENSE = "other_expense"  # 其他支出


class AdvertisingUse(StrEnum):
    """What the advertising income of the cars went to, as the use unit declares it when it publishes (a
    choice, not free text: the public page carries no person's name)."""

    REPAIR_FUND = "repair_fund"  # 补充专项维修资金
    ELEVATOR_COSTS = "elevator_costs"  # 用于电梯维保维修
    COMMON_EXPENSES = "common_expenses"  # 用于小区公共支出
    OWNERS = "owners"  # 按业主大会决定分配
    NONE = "none"  # 本期无广告收益


INCOME = frozenset({EntryKind.ADVERTISING_INCOME, EntryKind.OTHER_INCOME})
EXPENSE = frozenset({EntryKind.MAINTENANCE_FEE, EntryKind.REPAIR, EntryKind.OTHER_EXPENSE})
#: What counts as an elevator's maintenance cost on the public page: its contract fees and its repairs.
MAINTENANCE_COST = frozenset({EntryKind.MAINTENANCE_FEE, EntryKind.REPAIR})


def signed(kind: EntryKind, amount_fen: int) -> int:
    """The ledger amount of a positive ``amount_fen`` typed for ``kind``: income +, expense -."""
    if amount_fen <= 0:
        raise ValueError("an amount is typed as a positive number of fen")
    return amount_fen if kind in INCOME else -amount_fen


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no float): 123456 -> '1234.56', -5 -> '-0.05'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


_YUAN = re.compile(r"^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$")


def parse_yuan(text: str) -> int:
    """A positive amount typed in yuan (at most two decimals) as fen: '1234.5' -> 123450. ValueError else."""
    m = _YUAN.match(text.replace(",", "").replace("，", ""))
    if not m:
        raise ValueError(f"not an amount in yuan: {text!r}")
    fen = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if fen <= 0:
        raise ValueError("an amount must be more than zero")
    return fen


# ---------------------------------------------------------------- half-years

_PERIOD = re.compile(r"^(\d{4})-H([12])$")


@dataclass(frozen=True, order=True)
class HalfYear:
    """A half-year: H1 is 1 January to 30 June, H2 1 July to 31 December (both inclusive)."""

    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        m = _PERIOD.match(text.strip().upper())
        if not m or not 2000 <= int(m.group(1)) <= 2199:
            raise ValueError(f"not a half-year: {text!r} (expected e.g. 2026-H2)")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> HalfYear:
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def next(self) -> HalfYear:
        return HalfYear(self.year, 2) if self.half == 1 else HalfYear(self.year + 1, 1)

    def previous(self) -> HalfYear:
        return HalfYear(self.year, 1) if self.half == 2 else HalfYear(self.year - 1, 2)

    def __str__(self) -> str:
        return f"{self.year}-H{self.half}"


def last_due(today: date, due_days: int) -> HalfYear | None:
    """The latest half-year whose publication is due by ``today``: it ended more than ``due_days`` days ago.
    E.g. with 30 days, 2026-H1 (ended 30 June) is due from 31 July on."""
    period = HalfYear.of(today).previous()
    while period.last_day + timedelta(days=due_days) >= today:
        period = period.previous()
        if period.year < 2000:
            return None
    return period


# ---------------------------------------------------------------- contract fees


def _days_in_year(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _covered(start: date, end: date, first: date, last: date) -> int:
    """Days of [start, end] within [first, last] (all inclusive)."""
    lo, hi = max(start, first), min(end, last)
    return max(0, (hi - lo).days + 1)


def contract_share(price_per_year_fen: int, start: date, end: date, period: HalfYear) -> int:
    """The share of a contract's yearly price falling in ``period``, prorated by days over the calendar year.

    With P the yearly price, D the days of the period's year (365 or 366) and c(d) the contract's days from
    1 January to day d, the share is round(P * c(last) / D) - round(P * c(first - 1) / D): cumulative
    rounding (half up), so the two halves of a year always add up to round(P * contract days / D) and a
    contract over a whole calendar year costs exactly P. Worked in tests/unit/costs/test_domain.py and
    docs/COSTS.md."""
    if price_per_year_fen < 0:
        raise ValueError("a contract price is not negative")
    jan1 = date(period.year, 1, 1)
    days = _days_in_year(period.year)
    before = _covered(start, end, jan1, period.first_day - timedelta(days=1)) if period.half == 2 else 0
    through = before + _covered(start, end, period.first_day, period.last_day)
    return _round_half_up(price_per_year_fen * through, days) - _round_half_up(
        price_per_year_fen * before, days
    )


# ---------------------------------------------------------------- the publication's summary


@dataclass(frozen=True)
class Line:
    """An entry as the summary needs it (the service's rows, reduced)."""

    kind: EntryKind
    amount_fen: int  # signed
    registration_code: str | None


@dataclass(frozen=True)
class Place:
    """A residential elevator as the publication names it: codes and where it is (no person)."""

    registration_code: str
    rescue_code: str
    address: str


@dataclass
class ElevatorCost:
    registration_code: str
    rescue_code: str
    address: str
    fee_fen: int = 0  # maintenance fees, as a positive cost
    repair_fen: int = 0  # repairs and parts, as a positive cost
    advertising_fen: int = 0  # advertising income of its car

    @property
    def maintenance_fen(self) -> int:
        return self.fee_fen + self.repair_fen


@dataclass
class Summary:
    """A half-year of one ledger: signed totals by kind, income, expense (positive), the balance, the
    maintenance cost and advertising income per elevator, and the other costs (other expenses and costs
    on no one elevator)."""

    totals: dict[str, int] = field(default_factory=dict)
    income_fen: int = 0
    expense_fen: int = 0
    balance_fen: int = 0
    advertising_fen: int = 0
    other_cost_fen: int = 0
    entries: int = 0
    elevators: list[ElevatorCost] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "totals": dict(self.totals),
            "income_fen": self.income_fen,
            "expense_fen": self.expense_fen,
            "balance_fen": self.balance_fen,
            "advertising_fen": self.advertising_fen,
            "other_cost_fen": self.other_cost_fen,
            "entries": self.entries,
            "elevators": [
                {
                    "registration_code": e.registration_code,
                    "rescue_code": e.rescue_code,
                    "address": e.address,
                    "fee_fen": e.fee_fen,
                    "repair_fen": e.repair_fen,
                    "maintenance_fen": e.maintenance_fen,
                    "advertising_fen": e.advertising_fen,
                }
                for e in self.elevators
            ],
        }


def summarise(lines: Iterable[Line], places: Iterable[Place]) -> Summary:
    """Add up a half-year's lines. Every place gets a row (a residential elevator with no cost shows 0);
    a line on an elevator not among ``places`` counts in the totals and in the unit-wide cost."""
    out = Summary(totals={k.value: 0 for k in EntryKind})
    rows = {p.registration_code: ElevatorCost(p.registration_code, p.rescue_code, p.address) for p in places}
    for line in lines:
        out.entries += 1
        out.totals[line.kind.value] += line.amount_fen
        row = rows.get(line.registration_code or "")
        if line.kind in INCOME:
            out.income_fen += line.amount_fen
        else:
            out.expense_fen -= line.amount_fen
        if line.kind is EntryKind.ADVERTISING_INCOME:
            out.advertising_fen += line.amount_fen
            if row is not None:
                row.advertising_fen += line.amount_fen
        elif line.kind is EntryKind.MAINTENANCE_FEE and row is not None:
            row.fee_fen -= line.amount_fen
        elif line.kind is EntryKind.REPAIR and row is not None:
            row.repair_fen -= line.amount_fen
        elif line.kind in EXPENSE:
            out.other_cost_fen -= line.amount_fen
    out.balance_fen = out.income_fen - out.expense_fen
    out.elevators = sorted(rows.values(), key=lambda e: e.registration_code)
    return out
