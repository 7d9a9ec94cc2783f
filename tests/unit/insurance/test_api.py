"""The insurance API: an insurer imports its list twice (nothing changes the second time), errors name the
row and field, policies carry their status and latest premium factor with the factors behind it, and the
coverage KPI answers the regulator."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings
from tests.factories import auth
from tests.unit.insurance.city import insurance_city

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


def _row(code: str, number: str, **over: Any) -> dict[str, Any]:
    return {
        "registration_code": code,
        "policy_number": number,
        "start_date": "2026-07-01",
        "end_date": "2027-06-30",
        "limit_per_person_fen": 50_000_000,
        "limit_per_accident_fen": 200_000_000,
        "premium_fen": 96_000,
        **over,
    }


def test_an_insurer_imports_reprices_and_reads_its_policies(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    insurance_city(session, clock)
    risk.recompute(session, clock, Settings(), RiskSettings())
    session.commit()
    h = auth(client, Role.INSURER)
    rows = [_row("11SHB000004", "P-B4"), _row("11SHB000003", "P-B3-2027")]
    bad = client.post(
        "/api/v1/insurance/policies/import",
        headers=h,
        json={"policies": [*rows, _row("NOPE", "P-X", limit_per_accident_fen=1)]},
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [
        "policies.2.registration_code",
        "policies.2.limit_per_accident_fen",
    ]
    first = client.post("/api/v1/insurance/policies/import", headers=h, json={"policies": rows})
    assert first.status_code == 200 and first.json()["created"] == ["P-B4", "P-B3-2027"]
    again = client.post("/api/v1/insurance/policies/import", headers=h, json={"policies": rows})
    assert again.json() == {"rows": 2, "created": [], "updated": [], "unchanged": ["P-B4", "P-B3-2027"]}
    done = client.post("/api/v1/insurance/reprice", headers=h, json={"period": "2026-Q4"})
    assert done.status_code == 200 and done.json()["policies"] == 4  # P-A1, P-A2 and the two imported
    listed = client.get("/api/v1/insurance/policies", headers=h, params={"status": "valid"}).json()
    assert sorted(p["policy_number"] for p in listed) == ["P-A1", "P-A2", "P-B3-2027", "P-B4"]
    b4 = next(p for p in listed if p["policy_number"] == "P-B4")
    grade = risk.stored_score(session, "11SHB000004")
    assert grade is not None
    assert (b4["insurer"], b4["insured"], b4["status"]) == ("IN-A", "UU-B", "valid")
    pf = b4["premium_factor"]
    assert (pf["period"], pf["grade"], pf["score"]) == ("2026-Q4", grade.grade, grade.score)
    assert pf["adjusted_premium_fen"] == round(96_000 * pf["factor"])
    assert all(line["points"] > 0 for line in pf["top"]) and len(pf["top"]) <= 3
    factors = client.get("/api/v1/insurance/premium-factors", headers=h, params={"period": "2026-Q4"}).json()
    assert len(factors) == 4
    view = client.get("/api/v1/insurance/elevators/11SHB000004", headers=h).json()
    assert sum(c["points"] for c in view["contributions"]) == view["score"] == grade.score
    assert client.get("/api/v1/insurance/elevators/11SHB000005", headers=h).status_code == 404  # IN-B's


def test_the_regulator_reads_the_coverage_kpi(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    insurance_city(session, clock)
    r = client.get("/api/v1/insurance/coverage", headers=auth(client, Role.REGULATOR))
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == {"district": "", "public": 3, "insured": 2, "share": 2 / 3}
    assert [u["registration_code"] for u in body["uninsured"]] == ["11SHB000003"]
    assert "residential" not in body["public_place_types"] and "mall" in body["public_place_types"]
    assert client.get("/api/v1/insurance/coverage", headers=auth(client, Role.INSURER)).status_code == 403


def test_an_insurer_imports_a_csv_list_once(client: TestClient, session: Session, clock: FixedClock) -> None:
    insurance_city(session, clock)
    h = auth(client, Role.INSURER)
    header = "\ufeffregistration_code,policy_number,start_date,end_date,"
    header += "limit_per_person_fen,limit_per_accident_fen,premium_fen\n"
    good = header + "11SHB000004,C-1,2026-07-01,2027-06-30,50000000,200000000,60000\n"
    bad = good + "11SHB000004,C-2,2026-13-01,2027-06-30,lots,200000000,60000\n"

    def send(text: str) -> Any:
        files = {"file": ("保单.csv", text.encode("utf-8"), "text/csv")}
        return client.post("/api/v1/insurance/policies/import.csv", headers=h, files=files)

    refused = send(bad)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "policies.1.start_date",
        "policies.1.limit_per_person_fen",
    ]
    assert send("policy_number\nC-1\n").json()["errors"][0]["field"] == "file"
    assert send(good).json()["created"] == ["C-1"]
    assert send(good).json()["unchanged"] == ["C-1"]  # the same file again changes nothing
    gbk = client.post(
        "/api/v1/insurance/policies/import.csv",
        headers=h,
        files={"file": ("p.csv", "保单".encode("gbk"), "text/csv")},
    )
    assert gbk.status_code == 422 and "UTF-8" in gbk.text
