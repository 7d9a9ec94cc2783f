"""API shapes for cost disclosure (费用公开): an entry as typed and as booked, a reversal, the half-year's
contract booking, its summary, a publication, the regulator's overview and the public read (no entry, no
note, no username). Amounts are integer fen: income positive, expenses negative as booked; the summary's
``expense_fen`` and the per-elevator costs are positive sums of expenses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from liftwatch.core.types import DB_INT_MAX, SingleLine, Text
from liftwatch.costs.domain import AdvertisingUse, EntryKind, HalfYear

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)


def _period(value: str) -> str:
    return str(HalfYear.parse(value))  # a ValueError is the field's 422


class EntryIn(BaseModel):
    model_config = _IN

    kind: EntryKind
    amount_fen: int = Field(gt=0, le=DB_INT_MAX, description="positive, in fen (分); the kind gives the sign")
    on: date = Field(ge=date(2000, 1, 1), description="the day of the cost or income (not after today)")
    elevator: SingleLine | None = Field(
        default=None, max_length=40, description="registration or rescue code; none: the whole unit"
    )
    work_order_id: int | None = Field(
        default=None, ge=1, le=DB_INT_MAX, description="the repair's work order (repairs only)"
    )
    receipt: SingleLine | None = Field(
        default=None, max_length=100, description="an external receipt or invoice number, when no work order"
    )
    note: Text = Field(default="", max_length=500)


class ReverseIn(BaseModel):
    model_config = _IN

    note: Text = Field(min_length=1, max_length=500, description="why the entry is reversed")


class PeriodIn(BaseModel):
    model_config = _IN

    period: SingleLine = Field(max_length=8, description="a half-year, e.g. 2026-H2")

    @field_validator("period")
    @classmethod
    def _half_year(cls, value: str) -> str:
        return _period(value)


class PublishIn(PeriodIn):
    advertising_use: AdvertisingUse = Field(description="what the advertising income went to")


class EntryOut(BaseModel):
    model_config = _OUT

    id: int
    use_unit: str
    kind: str
    registration_code: str | None
    residential: bool
    amount_fen: int
    on: date
    period: str
    source_ref: str
    note: str
    reverses_id: int | None
    recorded_by: str
    recorded_at: datetime


class BookedOut(BaseModel):
    created: bool
    entry: EntryOut


class ContractsBooked(BaseModel):
    period: str
    created: list[EntryOut]
    existing: int


class ElevatorCostOut(BaseModel):
    registration_code: str
    rescue_code: str
    address: str
    fee_fen: int
    repair_fen: int
    maintenance_fen: int
    advertising_fen: int


class SummaryOut(BaseModel):
    period: str
    totals: dict[str, int]
    income_fen: int
    expense_fen: int
    balance_fen: int
    advertising_fen: int
    other_cost_fen: int
    entries: int
    elevators: list[ElevatorCostOut]
    not_published_entries: int = Field(
        description="entries on non-residential elevators: kept, not published"
    )
    published_id: int | None


class PublicationOut(BaseModel):
    model_config = _OUT

    id: int
    use_unit: str
    unit_name: str
    period: str
    snapshot: dict[str, Any]
    published_by: str
    published_at: datetime


class PublishedOut(BaseModel):
    created: bool
    publication: PublicationOut


class OverviewRowOut(BaseModel):
    model_config = _OUT

    unit_code: str
    unit_name: str
    districts: list[str]
    residential: int
    published_at: datetime | None
    overdue: bool


class OverviewOut(BaseModel):
    period: str
    due_days: int
    units: list[OverviewRowOut]


class PublicPeriodOut(BaseModel):
    period: str
    published_at: datetime
    advertising_use: str
    income_fen: int
    expense_fen: int
    balance_fen: int
    advertising_fen: int
    other_cost_fen: int
    totals: dict[str, int]
    elevators: list[ElevatorCostOut]


class PublicLedgerOut(BaseModel):
    unit_name: str
    matched_code: str
    periods: list[PublicPeriodOut]
