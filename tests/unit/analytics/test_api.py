"""The analytics routes on the fixed data set of tests/unit/analytics/city.py: the KPI table, a trend,
coverage and its gaps as JSON with the hand-computed figures; a bad parameter is a 422 naming its
field; scope and refusals as the service decides them (every role: tests/unit/accounts/matrix_analytics)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.core.clock import FixedClock
from tests.factories import auth, seed
from tests.unit.analytics.city import A2, B4, analytics_city

pytestmark = pytest.mark.sqlite_only  # routes: the service is tested on both backends

MONTH = 365 / 372


def test_kpis_trend_coverage_and_gaps(client: TestClient, session: Session) -> None:
    analytics_city(session)
    session.commit()
    regulator = auth(client, Role.REGULATOR)
    r = client.get("/api/v1/analytics/kpis?month=2026-10&by=district", headers=regulator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["by"] == "district" and body["period"] == "2026-10" and "entrapment" in body["kpis"]
    rows = {row["key"]: row for row in body["rows"]}
    jing = rows["静安区"]["figures"]["entrapment"]
    assert (jing["count"], jing["base"], jing["met"]) == (2, 2, False)
    assert jing["value"] == pytest.approx(2 * 10_000 / 2 * MONTH)
    assert jing["target"]["comparison"] == "<" and jing["target"]["threshold"] == 50
    assert body["total"]["figures"]["inspection_pass"]["value"] == pytest.approx(2 / 3)

    one = client.get(
        "/api/v1/analytics/kpis", params={"month": "2026-10", "district": "静安区"}, headers=regulator
    )
    assert [r["key"] for r in one.json()["rows"]] == ["静安区"]
    assert one.json()["total"]["figures"]["entrapment"]["count"] == 2
    year = client.get("/api/v1/analytics/kpis?year=2026&by=age_band", headers=regulator).json()
    assert year["period"] == "2026" and {r["key"] for r in year["rows"]} == {"5-10", "10-15", "20+"}

    trend = client.get("/api/v1/analytics/trend?kpi=entrapment&months=3", headers=regulator).json()
    assert [(p["month"], p["figure"]["count"]) for p in trend["points"]] == [
        ("2026-09", 0),
        ("2026-10", 2),
        ("2026-11", 1),
    ]

    cov = client.get("/api/v1/analytics/coverage", headers=regulator).json()
    assert cov["figures"]["insurance_public"]["count"] == 1 and cov["mobile_signal_unchecked"] == 1
    gaps = client.get("/api/v1/analytics/coverage/gaps?kind=mobile_signal&page=1", headers=regulator).json()
    assert gaps["total"] == 2 and {g["registration_code"] for g in gaps["rows"]} == {A2, B4}

    owner = auth(client, Role.USE_UNIT)  # UU-B: B3 and B4 in 徐汇区
    own = client.get("/api/v1/analytics/kpis?month=2026-10&by=district", headers=owner).json()
    assert [row["key"] for row in own["rows"]] == ["徐汇区"] and own["total"]["elevators"] == 2
    theirs = client.get("/api/v1/analytics/coverage/gaps?kind=mobile_signal", headers=owner).json()
    assert [g["registration_code"] for g in theirs["rows"]] == [B4]
    assert client.get("/api/v1/analytics/coverage", headers=auth(client, Role.INSPECTOR)).status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kpis?month=2026-13&by=district", "month"),
        ("kpis?month=October&by=district", "month"),
        ("kpis?month=2026-10&year=2026", "month"),
        ("kpis?by=colour", "by"),
        ("kpis?year=20266", "year"),
        ("trend?kpi=speed", "kpi"),
        ("trend?kpi=fault&months=0", "months"),
        ("trend", "kpi"),
        ("coverage/gaps?kind=wifi", "kind"),
        ("coverage/gaps?kind=mobile_signal&page=0", "page"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_the_field(
    client: TestClient, session: Session, clock: FixedClock, query: str, field: str
) -> None:
    seed(session, clock)
    r = client.get(f"/api/v1/analytics/{query}", headers=auth(client, Role.REGULATOR))
    assert r.status_code == 422, r.text
    assert field in [e["field"].split(".")[-1] for e in r.json()["errors"]], r.json()
