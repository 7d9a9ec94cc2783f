"""API shapes for telemetry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class RejectedItem(BaseModel):
    index: int
    reason: str
    detail: str


class IngestResult(BaseModel):
    accepted: int
    rejected: list[RejectedItem]


class FaultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fault_id: str
    registration_code: str
    fault_type: str
    severity: str
    started_at: datetime
    raised_at: datetime
    cleared_at: datetime | None
    evidence: list[str]
    detail: dict[str, Any]


class LiveStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    registration_code: str
    last_seen_at: datetime
    online: bool
    mode: int | None
    running: bool | None
    direction: int | None
    door_zone: bool | None
    door_closed: bool | None
    passenger: bool | None
    floor: int | None
    power: bool | None
    speed: float | None
    trips: int | None
    door_cycles: int | None
    run_hours: float | None
    rope_bends: int | None
    open_faults: list[str]


class ElevatorLive(BaseModel):
    registration_code: str
    status: LiveStatusOut | None
    open_faults: list[FaultOut]
