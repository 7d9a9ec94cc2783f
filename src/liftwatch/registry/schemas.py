"""API and import shapes for the registry. The same input models validate API bodies and import rows,
so an import reports exactly the errors the API would."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from liftwatch.core.types import DbInt, SingleLine, Text, check_text
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType

# Registration codes go into URLs and MQTT topics: no '/', '#', '+', '?', '%' or white space.
CODE_RE = re.compile(r"^[^\s/#+?%]{3,40}$")
RESCUE_CODE_RE = re.compile(r"^[0-9]{5,8}$")


def _check_code(value: str) -> str:
    value = value.strip()
    if not CODE_RE.match(value):
        raise ValueError("must be 3-40 characters without spaces or any of / # + ? %")
    return value


def check_json_value(value: Any, depth: int = 0) -> None:
    """A free-form JSON value must store on PostgreSQL too: no NUL or control characters in its strings
    (JSONB refuses \\u0000) and no deep nesting."""
    if depth > 8:
        raise ValueError("nested more than 8 levels deep")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(str(k))
            check_json_value(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            check_json_value(v, depth + 1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str


class ElevatorFields(_Strict):
    """Fields shared by create and update; every one optional here, create makes some required."""

    equipment_code: SingleLine | None = Field(default=None, max_length=40)
    kind: ElevatorKind | None = None
    manufacturer: SingleLine | None = Field(default=None, max_length=200)
    model: SingleLine | None = Field(default=None, max_length=100)
    serial_number: SingleLine | None = Field(default=None, max_length=100)
    rated_load_kg: int | None = Field(default=None, gt=0, le=100_000)
    rated_speed_mps: float | None = Field(default=None, gt=0, le=20)
    stops: int | None = Field(default=None, ge=2, le=250)
    floors: int | None = Field(default=None, ge=2, le=250)
    installation_date: date | None = None
    commissioning_date: date | None = None
    design_life_years: int | None = Field(default=None, gt=0, le=100)
    design_life_cycles: DbInt | None = Field(default=None, gt=0)
    district: SingleLine | None = Field(default=None, max_length=64)
    street: SingleLine | None = Field(default=None, max_length=64)
    address: SingleLine | None = Field(default=None, max_length=255)
    building: SingleLine | None = Field(default=None, max_length=100)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    place_type: PlaceType | None = None
    use_unit: SingleLine | None = Field(
        default=None, max_length=40, description="Code of the use unit (使用单位)"
    )
    maintenance_unit: SingleLine | None = Field(
        default=None, max_length=40, description="Code of the maintenance unit (维保单位)"
    )
    iot_terminal_id: SingleLine | None = Field(default=None, max_length=64)
    no_property_management: bool | None = None
    no_maintenance_contract: bool | None = None
    no_repair_fund: bool | None = None
    mobile_signal: bool | None = Field(
        default=None, description="In-car mobile signal (轿厢内移动信号); null: not checked"
    )

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
    registration_code: SingleLine
    rescue_code: SingleLine
    kind: ElevatorKind
    place_type: PlaceType
    district: SingleLine = Field(min_length=1, max_length=64)
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


# Columns that hold no NULL: a PATCH may leave them out, but not send null for them.
ELEVATOR_NOT_NULL: tuple[str, ...] = (
    "equipment_code",
    "kind",
    "manufacturer",
    "model",
    "serial_number",
    "district",
    "street",
    "address",
    "building",
    "place_type",
    "iot_terminal_id",
    "no_property_management",
    "no_maintenance_contract",
    "no_repair_fund",
)


def _not_null(value: Any, info: ValidationInfo) -> Any:
    if value is None:
        raise ValueError(f"{info.field_name} may not be null; leave it out to keep it")
    return value


class ElevatorUpdate(ElevatorFields):
    """PATCH body: only the fields sent are changed. Status changes go through life events."""

    _no_nulls = field_validator(*ELEVATOR_NOT_NULL)(_not_null)


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
    mobile_signal: bool | None = None
    three_no: bool
    age_years: float | None = None
    created_at: datetime
    updated_at: datetime


class ElevatorPage(BaseModel):
    items: list[ElevatorOut]
    total: int
    page: int
    size: int


class RescueCodeIn(_Strict):
    code: SingleLine | None = Field(
        default=None, max_length=8, description="5 to 8 digits; none: the next free code is given"
    )
    reason: Text = Field(min_length=1, max_length=500, description="why the elevator gets a new code")


class EventIn(_Strict):
    kind: EventKind
    occurred_at: datetime | None = Field(default=None, description="When it happened; default now")
    summary: Text = Field(default="", max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict, description="JSON object, at most 8 levels deep")

    @field_validator("details")
    @classmethod
    def _details(cls, v: dict[str, Any]) -> dict[str, Any]:
        check_json_value(v)
        return v


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
    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    licence_no: SingleLine | None = Field(default=None, max_length=64)
    contact_name: SingleLine | None = Field(default=None, max_length=64)
    contact_phone: SingleLine | None = Field(default=None, max_length=32)
    address: SingleLine | None = Field(default=None, max_length=255)
    district: SingleLine | None = Field(default=None, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class UnitCreate(UnitFields):
    code: SingleLine
    name: SingleLine = Field(min_length=1, max_length=200)
    unit_type: UnitType

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        v = _check_code(v)
        if len(v) > 32:  # the column's width
            raise ValueError("a unit code has at most 32 characters")
        return v


class UnitUpdate(UnitFields):
    _no_nulls = field_validator("name")(_not_null)  # the others: null clears them to ""


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


class ImportProblem(BaseModel):
    sheet: str
    row: int
    column: str
    value: str
    reason: str


class ImportReportOut(BaseModel):
    """The answer to an import (registry/io.py ImportReport); ``rejected`` only with skip_invalid;
    ``applied`` false for a preview (dry_run) or when nothing was written."""

    rows: int
    imported: int
    unit_rows: int
    units_imported: int
    updated: int = 0
    unchanged: int = 0
    changes: list[dict[str, Any]] = []
    applied: bool = False
    errors: list[ImportProblem]
    warnings: list[ImportProblem]
    rejected: list[dict[str, Any]] | None = None


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
