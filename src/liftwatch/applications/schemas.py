"""API shapes of applications: one as submitted (its kind's fields in ``form``), as read with its reviews
and trail, a department's decision, the start of construction, the acceptance, the registration, and the
public progress of additions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.applications.domain import Decision, Department, Kind, Stage
from liftwatch.core.types import SingleLine, Text

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)


class ApplicationIn(BaseModel):
    model_config = _IN

    kind: Kind
    title: SingleLine = Field(min_length=1, max_length=200)
    registration_code: SingleLine = Field(default="", max_length=40, description="the elevator it is about")
    applicant_unit: SingleLine = Field(default="", max_length=32, description="admins: the applying unit")
    district: SingleLine = Field(default="", max_length=64, description="an addition's or new elevator's")
    address: SingleLine = Field(default="", max_length=255)
    form: dict[str, Any] = Field(
        default_factory=dict,
        description="the kind's fields (docs/APPLICATIONS.md): an addition's households, "
        "households_consenting, area_m2, area_consenting_m2, floors, funding, budget_yuan, subsidy_yuan; ...",
    )


class DecisionIn(BaseModel):
    model_config = _IN

    department: Department
    decision: Decision
    note: Text = Field(default="", max_length=2000, description="required for a rejection")
    registration_code: SingleLine = Field(default="", max_length=40, description="a use registration's")


class ConstructionIn(BaseModel):
    model_config = _IN

    started_on: date


class AcceptanceIn(BaseModel):
    model_config = _IN

    report: SingleLine = Field(min_length=1, max_length=64, description="the inspection report's number")
    passed: bool


class RegistrationIn(BaseModel):
    model_config = _IN

    registration_code: SingleLine = Field(min_length=1, max_length=40)
    maintenance_unit: SingleLine = Field(default="", max_length=32)


class ReviewOut(BaseModel):
    model_config = _OUT

    department: Department
    due_at: datetime
    decision: Decision | None
    note: str
    decided_at: datetime | None
    decided_by: str
    late_at: datetime | None


class EventOut(BaseModel):
    model_config = _OUT

    at: datetime
    actor: str
    kind: str
    details: dict[str, Any]


class ApplicationOut(BaseModel):
    model_config = _OUT

    id: int
    reference: str
    kind: Kind
    stage: Stage
    title: str
    applicant_unit: str
    applicant: str
    registration_code: str
    district: str
    address: str
    form: dict[str, Any]
    submitted_at: datetime
    decided_at: datetime | None
    completed_at: datetime | None


class ApplicationViewOut(BaseModel):
    application: ApplicationOut
    reviews: list[ReviewOut]
    events: list[EventOut]
    late: int = Field(description="reviews past their deadline undecided")


class DistrictProgressOut(BaseModel):
    district: str
    by_stage: dict[str, int]
    total: int


class PublicAdditionOut(BaseModel):
    model_config = _OUT

    reference: str
    district: str
    address: str
    stage: Stage
    submitted_at: datetime
    completed_at: datetime | None


class PublicProgressOut(BaseModel):
    districts: list[DistrictProgressOut]
    buildings: list[PublicAdditionOut]
