"""Every table, imported in one place so metadata is complete (Alembic, create_all)."""

from liftwatch.accounts.models import User
from liftwatch.core.db import Base
from liftwatch.hazards.models import Hazard
from liftwatch.inspection.models import Inspection, Nonconformity
from liftwatch.maintenance.models import (
    Attachment,
    MaintenanceContract,
    MaintenanceNotice,
    MaintenanceRecord,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderTimer,
)
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit
from liftwatch.rescue.models import Crew, Incident, IncidentEvent, OpenIncidentLock, RescueTimer
from liftwatch.risk.models import RiskScoreRow
from liftwatch.telemetry.models import DeadLetter, DetectorCheckpoint, Fault, LiveStatus

__all__ = [
    "Attachment",
    "Base",
    "Crew",
    "DeadLetter",
    "DetectorCheckpoint",
    "Elevator",
    "ElevatorEvent",
    "Fault",
    "Hazard",
    "Incident",
    "IncidentEvent",
    "Inspection",
    "LiveStatus",
    "MaintenanceContract",
    "MaintenanceNotice",
    "MaintenanceRecord",
    "Nonconformity",
    "OpenIncidentLock",
    "RescueTimer",
    "RiskScoreRow",
    "Unit",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderTimer",
]
