"""The rescue API end to end on both databases: an operator takes a call by rescue code, the crew works
it through the crew API, and the KPIs endpoint reports the result."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.registry.domain import UnitType
from liftwatch.registry.schemas import UnitCreate
from liftwatch.registry.service import create_unit
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import GeoPoint
from tests.factories import PASSWORD, auth, seed, token


def auth_as(client: TestClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, username)}"}


def test_call_crew_and_kpis(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    rescue.add_crew(
        session, SYSTEM_ACTOR, "A1", "MU-A", "一组", GeoPoint(31.22, 121.46), clock, username="maint_a"
    )
    session.commit()
    op, crew = auth(client, Role.RESCUE_OPERATOR), auth(client, Role.MAINTENANCE)
    t0 = clock.now()
    r = client.post(
        "/api/v1/rescue/incidents",
        headers=op,
        json={
            "code": "100001",
            "persons_trapped": 2,
            "caller_name": "李女士",
            "callback_phone": "13800000000",
        },
    )
    assert r.status_code == 201, r.text
    inc = r.json()["incident"]
    assert (inc["registration_code"], inc["status"], inc["level"], inc["crew_id"]) == (
        "11SHA000001",
        "dispatched",
        "L1",
        "A1",
    )
    again = client.post("/api/v1/rescue/incidents", headers=op, json={"code": "11SHA000001"})
    assert again.status_code == 200 and again.json() == {
        "created": False,
        "incident": again.json()["incident"],
    }
    assert again.json()["incident"]["id"] == inc["id"]
    assert [i["id"] for i in client.get("/api/v1/rescue/incidents", headers=crew).json()] == [inc["id"]]
    path = f"/api/v1/rescue/incidents/{inc['id']}"
    for step, minutes, body in (
        ("acknowledge", 1, None),
        ("arrive", 12, None),
        ("release", 3, {"all_released": True}),
        ("complete", 10, {"cause": "power_cut", "detail": "市电中断"}),
    ):
        clock.advance(timedelta(minutes=minutes))
        r = client.post(f"{path}/{step}", headers=crew, json=body)
        assert r.status_code == 200, (step, r.text)
    detail = client.get(path, headers=op).json()
    assert [e["kind"] for e in detail["events"]] == [
        "raised", "dispatched", "joined", "acknowledged", "arrived", "released", "completed",
    ]  # fmt: skip
    assert detail["callback_at"] is None
    assert detail["arrived_at"].startswith((t0 + timedelta(minutes=13)).isoformat()[:19])
    r = client.post(f"{path}/call-back", headers=crew, json={"note": "x"})
    assert r.status_code == 403
    r = client.post(f"{path}/call-back", headers=op, json={"note": "乘客已平安"})
    assert r.status_code == 200 and r.json()["callback_at"] is not None
    assert client.post(f"{path}/call-back", headers=op, json={}).status_code == 409  # once
    r = client.post(f"{path}/complete", headers=crew, json={"cause": "misuse"})
    assert r.status_code == 409
    r = client.post(f"{path}/complete", headers=crew, json={"cause": "aliens"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cause"

    k = client.get("/api/v1/rescue/kpis", headers=auth(client, Role.REGULATOR)).json()
    assert k["incidents"] == 1 and k["rescues"] == 1
    assert (k["response_rate"]["numerator"], k["response_rate"]["denominator"]) == (1, 1)
    assert k["average_arrival"]["minutes"] == 13.0 and k["average_arrival"]["met"] is True
    assert (k["on_time_arrival"]["numerator"], k["on_time_arrival"]["denominator"]) == (1, 1)
    assert k["average_on_site"]["minutes"] == 3.0
    assert k["entrapment_rate"]["entrapments"] == 1 and k["entrapment_rate"]["elevators"] == 4
    assert k["by_level"]["L1"]["numerator"] == 1 and k["cause_mix"]["power_cut"]["numerator"] == 1
    only_b = client.get("/api/v1/rescue/kpis?unit=MU-B", headers=auth(client, Role.REGULATOR)).json()
    assert only_b["incidents"] == 0 and only_b["entrapment_rate"]["elevators"] == 2
    reg = auth(client, Role.REGULATOR)
    by_district = client.get("/api/v1/rescue/kpis?group_by=district", headers=reg).json()["groups"]
    assert sorted(by_district) == [
        "徐汇区",
        "静安区",
    ]  # every district with elevators, with or without incidents
    assert (
        by_district["静安区"]["incidents"] == 1 and by_district["静安区"]["entrapment_rate"]["elevators"] == 2
    )
    assert by_district["徐汇区"]["incidents"] == 0 and by_district["徐汇区"]["response_rate"]["value"] is None
    by_unit = client.get("/api/v1/rescue/kpis?group_by=maintenance_unit", headers=reg).json()["groups"]
    assert {k: v["incidents"] for k, v in by_unit.items()} == {"MU-A": 1, "MU-B": 0}
    by_month = client.get(
        "/api/v1/rescue/kpis?group_by=month&from=2026-10-15T00:00:00Z&to=2026-11-30T16:00:00Z", headers=reg
    ).json()["groups"]
    assert sorted(by_month) == ["2026-10", "2026-11"]  # Asia/Shanghai months: the end is 12-01 00:00 there
    assert by_month["2026-11"]["incidents"] == 1
    assert by_month["2026-10"]["entrapment_rate"]["elevators"] == 4
    # months are on the city's clock (LIFTWATCH_TIMEZONE, read at the start): 2026-10-31 20:00 UTC is
    # already November in Shanghai, still October in New York
    window = "group_by=month&from=2026-10-31T20:00:00Z&to=2026-11-30T16:00:00Z"
    in_shanghai = client.get(f"/api/v1/rescue/kpis?{window}", headers=reg).json()["groups"]
    client.app.state.rescue_settings = rescue.RescueSettings.for_city(  # type: ignore[attr-defined]
        Settings(timezone="America/New_York")
    )
    in_new_york = client.get(f"/api/v1/rescue/kpis?{window}", headers=reg).json()["groups"]
    assert (sorted(in_shanghai), sorted(in_new_york)) == (["2026-11"], ["2026-10", "2026-11"])
    assert client.get("/api/v1/rescue/kpis?group_by=planet", headers=reg).status_code == 422
    bad = client.get("/api/v1/rescue/kpis?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", headers=op)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"


def test_a_crew_binds_only_a_user_of_its_own_unit(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    """Whoever logs in as a crew sees and acts on its incidents: another company's user must not be bound,
    by any role (admin included); a rescue station's crew binds a user of the station."""
    seed(session, clock)
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="maint_b", password=PASSWORD, role=Role.MAINTENANCE, unit="MU-B"),
        clock,
    )
    create_unit(
        session,
        SYSTEM_ACTOR,
        UnitCreate(code="RS-9", name="救援站", unit_type=UnitType.RESCUE_STATION),
        clock,
    )
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="station", password=PASSWORD, role=Role.MAINTENANCE, unit="RS-9"),
        clock,
    )
    session.commit()
    crew = {"name": "一组", "latitude": 31.2, "longitude": 121.4}
    maint, admin = auth(client, Role.MAINTENANCE), auth(client, Role.ADMIN)
    for headers, body in (
        (maint, {"id": "X1", "unit": "MU-A", "username": "maint_b"}),  # another company's user
        (admin, {"id": "X2", "unit": "MU-A", "username": "maint_b"}),
        (admin, {"id": "X3", "unit": "MU-A", "username": "regulator"}),  # a user of no unit
        (admin, {"id": "X4", "unit": "RS-9", "username": "maint_a"}),
        (admin, {"id": "X5", "unit": "MU-A", "username": "ghost"}),
    ):
        r = client.post("/api/v1/rescue/crews", headers=headers, json={**crew, **body})
        assert r.status_code == 422, (body, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["username"]
    ok = client.post(
        "/api/v1/rescue/crews",
        headers=maint,
        json={**crew, "id": "A1", "unit": "MU-A", "username": "maint_a"},
    )
    assert ok.status_code == 201, ok.text
    ok = client.post(
        "/api/v1/rescue/crews",
        headers=admin,
        json={**crew, "id": "S1", "unit": "RS-9", "username": "station"},
    )
    assert ok.status_code == 201, ok.text
    # the refused binding gave maint_b nothing: it is no crew
    r = client.post(
        "/api/v1/rescue/crews/me/position",
        headers=auth_as(client, "maint_b"),
        json={"latitude": 31.2, "longitude": 121.4},
    )
    assert r.status_code == 403
