"""API and import shapes for the registry. The same input models validate API bodies and import rows,
so an import reports exactly the errors the API would."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from liftwatch.registry.models import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType

# Registration codes go into URLs and MQTT topics: no '/', '#', '+', '?', '%' or white space.
CODE_RE = re.compile(r"^[^\s/#+?%]{3,40}$")
RESCUE_CODE_RE = re.compile(r"^[0-9]{5,8}$")


def _check_code(value: str) -> str:
    value = value.strip()
    if not CODE_RE.match(value):
        raise ValueError("must be 3-40 characters without spaces or any of / # + ? %")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str


class ElevatorFields(_Strict):
    """Fields shared by create and update; every one optional here, create makes some required."""

    equipment_code: str | None = Field(default=None, max_length=40)
    kind: ElevatorKind | None = None
    manufacturer: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    serial_number: str | None = Field(default=None, max_length=100)
    rated_load_kg: int | None = Field(default=None, gt=0, le=100_000)
    rated_speed_mps: float | None = Field(default=None, gt=0, le=20)
    stops: int | None = Field(default=None, ge=2, le=250)
    floors: int | None = Field(default=None, ge=2, le=250)
    installation_date: date | None = None
    commissioning_date: date | None = None
    design_life_years: int | None = Field(default=None, gt=0, le=100)
    design_life_cycles: int | None = Field(default=None, gt=0)
    district: str | None = Field(default=None, max_length=64)
    street: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=255)
    building: str | None = Field(default=None, max_length=100)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    place_type: PlaceType | None = None
    use_unit: str | None = Field(default=None, description="Code of the use unit (使用单位)")
    maintenance_unit: str | None = Field(default=None, description="Code of the maintenance unit (维保单位)")
    iot_terminal_id: str | None = Field(default=None, max_length=64)
    no_property_management: bool | None = None
    no_maintenance_contract: bool | None = None
    no_repair_fund: bool | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ElevatorFields:
        if (
            self.installation_date
            and self.commissioning_date
            and self.commissioning_date < self.installation_date
        ):
            raise ValueError("commissioning_date is before installation_date")
        return self


class ElevatorCreate(ElevatorFields):
    registration_code: str
    rescue_code: str
    kind: ElevatorKind
    place_type: PlaceType
    district: str = Field(min_length=1, max_length=64)
    status: ElevatorStatus = ElevatorStatus.IN_USE

    @field_validator("registration_code")
    @classmethod
    def _registration_code(cls, v: str) -> str:
        return _check_code(v)

    @field_validator("rescue_code")
    @classmethod
    def _rescue_code(cls, v: str) -> str:
        v = v.strip()
        if not RESCUE_CODE_RE.match(v):
            raise ValueError("must be 5 to 8 digits")
        return v


class ElevatorUpdate(ElevatorFields):
    """PATCH body: only the fields sent are changed. Status changes go through life events."""


class ElevatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    registration_code: str
    equipment_code: str
    rescue_code: str
    kind: str
    manufacturer: str
    model: str
    serial_number: str
    rated_load_kg: int | None
    rated_speed_mps: float | None
    stops: int | None
    floors: int | None
    installation_date: date | None
    commissioning_date: date | None
    design_life_years: int | None
    design_life_cycles: int | None
    district: str
    street: str
    address: str
    building: str
    latitude: float | None
    longitude: float | None
    place_type: str
    use_unit: UnitRef | None
    maintenance_unit: UnitRef | None
    status: str
    iot_terminal_id: str
    no_property_management: bool
    no_maintenance_contract: bool
    no_repair_fund: bool
    three_no: bool
    age_years: float | None = None
    created_at: datetime
    updated_at: datetime


class ElevatorPage(BaseModel):
    items: list[ElevatorOut]
    total: int
    page: int
    size: int


class EventIn(_Strict):
    kind: EventKind
    occurred_at: datetime | None = Field(default=None, description="When it happened; default now")
    summary: str = Field(default="", max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict)


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    summary: str
    details: dict[str, Any]


class ElevatorFile(ElevatorOut):
    """一梯一档: the elevator's facts and its whole timeline, newest first."""

    timeline: list[EventOut]


class UnitFields(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    licence_no: str | None = Field(default=None, max_length=64)
    contact_name: str | None = Field(default=None, max_length=64)
    contact_phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=255)
    district: str | None = Field(default=None, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class UnitCreate(UnitFields):
    code: str
    name: str = Field(min_length=1, max_length=200)
    unit_type: UnitType

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        return _check_code(v)


class UnitUpdate(UnitFields):
    pass


# A unit's record as exported, imported and compared: the create fields in a stable order.
UNIT_RECORD_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "unit_type",
    "licence_no",
    "contact_name",
    "contact_phone",
    "address",
    "district",
    "latitude",
    "longitude",
)


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    unit_type: str
    licence_no: str
    contact_name: str
    contact_phone: str
    address: str
    district: str
    latitude: float | None
    longitude: float | None
    elevator_count: int | None = None


class UnitPage(BaseModel):
    items: list[UnitOut]
    total: int
    page: int
    size: int


class PublicElevator(BaseModel):
    """What a passenger sees after scanning the code in the car (no login)."""

    registration_code: str
    rescue_code: str
    kind: str
    status: str
    district: str
    address: str
    building: str
    use_unit: UnitRef | None
    maintenance_unit: UnitRef | None
    maintenance_phone: str
    rescue_phone: str = "96333"
