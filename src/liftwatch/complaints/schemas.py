"""API shapes for complaints (投诉): intake, the moves (assign, answer, return, verify, close, the hazard a
founded one opens), a complaint with its trail, and the public status by receipt (no person, no text).

The complainant's name and phone appear only for the centre (admins, regulators, 96333/12345 operators),
masked in lists; for unit staff they are empty (``ComplaintOut.of``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.complaints.workflow import Category, Channel, Verdict
from liftwatch.core.types import SingleLine, Text
from liftwatch.hazards.workflow import HazardLevel

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)


class IntakeIn(BaseModel):
    model_config = _IN

    channel: Channel = Field(description="where it came in (the public page has its own form)")
    external_ref: SingleLine = Field(
        min_length=1, max_length=120, description="the channel's own reference, e.g. the 12345 work order"
    )
    category: Category
    text: Text = Field(min_length=1, max_length=4000)
    code: SingleLine | None = Field(
        default=None, max_length=40, description="the elevator's registration or rescue code"
    )
    unit: SingleLine | None = Field(default=None, max_length=32, description="the unit the complaint names")
    complainant_name: SingleLine = Field(default="", max_length=64)
    complainant_phone: SingleLine = Field(default="", max_length=32, pattern=r"^[0-9+\- ]*$")
    assign: bool = Field(default=True, description="pass it on at once to the responsible unit")


class AssignIn(BaseModel):
    model_config = _IN

    unit: SingleLine | None = Field(default=None, max_length=32, description="default: the rule's unit")


class AnswerIn(BaseModel):
    model_config = _IN

    answer: Text = Field(min_length=1, max_length=4000, description="what the unit found and did")


class NoteIn(BaseModel):
    model_config = _IN

    note: Text = Field(min_length=1, max_length=2000)


class VerifyIn(BaseModel):
    model_config = _IN

    verdict: Verdict
    note: Text = Field(min_length=1, max_length=2000)
    open_hazard: bool = Field(default=False, description="regulators: open a hidden danger (founded only)")
    hazard_level: HazardLevel = HazardLevel.GENERAL


class HazardIn(BaseModel):
    model_config = _IN

    level: HazardLevel = HazardLevel.GENERAL


class ReasonIn(BaseModel):
    model_config = _IN

    reason: Text = Field(default="", max_length=2000)


class ComplaintOut(BaseModel):
    id: int
    receipt: str
    channel: str
    external_ref: str
    category: str
    text: str
    registration_code: str | None
    district: str
    maintenance_unit: str
    use_unit: str
    named_unit: str
    responsible_unit: str
    complainant_name: str
    complainant_phone: str
    state: str
    due_at: datetime | None
    overdue: bool
    overdue_at: datetime | None
    overdue_step: str
    answer: str
    answered_by: str
    verdict: str
    verify_note: str
    verified_by: str
    close_reason: str
    hazard_id: int | None
    received_by: str
    received_at: datetime
    assigned_at: datetime | None
    answered_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None


class IntakeOut(BaseModel):
    created: bool
    complaint: ComplaintOut


class EventOut(BaseModel):
    model_config = _OUT

    at: datetime
    actor: str
    kind: str
    details: dict[str, Any]


class ComplaintDetail(BaseModel):
    complaint: ComplaintOut
    events: list[EventOut]
    moves: list[str]


class HazardOpened(BaseModel):
    created: bool
    hazard_id: int
    complaint: ComplaintOut


class PublicStatusOut(BaseModel):
    model_config = _OUT

    receipt: str
    category: str
    state: str
    verdict: str
    received_at: datetime
    answered: bool
    closed_at: datetime | None
