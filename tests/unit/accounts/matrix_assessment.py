"""The role matrix's section of elevators under focused supervision (安全评估, 三无电梯措施): assessment 1 on
11SHB000004 (UU-B, MU-B: 404 for maint_a) and a three-no measure on 11SHA000001 (UU-A, MU-A: 404 for
owner_b), made by ``city``. ``city`` also reports hazard 5 on 11SHB000004 for the repair-fund section
(matrix_fund.py): this file's city runs before any other section's, so the id is fixed."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.assessment import service
from liftwatch.assessment.domain import AssessmentResult, MeasureKind
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from tests.unit.accounts.matrix import Case, expect

_ASSESSMENT = {
    "request_key": "MX-A",
    "assessor": "上海市特种设备监督检验技术研究院",
    "assessed_on": "2026-11-02",
    "result": "safe",
}
_MEASURE = {"request_key": "MX-M", "kind": "suspended", "taken_on": "2026-11-20", "taken_by": "静安寺街道"}

CASES: list[Case] = [
    Case("GET", "/api/v1/assessment/old-elevators", expect(200, O=403, G=403, N=403)),
    Case(
        "GET", "/api/v1/assessment/old-elevators?status=due&status=overdue", expect(200, O=403, G=403, N=403)
    ),
    Case("GET", "/api/v1/assessment/elevators/11SHB000004", expect(200, M=404, O=403, G=403, N=403)),
    Case("GET", "/api/v1/assessment/elevators/11SHA000001", expect(200, U=404, O=403, G=403, N=403)),
    Case(
        "POST",
        "/api/v1/assessment/elevators/11SHB000004/assessments",
        expect(403, A=201, R=201, I=201, M=404),
        body=_ASSESSMENT,
    ),
    Case(
        "PUT",
        "/api/v1/assessment/assessments/1/decision",
        expect(403, A=200, R=200, I=200, M=404),
        body={"decision": "major_repair", "decision_on": "2026-11-20"},
    ),
    Case("POST", "/api/v1/assessment/assessments/1/hazard", expect(403, A=201, R=201, I=201, M=404)),
    Case(
        "POST",
        "/api/v1/assessment/elevators/11SHA000001/measures",
        expect(403, A=201, R=201, U=404),
        body=_MEASURE,
    ),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """Assessment 1 (rectification) on 11SHB000004, a measure on 11SHA000001, hazard 5 for the fund."""
    made = service.record_assessment(
        session, SYSTEM_ACTOR, "11SHB000004", "MX-1", "检验研究院", date(2026, 11, 1),
        AssessmentResult.RECTIFY, clock, settings, findings="曳引绳磨损",
    )  # fmt: skip
    assert made.assessment.id == 1
    service.add_measure(
        session, SYSTEM_ACTOR, "11SHA000001", "MX-1", MeasureKind.INTERIM_MAINTENANCE, date(2026, 11, 1),
        "静安寺街道", clock, settings,
    )  # fmt: skip
    hazard = hazards.report(
        session, SYSTEM_ACTOR, "11SHB000004", HazardSource.SPOT_CHECK, "MX-FUND", HazardLevel.GENERAL,
        "制动器磨损", clock, settings,
    )  # fmt: skip
    assert hazard.hazard.id == 5
    session.commit()


def template(parts: list[str]) -> None:
    if parts[:4] == ["", "api", "v1", "assessment"] and len(parts) > 5:
        if parts[4] == "elevators":
            parts[5] = "{code}"
        if parts[4] == "assessments":
            parts[5] = "{assessment_id}"
