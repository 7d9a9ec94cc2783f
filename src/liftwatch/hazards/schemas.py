"""API shapes for hazards (隐患): the report, the deadline, the evidence of a fix, the regulator's verdict,
a hazard with its trail, the public list of supervised rectifications (no person, no free text), and the
emergency use of the repair fund (request, decision, disbursement, completion, ledger, the city's list)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.core.types import SingleLine, Text
from liftwatch.hazards.fund import MAX_AMOUNT_FEN, Applicant
from liftwatch.hazards.workflow import HazardLevel, HazardSource

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)
_MIN_DATE, _MAX_DATE = date(2000, 1, 1), date(2199, 12, 31)


class ReportIn(BaseModel):
    model_config = _IN

    code: SingleLine = Field(min_length=1, max_length=40, description="registration or rescue code")
    source: HazardSource
    source_ref: SingleLine = Field(
        min_length=1,
        max_length=120,
        description="the finding, complaint or check it comes from (idempotency)",
    )
    level: HazardLevel = HazardLevel.GENERAL
    description: Text = Field(min_length=1, max_length=2000)
    responsible_unit: SingleLine | None = Field(
        default=None, max_length=32, description="default: the elevator's use unit"
    )
    deadline: date | None = Field(
        default=None, ge=_MIN_DATE, le=_MAX_DATE, description="regulators only; default: by level"
    )


class DeadlineIn(BaseModel):
    model_config = _IN

    deadline: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="the last day of the rectification")


class EvidenceIn(BaseModel):
    model_config = _IN

    text: Text = Field(min_length=1, max_length=4000, description="what was done to fix it")
    attachment_id: int | None = Field(
        default=None, ge=1, description="a photo of the hazard's work order (maintenance attachments)"
    )


class NoteIn(BaseModel):
    model_config = _IN

    note: Text = Field(default="", max_length=2000)


class ReasonIn(BaseModel):
    model_config = _IN

    reason: Text = Field(min_length=1, max_length=2000)


class HazardOut(BaseModel):
    model_config = _OUT

    id: int
    registration_code: str
    source: str
    source_ref: str
    level: str
    description: str
    responsible_unit: str
    deadline: datetime
    deadline_set_by: str
    state: str
    overdue: bool = False
    supervised: bool
    supervised_at: datetime | None
    overdue_at: datetime | None
    escalated_at: datetime | None
    work_order_id: int | None
    reported_by: str
    reported_at: datetime
    rectified_at: datetime | None
    verified_at: datetime | None
    verified_by: str
    closed_at: datetime | None
    close_reason: str


class ReportedOut(BaseModel):
    created: bool
    hazard: HazardOut


class EventOut(BaseModel):
    model_config = _OUT

    at: datetime
    actor: str
    kind: str
    details: dict[str, Any]


class EvidenceOut(BaseModel):
    model_config = _OUT

    id: int
    text: str
    attachment_id: int | None
    submitted_by: str
    submitted_at: datetime
    decision: str
    decided_by: str
    decided_at: datetime | None
    note: str


class HazardDetail(BaseModel):
    hazard: HazardOut
    events: list[EventOut]
    evidence: list[EvidenceOut]


class WorkOrderOpened(BaseModel):
    created: bool
    work_order_id: int
    hazard: HazardOut


class SupervisedOut(BaseModel):
    model_config = _OUT

    hazard_id: int
    registration_code: str
    district: str
    street: str
    responsible_unit: str
    level: str
    state: str
    deadline: datetime
    supervised_at: datetime | None
    overdue: bool


# ---------------------------------------------------------------- the repair fund


class FundRequestIn(BaseModel):
    model_config = _IN

    request_key: SingleLine = Field(
        min_length=1, max_length=120, description="the request's idempotency key: sent again, one request"
    )
    applicant: Applicant = Applicant.USE_UNIT
    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN, description="the amount asked for, in fen (分)")
    quote: Text = Field(min_length=1, max_length=2000, description="the contractor's quote (报价)")
    purpose: Text = Field(min_length=1, max_length=2000, description="what the money fixes")


class FundApproveIn(BaseModel):
    model_config = _IN

    approved_fen: int | None = Field(
        default=None, ge=1, le=MAX_AMOUNT_FEN, description="default: the amount asked for; never more"
    )
    note: Text = Field(default="", max_length=2000)


class FundRefuseIn(BaseModel):
    model_config = _IN

    reason: Text = Field(min_length=1, max_length=2000)


class FundPaymentIn(BaseModel):
    model_config = _IN

    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN)
    paid_on: date = Field(ge=_MIN_DATE, le=_MAX_DATE)
    voucher: SingleLine = Field(
        min_length=1, max_length=64, description="the payment's voucher number (凭证号): recorded once"
    )
    note: Text = Field(default="", max_length=2000)


class FundCompleteIn(BaseModel):
    model_config = _IN

    note: Text = Field(default="", max_length=2000)


class FundPaymentOut(BaseModel):
    model_config = _OUT

    id: int
    amount_fen: int
    paid_on: date
    voucher: str
    note: str
    recorded_by: str
    recorded_at: datetime


class FundRequestOut(BaseModel):
    model_config = _OUT

    id: int
    hazard_id: int
    request_key: str
    registration_code: str
    district: str
    use_unit: str
    applicant: str
    amount_fen: int
    quote: str
    purpose: str
    state: str
    requested_by: str
    requested_at: datetime
    approved_fen: int | None
    decided_by: str
    decided_at: datetime | None
    decision_note: str
    paid_fen: int
    completed_by: str
    completed_at: datetime | None
    completion_note: str


class FundLineOut(BaseModel):
    request: FundRequestOut
    payments: list[FundPaymentOut]


class FundRequestedOut(BaseModel):
    created: bool
    request: FundRequestOut


class FundPaidOut(BaseModel):
    created: bool
    payment: FundPaymentOut
    request: FundRequestOut


class DistrictTotalsOut(BaseModel):
    model_config = _OUT

    district: str
    requests: int
    requested_fen: int
    approved_fen: int
    paid_fen: int


class FundCityOut(BaseModel):
    requests: list[FundRequestOut]
    by_district: list[DistrictTotalsOut]
