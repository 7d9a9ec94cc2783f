"""API shapes of people: a certificate as recorded and as read with its state, a revocation, a training, a
drill, and a use unit that owes its drill."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.core.types import SingleLine, Text
from liftwatch.people.domain import Category, CertificateState, Scenario

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)


class CertificateIn(BaseModel):
    model_config = _IN

    number: SingleLine = Field(min_length=1, max_length=40, description="证书编号")
    category: Category = Field(description="T: 电梯修理; A: 特种设备安全管理")
    holder_name: SingleLine = Field(min_length=1, max_length=64)
    unit_code: SingleLine = Field(min_length=1, max_length=32, description="the holder's employer")
    issued_on: date = Field(ge=date(1990, 1, 1))
    expires_on: date
    username: SingleLine = Field(default="", max_length=64, description="the holder's account, when one")
    issuer: SingleLine = Field(default="", max_length=100, description="发证机关")


class CertificateOut(BaseModel):
    model_config = _OUT

    id: int
    number: str
    category: Category
    holder_name: str
    username: str
    unit_code: str
    issued_on: date
    expires_on: date
    issuer: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str


class CertificateViewOut(BaseModel):
    certificate: CertificateOut
    state: CertificateState


class RevokeIn(BaseModel):
    model_config = _IN

    reason: Text = Field(min_length=1, max_length=500)


class TrainingIn(BaseModel):
    model_config = _IN

    username: SingleLine = Field(min_length=1, max_length=64)
    held_on: date = Field(ge=date(1990, 1, 1))
    hours: float = Field(gt=0, le=200)
    topic: SingleLine = Field(min_length=1, max_length=200)
    provider: SingleLine = Field(default="", max_length=100)


class TrainingOut(BaseModel):
    model_config = _OUT

    id: int
    username: str
    unit_code: str
    held_on: date
    hours: float
    topic: str
    provider: str
    created_by: str


class DrillIn(BaseModel):
    model_config = _IN

    unit_code: SingleLine = Field(min_length=1, max_length=32, description="the use unit that held it")
    held_on: date = Field(ge=date(1990, 1, 1))
    scenario: Scenario
    participants: int = Field(ge=1, le=10_000)
    registration_code: SingleLine = Field(default="", max_length=40, description="the elevator used, if one")
    summary: Text = Field(default="", max_length=2000)


class DrillOut(BaseModel):
    model_config = _OUT

    id: int
    unit_code: str
    held_on: date
    scenario: Scenario
    registration_code: str
    participants: int
    summary: str
    created_by: str


class MissingDrillOut(BaseModel):
    unit_code: str
    unit_name: str
    elevators: int
    held: int
    required: int
    last: date | None
