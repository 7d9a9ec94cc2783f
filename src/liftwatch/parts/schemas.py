"""API shapes for main parts (主要部件) and recalls (召回): a part as recorded and as read with its wear, a
replacement, a recall as issued with the elevators it reaches and where each one's rectification stands."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.core.types import SingleLine, Text
from liftwatch.parts.domain import PartKind, Wear
from liftwatch.parts.service import CYCLES_MAX, YEARS_MAX

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)


class PartIn(BaseModel):
    model_config = _IN

    kind: PartKind
    manufacturer: SingleLine = Field(min_length=1, max_length=100)
    model: SingleLine = Field(min_length=1, max_length=64)
    serial: SingleLine = Field(
        min_length=1, max_length=64, description="the maker's serial number (出厂编号)"
    )
    installed_on: date = Field(ge=date(1950, 1, 1), description="the day it went in (not after today)")
    design_life_years: int | None = Field(default=None, ge=1, le=YEARS_MAX, description="设计使用年限")
    design_life_cycles: int | None = Field(
        default=None, ge=1, le=CYCLES_MAX, description="design life in cycles (trips; door cycles for doors)"
    )
    counter_at_install: int | None = Field(
        default=None,
        ge=0,
        le=CYCLES_MAX,
        description="the terminal's counter that day, when known (else taken from the terminal or estimated)",
    )
    note: Text = Field(default="", max_length=500)


class ReplaceIn(PartIn):
    reason: Text = Field(min_length=1, max_length=500, description="why the part it replaces came out")


class CyclesOut(BaseModel):
    used: int
    estimated: bool = Field(
        description="interpolated from the terminal's readings: no counter at installation"
    )
    since: date


class PartOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    kind: PartKind
    manufacturer: str
    model: str
    serial: str
    installed_on: date
    design_life_years: int | None
    design_life_cycles: int | None
    end_of_life_on: date | None
    counter_at_install: int | None
    note: str
    removed_on: date | None
    removed_reason: str
    replaced_by_id: int | None
    created_by: str
    created_at: datetime


class PartViewOut(BaseModel):
    part: PartOut
    current: bool
    wear: Wear
    years_share: float | None = Field(description="share of the design life in years used (1 = reached)")
    cycles_share: float | None
    cycles: CyclesOut | None


class RecordedOut(BaseModel):
    part: PartOut
    recalls: list[int] = Field(description="the recalls this part was found in as it was recorded")


class WornPartOut(PartViewOut):
    district: str


class WornListOut(BaseModel):
    parts: list[WornPartOut]
    truncated: bool = Field(description="more parts matched than listed: narrow by district or kind")


class RecallIn(BaseModel):
    model_config = _IN

    reference: SingleLine = Field(
        min_length=1, max_length=64, description="the recall's own number; idempotency key"
    )
    kind: PartKind
    manufacturer: SingleLine = Field(min_length=1, max_length=100)
    model: SingleLine = Field(min_length=1, max_length=64)
    serial_first: SingleLine = Field(min_length=1, max_length=64)
    serial_last: SingleLine = Field(min_length=1, max_length=64)
    reason: Text = Field(min_length=1, max_length=2000)
    remedy: Text = Field(default="", max_length=2000)
    due_on: date = Field(description="rectification due by the end of this day (city clock), after today")


class AffectedOut(BaseModel):
    registration_code: str
    part_id: int
    serial: str


class PreviewOut(BaseModel):
    affected: list[AffectedOut]


class RecallOut(BaseModel):
    model_config = _OUT

    id: int
    reference: str
    kind: PartKind
    manufacturer: str
    model: str
    serial_first: str
    serial_last: str
    reason: str
    remedy: str
    due_on: date
    created_at: datetime
    created_by: str


class RecallItemOut(BaseModel):
    registration_code: str
    part_id: int
    serial: str
    work_order_id: int | None
    work_order_state: str | None
    status: str = Field(description="open, overdue, done, cancelled or no_order")
    problem: str = Field(description="why no work order could be opened")


class ProgressOut(BaseModel):
    total: int
    done: int
    overdue: int
    without_order: int
    complete: bool


class RecallViewOut(BaseModel):
    recall: RecallOut
    progress: ProgressOut
    items: list[RecallItemOut]
