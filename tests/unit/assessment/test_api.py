"""The assessment routes end to end: an assessment recorded twice answers 200 with the same record, a
refused field is named, the hazard opened once, the 15-year list filtered to those to chase, a measure."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture


def test_the_assessment_routes(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    inspector = auth(client, Role.INSPECTOR)
    body = {
        "request_key": "PG-1",
        "assessor": "上海市特种设备监督检验技术研究院",
        "assessor_unit": "IB-1",
        "assessed_on": "2026-11-02",
        "result": "major_work",
        "findings": "控制柜老化, 建议更新",
        "decision": "replacement",
    }
    missing = client.post("/api/v1/assessment/elevators/100004/assessments", json=body, headers=inspector)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "decision_on"
    body["decision_on"] = "2026-11-20"
    first = client.post("/api/v1/assessment/elevators/100004/assessments", json=body, headers=inspector)
    again = client.post("/api/v1/assessment/elevators/100004/assessments", json=body, headers=inspector)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    aid = first.json()["assessment"]["id"]
    hazard = client.post(f"/api/v1/assessment/assessments/{aid}/hazard", headers=inspector)
    twice = client.post(f"/api/v1/assessment/assessments/{aid}/hazard", headers=inspector)
    assert (hazard.status_code, twice.status_code) == (201, 200)
    assert hazard.json()["hazard_id"] == twice.json()["hazard_id"]
    got = client.get(f"/api/v1/hazards/{hazard.json()['hazard_id']}", headers=inspector).json()["hazard"]
    assert (got["level"], got["source"], got["registration_code"]) == ("major", "spot_check", "11SHB000004")
    chase = client.get("/api/v1/assessment/old-elevators?status=due&status=overdue", headers=inspector).json()
    assert [r["registration_code"] for r in chase] == ["11SHA000001"]
    view = client.get("/api/v1/assessment/elevators/11SHB000004", headers=auth(client, Role.USE_UNIT)).json()
    due = {"status": "assessed", "due_on": "2029-11-02", "overdue_on": "2030-05-01"}  # + 180 days
    assert view["due"] == {**due, "last_assessed": "2026-11-02"}
    measure = {"request_key": "M-1", "kind": "other", "taken_on": "2026-11-20", "taken_by": "天平路街道"}
    regulator = auth(client, Role.REGULATOR)
    no_note = client.post(
        "/api/v1/assessment/elevators/11SHB000004/measures", json=measure, headers=regulator
    )
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    done = client.post(
        "/api/v1/assessment/elevators/11SHB000004/measures",
        json={**measure, "note": "业主自筹资金", "status": "resolved"},
        headers=regulator,
    )
    assert done.status_code == 201 and done.json()["measure"]["status"] == "resolved"
