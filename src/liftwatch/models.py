"""Every table, imported in one place so metadata is complete (Alembic, create_all)."""

from liftwatch.accounts.models import User
from liftwatch.analytics.models import AnalyticsCell, AnalyticsMonth
from liftwatch.applications.models import Application, ApplicationEvent, ApplicationTimer, Review
from liftwatch.assessment.models import SafetyAssessment, ThreeNoMeasure
from liftwatch.complaints.models import Complaint
from liftwatch.core.db import Base
from liftwatch.costs.models import CostEntry, CostPublication
from liftwatch.hazards.models import Hazard
from liftwatch.inspection.models import Inspection, Nonconformity
from liftwatch.insurance.models import InsurancePolicy, PremiumFactorRow
from liftwatch.maintenance.models import (
    Attachment,
    MaintenanceContract,
    MaintenanceNotice,
    MaintenanceRecord,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderTimer,
)
from liftwatch.parts.models import Part, Recall, RecallItem
from liftwatch.people.models import Certificate, Drill, Training
from liftwatch.ratings.models import RatingPeriodRow, UnitRatingRow
from liftwatch.registry.models import Elevator, ElevatorEvent, RetiredRescueCode, Unit
from liftwatch.rescue.models import Crew, Incident, IncidentEvent, OpenIncidentLock, RescueTimer
from liftwatch.risk.models import RiskScoreRow
from liftwatch.telemetry.models import DeadLetter, DetectorCheckpoint, Fault, LiveStatus

__all__ = [
    "AnalyticsCell",
    "AnalyticsMonth",
    "Application",
    "ApplicationEvent",
    "ApplicationTimer",
    "Attachment",
    "Base",
    "Certificate",
    "Complaint",
    "CostEntry",
    "CostPublication",
    "Crew",
    "DeadLetter",
    "DetectorCheckpoint",
    "Drill",
    "Elevator",
    "ElevatorEvent",
    "Fault",
    "Hazard",
    "Incident",
    "IncidentEvent",
    "Inspection",
    "InsurancePolicy",
    "LiveStatus",
    "MaintenanceContract",
    "MaintenanceNotice",
    "MaintenanceRecord",
    "Nonconformity",
    "OpenIncidentLock",
    "Part",
    "PremiumFactorRow",
    "RatingPeriodRow",
    "Recall",
    "RecallItem",
    "RescueTimer",
    "RetiredRescueCode",
    "Review",
    "RiskScoreRow",
    "SafetyAssessment",
    "ThreeNoMeasure",
    "Training",
    "Unit",
    "UnitRatingRow",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderTimer",
]
