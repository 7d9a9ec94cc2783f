"""The repair fund's routes end to end: a request sent twice answers 200 with the same request, an office
elevator's hazard is refused naming the field, an approval above the amount asked for names its field, a
payment recorded twice is one, and the ledger and the city's list read back the figures."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture


def _hazard(session: Session, people: dict[str, Actor], clock: FixedClock, code: str, ref: str) -> int:
    out = service.report(
        session, people["regulator"], code, HazardSource.SPOT_CHECK, ref, HazardLevel.GENERAL, "制动器磨损",
        clock, Settings(),
    )  # fmt: skip
    session.commit()
    return out.hazard.id


def test_the_fund_routes(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hid = _hazard(session, people, clock, "11SHB000004", "SC-1")
    office = _hazard(session, people, clock, "11SHB000003", "SC-2")  # a mall's escalator
    owner, regulator = auth(client, Role.USE_UNIT), auth(client, Role.REGULATOR)
    body = {"request_key": "Q-1", "amount_fen": 8_500_000, "quote": "报价单 BJ-118", "purpose": "更换制动器"}
    refused = client.post(f"/api/v1/hazards/{office}/fund", json=body, headers=owner)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "place_type"
    first = client.post(f"/api/v1/hazards/{hid}/fund", json=body, headers=owner)
    again = client.post(f"/api/v1/hazards/{hid}/fund", json=body, headers=owner)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json()["request"]["id"] == again.json()["request"]["id"]
    other = client.post(f"/api/v1/hazards/{hid}/fund", json={**body, "request_key": "Q-2"}, headers=owner)
    assert other.status_code == 409
    zero = client.post(
        f"/api/v1/hazards/{hid}/fund", json={**body, "request_key": "Q-3", "amount_fen": 0}, headers=owner
    )
    assert zero.status_code == 422 and zero.json()["errors"][0]["field"] == "amount_fen"
    too_much = client.post(
        f"/api/v1/hazards/{hid}/fund/approve", json={"approved_fen": 9_000_000}, headers=regulator
    )
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "approved_fen"
    ok = client.post(f"/api/v1/hazards/{hid}/fund/approve", json={}, headers=regulator)
    assert ok.status_code == 200 and ok.json()["approved_fen"] == 8_500_000
    pay = {"amount_fen": 5_000_000, "paid_on": "2026-11-23", "voucher": "PZ-1"}
    paid = client.post(f"/api/v1/hazards/{hid}/fund/payments", json=pay, headers=owner)
    twice = client.post(f"/api/v1/hazards/{hid}/fund/payments", json=pay, headers=owner)
    assert (paid.status_code, twice.status_code) == (201, 200)
    assert twice.json()["request"]["paid_fen"] == 5_000_000
    over = client.post(
        f"/api/v1/hazards/{hid}/fund/payments",
        json={**pay, "voucher": "PZ-2", "amount_fen": 3_500_001},
        headers=owner,
    )
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount_fen"
    ledger = client.get(f"/api/v1/hazards/{hid}/fund", headers=auth(client, Role.INSPECTOR)).json()
    assert [p["voucher"] for p in ledger[0]["payments"]] == ["PZ-1"]
    city = client.get("/api/v1/hazards/fund?state=approved", headers=regulator).json()
    assert city["by_district"] == [
        {
            "district": "徐汇区",
            "requests": 1,
            "requested_fen": 8_500_000,
            "approved_fen": 8_500_000,
            "paid_fen": 5_000_000,
        }
    ]
    assert client.get("/api/v1/hazards/fund", headers=owner).status_code == 403
