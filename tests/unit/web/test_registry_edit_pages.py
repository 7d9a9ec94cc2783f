"""Registering and editing an elevator on screen (/registry/elevators/new, /elevators/{code}/edit): who may,
the API's checks with each refused field named beside its input in Chinese, units picked by name, and the
timeline holding the registration and each change with its old and new value."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit
from tests.factories import seed
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

NEW = {
    "registration_code": "31SH0701",
    "rescue_code": "200701",
    "kind": "traction",
    "place_type": "residential",
    "district": "静安区",
    "street": "南京西路街道",
    "address": "南京西路701号",
    "floors": "18",
    "installation_date": "2015-06-01",
    "no_repair_fund": "1",
    "mobile_signal": "yes",
}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="err-([a-z_]+)">([^<]+)</p>', html))


def timeline(session: Session, code: str) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.execute(
        select(ElevatorEvent.kind, ElevatorEvent.summary)
        .join(Elevator, Elevator.id == ElevatorEvent.elevator_id)
        .where(Elevator.registration_code == code)
        .order_by(ElevatorEvent.id)
    )
    return [(str(k), str(s)) for k, s in rows]


def test_only_admin_and_regulator_register_and_edit(client: TestClient, seeded: None) -> None:
    web_login(client, "maint_a")
    assert client.get("/registry/elevators/new").status_code == 403
    assert client.get("/elevators/11SHA000001/edit").status_code == 403
    assert 'id="file-edit"' not in client.get("/elevators/11SHA000001").text
    client.cookies.clear()
    web_login(client, "regulator")
    assert "登记电梯" in client.get("/registry/elevators/new").text
    assert 'id="file-edit"' in client.get("/elevators/11SHA000001").text


def test_register_with_a_unit_picked_by_name(client: TestClient, session: Session, seeded: None) -> None:
    web_login(client, "regulator")
    use_name = session.scalar(select(Unit.name).where(Unit.code == "UU-A"))
    r = client.post(
        "/registry/elevators/new",
        data={**NEW, "use_unit": use_name, "maintenance_unit": "浦江电梯维保有限公司（MU-A）"},
        follow_redirects=False,
    )
    assert r.status_code == 303, field_errors(r.text)
    assert r.headers["location"] == "/elevators/31SH0701?done=registered"
    e = session.scalar(select(Elevator).where(Elevator.registration_code == "31SH0701"))
    assert e is not None
    assert (e.use_unit.code, e.maintenance_unit.code, e.floors, e.no_repair_fund, e.mobile_signal) == (
        "UU-A",
        "MU-A",
        18,
        True,
        True,
    )
    assert [k for k, _ in timeline(session, "31SH0701")] == ["registration"]
    assert "电梯已登记" in client.get(r.headers["location"]).text


def test_refused_fields_are_named_in_chinese(client: TestClient, session: Session, seeded: None) -> None:
    web_login(client, "regulator")
    bad = {
        **NEW,
        "district": "",
        "floors": "十八",
        "installation_date": "2015-13-01",
        "use_unit": "没有这个单位",
    }
    r = client.post("/registry/elevators/new", data=bad)
    assert r.status_code == 422
    assert field_errors(r.text) == {
        "district": "必填",
        "floors": "应为数字",
        "installation_date": "日期无效",
        "use_unit": "找不到该单位，或单位类型不符：请从列表中选择",
    }
    assert 'value="南京西路701号"' in r.text  # what was typed is kept
    taken = client.post("/registry/elevators/new", data={**NEW, "registration_code": "11SHA000001"})
    assert taken.status_code == 409 and field_errors(taken.text) == {"registration_code": "已被其他电梯使用"}
    assert session.scalar(select(Elevator.id).where(Elevator.registration_code == "31SH0701")) is None


def test_an_edit_lands_on_the_timeline(client: TestClient, session: Session, seeded: None) -> None:
    web_login(client, "regulator")
    page = client.get("/elevators/11SHA000002/edit")
    assert page.status_code == 200 and 'name="registration_code"' not in page.text  # fixed after registration
    values = dict(re.findall(r'<input id="f-([a-z_]+)" name="[a-z_]+" value="([^"]*)"', page.text))
    values.update(
        re.findall(
            r'<select id="f-([a-z_]+)" name="[a-z_]+"[^>]*>\s*'
            r'(?:<option[^>]*>[^<]*</option>)*?<option value="([^"]*)" selected',
            page.text,
        )
    )
    values["building"], values["maintenance_unit"] = "7号楼", "MU-B"
    r = client.post("/elevators/11SHA000002/edit", data=values, follow_redirects=False)
    assert r.status_code == 303, field_errors(r.text)
    kinds = timeline(session, "11SHA000002")
    assert kinds[-2:] == [("maintenance_unit_change", kinds[-2][1]), ("record_update", "changed building")]
    e = session.scalar(select(Elevator).where(Elevator.registration_code == "11SHA000002"))
    assert e is not None and (e.building, e.maintenance_unit.code) == ("7号楼", "MU-B")
    # the same form again changes nothing: no entry
    again = client.post("/elevators/11SHA000002/edit", data=values, follow_redirects=False)
    assert again.status_code == 303 and len(timeline(session, "11SHA000002")) == len(kinds)


def event_kinds(html: str) -> list[str]:
    found = re.search(r'<select id="event-kind" name="kind">(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([a-z_]+)"', found.group(1)) if found else []


def test_life_events_on_the_file_page(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    """Each role is offered the life events it may record and that fit the status; a suspension changes
    the status and lands on the timeline; a day after today is refused beside the date."""
    web_login(client, "maint_a")  # MU-A maintains 11SHA000001
    assert event_kinds(client.get("/elevators/11SHA000001").text) == ["modernisation", "major_repair"]
    refused = client.post("/elevators/11SHA000001/events", data={"kind": "suspension", "on": "2026-11-01"})
    assert refused.status_code == 422 and "请选择可记录的事件" in refused.text
    client.cookies.clear()
    web_login(client, "regulator")
    page = client.get("/elevators/11SHA000001").text
    assert event_kinds(page) == ["acceptance", "modernisation", "major_repair", "suspension", "scrapping"]
    today = clock.now().date().isoformat()
    future = client.post("/elevators/11SHA000001/events", data={"kind": "suspension", "on": "2999-01-01"})
    assert future.status_code == 422 and "日期不能晚于今天" in future.text
    done = client.post(
        "/elevators/11SHA000001/events",
        data={"kind": "suspension", "on": today, "summary": "安全回路故障，停梯待修"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.expire_all()
    e = session.scalar(select(Elevator).where(Elevator.registration_code == "11SHA000001"))
    assert e is not None and e.status == "suspended"
    assert timeline(session, "11SHA000001")[-1] == ("suspension", "安全回路故障，停梯待修")
    after = client.get(done.headers["location"]).text
    assert "事件已记录" in after and event_kinds(after) == [
        "acceptance",
        "modernisation",
        "major_repair",
        "restart",
        "scrapping",
    ]
