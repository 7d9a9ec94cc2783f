"""The ratings API: the regulator rates a period and reads every unit's lines (summing to the total) with
the settings used; maintenance staff read their own unit's row only; the public read needs no login and
carries unit names and figures, no person."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.core.clock import FixedClock
from tests.factories import auth
from tests.unit.ratings.test_queries import hand_made_quarter

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


def test_rate_read_and_publish(client: TestClient, session: Session, clock: FixedClock) -> None:
    hand_made_quarter(session, clock)
    session.commit()
    regulator = auth(client, Role.REGULATOR)
    done = client.post("/api/v1/ratings/compute", json={"period": "2026-q3"}, headers=regulator)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["period"]["label"] == "2026-Q3" and body["settings"]["min_elevators"] == 20
    # default settings: MU-A (3 elevators) and MU-B (1) are too small to be rated
    assert [(r["unit_code"], r["rated"], r["stars"]) for r in body["ratings"]] == [
        ("MU-A", False, None),
        ("MU-B", False, None),
    ]
    assert body["ratings"][0]["why"] == [{"code": "too_few_elevators", "elevators": 3, "min": 20}]
    assert body["ratings"][0]["figures"]["counts"]["entrapments"] == 2

    again = client.post("/api/v1/ratings/compute", json={"period": "2026-Q3"}, headers=regulator)
    assert again.json()["ratings"] == body["ratings"]  # idempotent
    bad = client.post("/api/v1/ratings/compute", json={"period": "2026-Q7"}, headers=regulator)
    assert bad.status_code == 422

    maint = auth(client, Role.MAINTENANCE)
    own = client.get("/api/v1/ratings/periods/2026-Q3", headers=maint).json()
    assert [r["unit_code"] for r in own["ratings"]] == ["MU-A"] and own["settings"] is None
    history = client.get("/api/v1/ratings/units/MU-A", headers=maint).json()
    assert [i["period"]["label"] for i in history["items"]] == ["2026-Q3"]
    assert client.get("/api/v1/ratings/units/MU-B", headers=maint).status_code == 404

    public = client.get("/api/v1/ratings/public")
    assert public.status_code == 200
    shown = public.json()
    assert shown["period"]["label"] == "2026-Q3" and len(shown["ratings"]) == 2
    assert {r["unit_name"] for r in shown["ratings"]} == {"浦江电梯维保有限公司", "申城电梯工程有限公司"}
    assert "computed_by" not in shown["period"] and "regulator" not in public.text  # no username
