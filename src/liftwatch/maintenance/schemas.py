"""API shapes for maintenance: contracts, work orders and their steps, records and photos."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.core.types import DB_INT_MAX, SingleLine, Text
from liftwatch.maintenance.domain import Interval, MaintenanceModel
from liftwatch.maintenance.workflow import ItemResult, WorkOrderKind, WorkOrderSource

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)
# a date the database stores and people mean: not year 1 nor year 9999
_MIN_DATE, _MAX_DATE = date(2000, 1, 1), date(2199, 12, 31)


class ContractIn(BaseModel):
    model_config = _IN

    registration_code: SingleLine = Field(min_length=1, max_length=40)
    unit_code: SingleLine = Field(min_length=1, max_length=32, description="the maintenance unit's code")
    start_date: date = Field(ge=_MIN_DATE, le=_MAX_DATE)
    end_date: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="the last valid day")
    model: MaintenanceModel = MaintenanceModel.TRADITIONAL
    price_fen: int = Field(default=0, ge=0, le=DB_INT_MAX, description="price per year in fen (分)")
    responsible: SingleLine = Field(
        default="", max_length=64, description="the responsible worker's username"
    )


class ContractEndIn(BaseModel):
    model_config = _IN

    on: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="the contract's last valid day")
    reason: Text = Field(min_length=1, max_length=2000)


class ContractOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    unit_code: str
    start_date: date
    end_date: date
    model: str
    price_fen: int
    responsible: str
    created_at: datetime
    created_by: str
    ended_at: datetime | None
    ended_by: str
    end_reason: str


class WithoutContractOut(BaseModel):
    on: date
    count: int
    registration_codes: list[str]


class WorkOrderIn(BaseModel):
    """A corrective work order (source: fault, rescue, inspection, complaint, hazard, manual) or a planned
    visit (kind preventive: planned_date and interval)."""

    model_config = _IN

    code: SingleLine = Field(min_length=3, max_length=40, description="registration code or rescue code")
    kind: WorkOrderKind = WorkOrderKind.CORRECTIVE
    source: WorkOrderSource = WorkOrderSource.MANUAL
    source_ref: SingleLine | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="what it comes from: one work order per reference",
    )
    summary: Text = Field(default="", max_length=2000)
    urgent: bool = False
    planned_date: date | None = Field(default=None, ge=_MIN_DATE, le=_MAX_DATE)
    interval: Interval | None = None


class WorkOrderOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    unit_code: str
    kind: str
    source: str
    source_ref: str | None
    interval: str | None
    summary: str
    urgent: bool
    state: str
    assignee: str
    planned_date: date | None
    due_at: datetime
    created_at: datetime
    created_by: str
    assigned_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    overdue_at: datetime | None
    escalated_at: datetime | None


class OpenResult(BaseModel):
    created: bool
    work_order: WorkOrderOut


class ItemIn(BaseModel):
    model_config = _IN

    code: SingleLine = Field(min_length=1, max_length=20, description='a catalogue item, e.g. "A1-01"')
    result: ItemResult
    value: float | None = Field(
        default=None, ge=-1e9, le=1e9, description="the measurement, when the item has one"
    )
    note: Text = Field(default="", max_length=500)


class PartIn(BaseModel):
    model_config = _IN

    name: SingleLine = Field(min_length=1, max_length=120)
    quantity: int = Field(default=1, ge=1, le=10_000)
    note: Text = Field(default="", max_length=500)


class AssignIn(BaseModel):
    model_config = _IN

    assignee: SingleLine = Field(min_length=1, max_length=64, description="a worker of the order's unit")


class CheckInIn(BaseModel):
    model_config = _IN

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    scanned_code: SingleLine = Field(min_length=1, max_length=40, description="the code scanned in the car")
    at: datetime | None = Field(default=None, description="when, if not now (offline capture)")


class CheckOutIn(BaseModel):
    model_config = _IN

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    at: datetime | None = None


class ResultsIn(BaseModel):
    model_config = _IN

    items: list[ItemIn] = Field(default_factory=list, max_length=200)
    parts: list[PartIn] = Field(default_factory=list, max_length=100)


class AmendIn(ResultsIn):
    reason: Text = Field(min_length=1, max_length=2000)


class ConfirmIn(BaseModel):
    model_config = _IN

    note: Text = Field(default="", max_length=2000)


class CancelIn(BaseModel):
    model_config = _IN

    reason: Text = Field(min_length=1, max_length=2000)


class RecordOut(BaseModel):
    model_config = _OUT

    id: int
    work_order_id: int
    amends_id: int | None
    amend_reason: str
    worker: str
    check_in_at: datetime
    check_in_lat: float
    check_in_lon: float
    scanned_code: str
    check_out_at: datetime | None
    check_out_lat: float | None
    check_out_lon: float | None
    items: list[dict[str, Any]]
    parts: list[dict[str, Any]]
    worker_signed_at: datetime | None
    unit_signed_at: datetime | None
    unit_signed_by: str
    unit_note: str


class EventOut(BaseModel):
    model_config = _OUT

    at: datetime
    actor: str
    kind: str
    details: dict[str, Any]


class AttachmentOut(BaseModel):
    model_config = _OUT

    id: int
    work_order_id: int
    record_id: int | None
    content_type: str
    size: int
    sha256: str
    filename: str
    uploaded_by: str
    uploaded_at: datetime


class WorkOrderDetail(BaseModel):
    work_order: WorkOrderOut
    records: list[RecordOut]
    events: list[EventOut]
    attachments: list[AttachmentOut]


class FlagOut(BaseModel):
    """A sign of fake maintenance on a signed record (docs/MAINTENANCE.md, "Reviewing flags")."""

    model_config = _OUT

    id: int
    work_order_id: int
    record_id: int
    registration_code: str
    unit_code: str
    worker: str
    kind: str
    evidence: dict[str, Any]
    state: str
    created_at: datetime
    reviewer: str
    note: str
    reviewed_at: datetime | None


class FlagReviewIn(BaseModel):
    model_config = _IN

    decision: Literal["confirmed", "dismissed"]
    note: Text = Field(min_length=1, max_length=2000, description="why: required either way")
