"""API shapes for rescue."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from liftwatch.core.types import SingleLine, Text
from liftwatch.rescue.domain import Cause, Level, Source, normalise_phone


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: SingleLine = Field(min_length=3, max_length=40, description="rescue code or registration code")
    source: Source = Source.PHONE
    persons_trapped: int | None = Field(default=None, ge=0, le=100)
    caller_name: SingleLine = Field(default="", max_length=64)
    callback_phone: SingleLine = Field(
        default="",
        max_length=32,
        description="a mainland mobile or a landline with its area code; +86, spaces and dashes allowed "
        "(stored as 13800000000 or 021-55551234)",
    )
    notes: Text = Field(default="", max_length=2000)

    @field_validator("callback_phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        return normalise_phone(v)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_released: bool = True


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cause: Cause
    detail: Text = Field(default="", max_length=2000)


class FalseAlarmIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Text = Field(default="", max_length=2000)


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class CrewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    unit: SingleLine = Field(max_length=40)
    name: SingleLine = Field(min_length=1, max_length=64)
    phone: SingleLine = Field(default="", max_length=32)
    username: SingleLine | None = Field(default=None, max_length=64)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    shift_start: time | None = Field(default=None, description="daily shift start, Beijing time")
    shift_end: time | None = Field(default=None, description="daily shift end; before the start: overnight")


class CrewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    unit: str
    name: str
    phone: str
    username: str | None
    latitude: float
    longitude: float
    position_at: datetime
    on_shift: bool
    shift_start: time | None = None
    shift_end: time | None = None
    busy_incident_id: int | None


class IncidentEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    kind: str
    details: dict[str, Any]


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    registration_code: str
    source: str
    status: str
    level: str
    persons_trapped: int | None
    caller_name: str
    callback_phone: str
    notes: str
    fault_id: str | None
    maintenance_unit: str
    responder_unit: str
    crew_id: str | None
    arrival_limit_min: int
    alarm_at: datetime
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    released_at: datetime | None
    completed_at: datetime | None
    closed_false_at: datetime | None
    escalated_l2_at: datetime | None
    escalated_l3_at: datetime | None
    all_released: bool
    cause: str | None
    callback_at: datetime | None = None
    cancelled_at: datetime | None = None
    close_reason: str = ""


class IncidentDetail(IncidentOut):
    events: list[IncidentEventOut]


class ReportResult(BaseModel):
    created: bool
    incident: IncidentOut


class DispatchOut(BaseModel):
    """One dispatch of an incident (level, unit, crew, and what it did); L3 rows are 119 calls."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    level: str
    unit: str
    crew_id: str | None
    dispatched_at: datetime
    dispatched_by: str
    eta_s: int | None
    reference: str
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    released_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdraw_reason: str


class IncidentWithDispatches(IncidentDetail):
    dispatches: list[DispatchOut]


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text = Field(min_length=1, max_length=2000)


class RedispatchIn(BaseModel):
    """Send a crew by hand, or a unit (which then sends its crew with the soonest arrival), with a reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    crew_id: SingleLine | None = Field(default=None, max_length=40, description="the crew to send")
    unit: SingleLine | None = Field(
        default=None, max_length=32, description="or a unit: its free crew with the soonest arrival"
    )
    reason: Text = Field(min_length=1, max_length=2000)
    replace: bool = Field(
        default=False, description="also withdraw every earlier dispatch not yet on site, with this reason"
    )

    @model_validator(mode="after")
    def _one_target(self) -> RedispatchIn:
        if not self.crew_id and not self.unit:
            raise ValueError("crew_id or unit: say whom to send")
        return self


class EscalateIn(BaseModel):
    """Escalate by hand to the next level, with the reason. ``from_level``: the level the operator saw;
    when the incident is already past it (a double submit, or the scheduler was first), nothing changes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text = Field(min_length=1, max_length=2000)
    from_level: Level | None = None


class SelfReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Text = Field(default="", max_length=2000)
    at: datetime | None = Field(default=None, description="when they got out (default: now)")
    cause: Cause | None = None


class FireCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: SingleLine = Field(default="", max_length=64, description="the fire service's reference")
    at: datetime | None = Field(default=None, description="when 119 was called (default: now)")


class FireTimeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="default: now")
    all_released: bool = True  # for the release


# ---------------------------------------------------------------- KPIs (docs/KPIS.md)


class RatioOut(BaseModel):
    numerator: int
    denominator: int
    value: float | None = Field(description="a fraction (0.97); null when the denominator is 0")
    target: str | None
    met: bool | None


class MeanOut(BaseModel):
    minutes: float | None
    count: int
    target: str | None
    met: bool | None


class EntrapmentRateOut(BaseModel):
    entrapments: int
    elevators: int
    value: float | None
    per_year: float | None
    per_month: float | None
    target: str | None
    met: bool | None


class PeriodOut(BaseModel):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime

    model_config = ConfigDict(populate_by_name=True)


class KpisOut(BaseModel):
    """The rescue KPIs of a period and scope (docs/KPIS.md); ``groups`` only with ``group_by``."""

    model_config = ConfigDict(populate_by_name=True)

    period: PeriodOut
    unit: str | None = Field(default=None, description="the unit whose own dispatches the figures count")
    elevators_in_service: int
    incidents: int
    false_alarms: int
    cancelled: int
    rescues: int
    self_released: int
    response_rate: RatioOut
    average_arrival: MeanOut
    on_time_arrival: RatioOut
    average_on_site: MeanOut
    entrapment_rate: EntrapmentRateOut
    rescue_success: RatioOut
    dispatch_rate: RatioOut
    callback_rate: RatioOut
    cause_reported: RatioOut
    by_level: dict[str, RatioOut]
    cause_mix: dict[str, RatioOut]
    cause_unreported: int
    pending: int
    by_source: dict[str, int]
    timestamp_anomalies: list[int]
    groups: dict[str, KpisOut] | None = None


# ---------------------------------------------------------------- the operator's queues


class StaleIncidentOut(IncidentOut):
    """An incident open past its arrival deadline without an arrival (``overdue``), or not closed past the
    closing limit (``unsettled``: the KPIs already count it as not successful)."""

    overdue: bool
    unsettled: bool
    minutes_past: int = Field(description="minutes past the arrival deadline")


class CrewPatch(BaseModel):
    """A change to a crew (PATCH /crews/{id}): only the fields sent change. ``username`` null or "" unbinds
    the crew's login; ``shift`` "HH:MM-HH:MM" on the city's clock, null or "" round the clock;
    ``on_shift`` false stands the crew down (it keeps a job it has, and gets no new one)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SingleLine | None = Field(default=None, min_length=1, max_length=64)
    phone: SingleLine | None = Field(default=None, max_length=32)
    unit: SingleLine | None = Field(default=None, max_length=40)
    username: SingleLine | None = Field(default=None, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    shift: SingleLine | None = Field(
        default=None, max_length=16, description="HH:MM-HH:MM, city time (e.g. 08:00-20:00); empty: all day"
    )
    on_shift: bool | None = None

    @model_validator(mode="after")
    def _position_whole(self) -> CrewPatch:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self
