"""The registry's plain types: what kinds of unit, elevator, place, status and life event exist.

Pure (no database): other domains, the web and the simulator import these instead of the tables."""

from __future__ import annotations

from enum import StrEnum


class UnitType(StrEnum):
    USE_UNIT = "use_unit"  # 使用单位
    MAINTENANCE = "maintenance"  # 维保单位
    MANUFACTURER = "manufacturer"  # 制造单位
    INSTALLER = "installer"  # 安装单位
    INSPECTION_BODY = "inspection_body"  # 检验机构
    INSURER = "insurer"
    RESCUE_STATION = "rescue_station"  # public rescue station (L2)


class ElevatorKind(StrEnum):
    TRACTION = "traction"  # 曳引与强制驱动电梯
    HYDRAULIC = "hydraulic"
    DUMBWAITER = "dumbwaiter"  # 杂物电梯
    ESCALATOR = "escalator"
    MOVING_WALK = "moving_walk"


class PlaceType(StrEnum):
    RESIDENTIAL = "residential"
    OFFICE = "office"
    MALL = "mall"
    HOSPITAL = "hospital"
    SCHOOL = "school"
    METRO = "metro"
    HOTEL = "hotel"
    PUBLIC_BUILDING = "public_building"
    OTHER = "other"


class ElevatorStatus(StrEnum):
    IN_USE = "in_use"
    SUSPENDED = "suspended"  # 停用
    SCRAPPED = "scrapped"  # 报废


class EventKind(StrEnum):
    """Life events on the elevator file. Later domains (faults, rescue, maintenance, inspection) add kinds."""

    REGISTRATION = "registration"
    ACCEPTANCE = "acceptance"
    USE_UNIT_CHANGE = "use_unit_change"
    MAINTENANCE_UNIT_CHANGE = "maintenance_unit_change"
    MODERNISATION = "modernisation"
    MAJOR_REPAIR = "major_repair"
    SUSPENSION = "suspension"
    RESTART = "restart"
    SCRAPPING = "scrapping"
    RECORD_UPDATE = "record_update"
    RESCUE_CODE_CHANGE = (
        "rescue_code_change"  # a new 96333 rescue code (registry.service.reassign_rescue_code)
    )
    FAULT = "fault"  # raised by the fault detector (telemetry)
    FAULT_CLEARED = "fault_cleared"
