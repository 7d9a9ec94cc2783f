"""The complaint routes end to end: intake twice answers 201 then 200 with the same complaint, refusals name
their field, the list masks the complainant for the centre and hides them from units, and the public status
by receipt needs no login and shows no person and no text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


BODY = {
    "channel": "hotline_12345",
    "external_ref": "12345-20261123-0001",
    "category": "entrapment",
    "text": "昨晚被困电梯二十分钟",
    "code": "100001",
    "complainant_name": "张三丰",
    "complainant_phone": "13812345678",
}


def test_intake_list_detail_and_the_public_status(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    centre = auth(client, Role.RESCUE_OPERATOR)
    first = client.post("/api/v1/complaints", json=BODY, headers=centre)
    again = client.post("/api/v1/complaints", json=BODY, headers=centre)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    c = first.json()["complaint"]
    assert again.json()["complaint"]["id"] == c["id"]
    assert (c["state"], c["responsible_unit"], c["complainant_phone"]) == ("assigned", "MU-A", "13812345678")

    bad = client.post(
        "/api/v1/complaints", json={**BODY, "external_ref": "x", "code": "NOPE"}, headers=centre
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "code"
    bad = client.post("/api/v1/complaints", json={**BODY, "category": "weather"}, headers=centre)
    assert bad.status_code == 422 and "category" in bad.json()["errors"][0]["field"]
    bad = client.post("/api/v1/complaints", json={**BODY, "channel": "public_page"}, headers=centre)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "channel"

    [row] = client.get("/api/v1/complaints?channel=hotline_12345", headers=centre).json()
    assert (row["complainant_name"], row["complainant_phone"]) == ("张**", "138****5678")
    assert client.get("/api/v1/complaints?overdue=true", headers=centre).json() == []

    unit = auth(client, Role.MAINTENANCE)
    [row] = client.get("/api/v1/complaints", headers=unit).json()
    assert row["complainant_name"] == "" and row["complainant_phone"] == ""
    detail = client.get(f"/api/v1/complaints/{c['id']}", headers=unit).json()
    assert detail["moves"] == ["answer"] and "13812345678" not in str(detail)
    empty = client.post(f"/api/v1/complaints/{c['id']}/answer", json={"answer": ""}, headers=unit)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"].endswith("answer")
    done = client.post(f"/api/v1/complaints/{c['id']}/answer", json={"answer": "已排查曳引机"}, headers=unit)
    assert done.status_code == 200 and done.json()["state"] == "answered"
    twice = client.post(f"/api/v1/complaints/{c['id']}/answer", json={"answer": "再答"}, headers=unit)
    assert twice.status_code == 409

    status = client.get(f"/api/v1/complaints/receipt/{c['receipt']}")  # no login
    assert status.status_code == 200
    assert status.json()["state"] == "answered" and status.json()["answered"] is True
    assert "张" not in status.text and "1381" not in status.text and "被困" not in status.text
    assert client.get("/api/v1/complaints/receipt/TSNOTHING").status_code == 404
