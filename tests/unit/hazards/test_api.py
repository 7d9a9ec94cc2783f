"""The hazard routes end to end: a redelivered report answers 200 with the same hazard, a major hazard
overdue shows on the public supervised list without a login and without personal data or free text."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.hazards import service
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture


def test_report_twice_then_the_public_supervised_list(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    headers = auth(client, Role.INSPECTOR)
    body = {
        "code": "100001",
        "source": "inspection",
        "source_ref": "DJ-9:1",
        "level": "major",
        "description": "住户张三反映: 层门门锁啮合深度不足",
    }
    first = client.post("/api/v1/hazards", json=body, headers=headers)
    again = client.post("/api/v1/hazards", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    hazard = first.json()["hazard"]
    assert again.json()["hazard"]["id"] == hazard["id"]
    assert (hazard["state"], hazard["overdue"], hazard["responsible_unit"]) == ("reported", False, "UU-A")
    assert client.get("/api/v1/hazards/supervised").json() == []
    clock.advance(datetime(2026, 12, 8, 16, 0, tzinfo=UTC) - clock.now())  # the major hazard's deadline
    service.fire_due_timers(session, clock)
    session.commit()
    listed = client.get("/api/v1/hazards/supervised")  # no login
    assert listed.status_code == 200
    [row] = listed.json()
    assert (row["hazard_id"], row["level"], row["overdue"], row["district"]) == (
        hazard["id"],
        "major",
        True,
        "静安区",
    )
    assert "张三" not in listed.text and "inspector" not in listed.text
    headers = auth(client, Role.INSPECTOR)  # a new token: the first expired on the clock's way
    detail = client.get(f"/api/v1/hazards/{hazard['id']}", headers=headers).json()
    assert [e["kind"] for e in detail["events"]] == ["reported", "overdue", "supervised"]
    assert detail["hazard"]["overdue"] is True
