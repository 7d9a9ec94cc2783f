"""API shapes for insurance (电梯安全责任保险): a policy in and out, the import, a repricing, the premium
factors of a period with the risk factors behind them, an insured elevator, and the coverage KPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liftwatch.core.types import SingleLine, Text
from liftwatch.insurance.domain import PolicyStatus

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_MIN_DATE, _MAX_DATE = date(2000, 1, 1), date(2199, 12, 31)
_FEN_MAX = 10**14


class PolicyIn(BaseModel):
    model_config = _IN

    registration_code: SingleLine = Field(min_length=1, max_length=40)
    policy_number: SingleLine = Field(min_length=1, max_length=64, description="unique per insurer")
    insurer: SingleLine | None = Field(
        default=None, max_length=32, description="the insurer unit's code (admins: required)"
    )
    start_date: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="first day covered")
    end_date: date = Field(ge=_MIN_DATE, le=_MAX_DATE, description="last day covered (inclusive)")
    limit_per_person_fen: int = Field(ge=1, le=_FEN_MAX, description="每人赔偿限额, fen")
    limit_per_accident_fen: int = Field(ge=1, le=_FEN_MAX, description="每次事故赔偿限额, fen")
    premium_fen: int = Field(ge=0, le=_FEN_MAX, description="base premium of the period of cover, fen")


class PolicyPatch(BaseModel):
    model_config = _IN

    start_date: date | None = Field(default=None, ge=_MIN_DATE, le=_MAX_DATE)
    end_date: date | None = Field(default=None, ge=_MIN_DATE, le=_MAX_DATE)
    limit_per_person_fen: int | None = Field(default=None, ge=1, le=_FEN_MAX)
    limit_per_accident_fen: int | None = Field(default=None, ge=1, le=_FEN_MAX)
    premium_fen: int | None = Field(default=None, ge=0, le=_FEN_MAX)


class ImportIn(BaseModel):
    model_config = _IN

    policies: list[PolicyIn] = Field(min_length=1, max_length=5000)


class ReasonIn(BaseModel):
    model_config = _IN

    reason: Text = Field(min_length=1, max_length=500)


class RepriceIn(BaseModel):
    model_config = _IN

    period: SingleLine = Field(min_length=4, max_length=16, description="2026-Q4, 2026-H2 or 2026-11")


class FactorLine(BaseModel):
    factor: str
    value: Any = None
    points: int


class PremiumFactorOut(BaseModel):
    period: str
    factor: float
    grade: str | None
    score: int | None
    top: list[FactorLine]
    adjusted_premium_fen: int
    computed_at: datetime


class PolicyOut(BaseModel):
    id: int
    policy_number: str
    insurer: str
    registration_code: str
    insured: str | None
    start_date: date
    end_date: date
    limit_per_person_fen: int
    limit_per_accident_fen: int
    premium_fen: int
    status: PolicyStatus
    cancelled_at: datetime | None
    cancel_reason: str
    premium_factor: PremiumFactorOut | None = None


class RecordedOut(BaseModel):
    outcome: str
    policy: PolicyOut


class ImportOut(BaseModel):
    rows: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class RepricedOut(BaseModel):
    period: str
    policies: int
    by_grade: dict[str, int]


class PeriodFactorOut(BaseModel):
    policy_id: int
    policy_number: str
    registration_code: str
    premium_fen: int
    premium_factor: PremiumFactorOut


class ElevatorOut(BaseModel):
    registration_code: str
    grade: str | None
    score: int | None
    contributions: list[FactorLine]
    computed_at: datetime | None
    policies: list[PolicyOut]


class DistrictCoverageOut(BaseModel):
    district: str
    public: int
    insured: int
    share: float | None


class UninsuredOut(BaseModel):
    registration_code: str
    district: str
    place_type: str
    address: str
    maintenance_unit: str


class CoverageOut(BaseModel):
    day: date
    definition: str
    public_place_types: list[str]
    total: DistrictCoverageOut
    districts: list[DistrictCoverageOut]
    uninsured_total: int
    uninsured: list[UninsuredOut]
