"""API shapes of elevators under focused supervision: a safety assessment (安全评估) in and out, its
decision, an elevator's assessment status, the 15-year list, and a three-no measure (三无电梯措施)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.assessment.domain import AssessmentResult, Decision, MeasureKind, ThreeNoStatus
from liftwatch.core.types import SingleLine, Text

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)
_MIN_DATE, _MAX_DATE = date(1950, 1, 1), date(2199, 12, 31)


class AssessmentIn(BaseModel):
    model_config = _IN

    request_key: SingleLine = Field(
        min_length=1, max_length=120, description="the record's idempotency key: sent again, one record"
    )
    assessor: SingleLine = Field(min_length=1, max_length=200, description="the body that assessed")
    assessor_unit: SingleLine = Field(default="", max_length=32, description="its unit code, if registered")
    assessed_on: date = Field(ge=_MIN_DATE, le=_MAX_DATE)
    result: AssessmentResult
    findings: Text = Field(default="", max_length=4000)
    decision: Decision = Decision.NONE
    decision_on: date | None = Field(default=None, ge=_MIN_DATE, le=_MAX_DATE)
    open_hazard: bool = Field(
        default=False, description="open a hidden danger for a result that calls for work (once)"
    )


class DecisionIn(BaseModel):
    model_config = _IN

    decision: Decision
    decision_on: date | None = Field(default=None, ge=_MIN_DATE, le=_MAX_DATE)


class AssessmentOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    assessor: str
    assessor_unit: str
    assessed_on: date
    result: str
    findings: str
    decision: str
    decision_on: date | None
    hazard_id: int | None
    recorded_by: str
    recorded_at: datetime


class RecordedOut(BaseModel):
    created: bool
    assessment: AssessmentOut


class HazardOpenedOut(BaseModel):
    created: bool
    hazard_id: int
    assessment: AssessmentOut


class DueOut(BaseModel):
    model_config = _OUT

    status: str
    due_on: date | None
    overdue_on: date | None
    last_assessed: date | None


class MeasureIn(BaseModel):
    model_config = _IN

    request_key: SingleLine = Field(min_length=1, max_length=120)
    kind: MeasureKind
    taken_on: date = Field(ge=_MIN_DATE, le=_MAX_DATE)
    taken_by: SingleLine = Field(min_length=1, max_length=200, description="who took it (a street office)")
    note: Text = Field(default="", max_length=2000)
    status: ThreeNoStatus | None = Field(default=None, description="default: in_progress")


class MeasureOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    kind: str
    taken_on: date
    taken_by: str
    note: str
    status: str
    recorded_by: str
    recorded_at: datetime


class MeasureRecordedOut(BaseModel):
    created: bool
    measure: MeasureOut


class ElevatorSupervisionOut(BaseModel):
    """An elevator's assessment status with its assessments and three-no measures, newest first."""

    registration_code: str
    due: DueOut
    three_no_status: str
    assessments: list[AssessmentOut]
    measures: list[MeasureOut]


class OldRowOut(BaseModel):
    registration_code: str
    district: str
    place_type: str
    use_unit: str
    started: date | None
    age: int | None
    due: DueOut
    latest: AssessmentOut | None
