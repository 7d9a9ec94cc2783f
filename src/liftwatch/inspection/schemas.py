"""API shapes for inspection: scheduling, results with non-conformities, signing, re-inspection, the overdue
list and the first-attempt pass rate."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.core.types import SingleLine, Text
from liftwatch.inspection.domain import Conclusion, Severity

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)
_MIN_DATE, _MAX_DATE = date(2000, 1, 1), date(2199, 12, 31)


class ScheduleIn(BaseModel):
    model_config = _IN

    code: SingleLine = Field(min_length=1, max_length=40, description="registration or rescue code")
    body_unit_code: SingleLine = Field(min_length=1, max_length=32, description="the inspection body")
    inspector: SingleLine = Field(min_length=1, max_length=64, description="the inspector's username")
    scheduled_date: date | None = Field(
        default=None, ge=_MIN_DATE, le=_MAX_DATE, description="default: the due date by the rule"
    )


class ReInspectionIn(BaseModel):
    model_config = _IN

    scheduled_date: date = Field(ge=_MIN_DATE, le=_MAX_DATE)


class FindingIn(BaseModel):
    model_config = _IN

    text: Text = Field(min_length=1, max_length=2000)
    severity: Severity = Severity.MINOR
    rectify_by: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="the rectification deadline")
    item: SingleLine = Field(default="", max_length=64, description="the inspection item it concerns")


class ResultIn(BaseModel):
    model_config = _IN

    performed_at: datetime
    conclusion: Conclusion
    report_number: SingleLine = Field(min_length=1, max_length=64)
    nonconformities: list[FindingIn] = Field(default_factory=list, max_length=200)


class NonconformityOut(BaseModel):
    model_config = _OUT

    item_no: int
    item: str
    text: str
    severity: str
    rectify_by: date
    work_order_id: int | None


class InspectionOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    unit_code: str
    kind: str
    body_unit_code: str
    inspector: str
    scheduled_date: date
    due_date: date
    original_id: int | None
    performed_at: datetime | None
    conclusion: str | None
    report_number: str
    signed_at: datetime | None
    created_at: datetime
    created_by: str


class InspectionDetail(BaseModel):
    inspection: InspectionOut
    nonconformities: list[NonconformityOut]


class ScheduledOut(BaseModel):
    created: bool
    inspection: InspectionOut


class SignedOut(BaseModel):
    inspection: InspectionOut
    work_order_ids: list[int]
    next_inspection: InspectionOut | None


class OverdueOut(BaseModel):
    model_config = _OUT

    registration_code: str
    inspection_id: int
    due_date: date
    days_overdue: int


class PassRateOut(BaseModel):
    start: date
    end: date
    passed: int
    concluded: int
    rate: float | None = Field(description="passed at the first attempt ÷ periodic inspections concluded")


class SelfTestIn(BaseModel):
    model_config = _IN

    code: SingleLine = Field(min_length=1, max_length=40, description="registration or rescue code")
    tested_on: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="the day of the self-test")
    conclusion: Conclusion
    tester: SingleLine = Field(min_length=1, max_length=64, description="the maintenance unit's tester")
    notes: Text = Field(default="", max_length=2000)


class SelfTestOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    unit_code: str
    tested_on: date
    conclusion: str
    tester: str
    notes: str
    recorded_by: str
    recorded_at: datetime


class DueOut(BaseModel):
    due: date
    interval_years: int
    age_years: int | None
    self_tests: list[date] = Field(description="self-tests due before it (reform schedule)")


class ElevatorInspectionsOut(BaseModel):
    registration_code: str
    due: DueOut
    inspections: list[InspectionOut]
    self_tests: list[SelfTestOut]
