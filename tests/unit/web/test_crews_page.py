"""The crews' admin screens (/crews): the list in each role's scope (another unit's crew is not found),
operators reading every crew and changing none, a crew created, changed, stood down and brought back
through the pages' forms with their CSRF token, the service's refusals shown next to their fields, an
incident waiting for a crew dispatched by the change (and the page saying so), and every label in Chinese
by default (no raw key) or in English."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import NotFound
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from tests.factories import PASSWORD, USERS, certify, km_north, rescue_city, seed
from tests.unit.web.forms import FIELD, web_login

HTML = {"Accept": "text/html"}
A1, B3 = "11SHA000001", "11SHB000003"  # MU-A's, MU-B's
ROW = re.compile(r'<tr data-crew="([^"]+)"')
RAW_KEY = re.compile(r"\b(crews|nav|common|console|error)\.[a-z_]+")


@pytest.fixture
def city(session: Session, clock: FixedClock) -> None:
    """tests.factories.rescue_city (A1, A2 of MU-A; RS1 of the rescue station RS-1) and B1 of MU-B."""
    seed(session, clock)
    rescue_city(session, clock)
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="crew_b1", password="long-password", role=Role.MAINTENANCE, unit="MU-B"),
        clock,
    )
    certify(session, "crew_b1", "MU-B", clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "B1", "MU-B", "申城一组", km_north(20), clock, username="crew_b1")
    session.commit()


def login(client: TestClient, role: Role) -> None:
    web_login(client, USERS[role][0], PASSWORD)


def rows(html: str) -> list[str]:
    return ROW.findall(html)


def main_text(html: str) -> str:
    """The text a reader sees in the page's main part (tags, scripts and styles removed)."""
    main = html.split('<main id="main"', 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def english_words(text: str) -> set[str]:
    """Latin words other than codes (with a digit or a dash: MU-A, A1) and the shift's example."""
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_-]*", text))
    return {w for w in words if not any(c.isdigit() or c == "-" for c in w)} - {"crew_a", "crew_rs"}


def form_post(client: TestClient, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form as a browser without htmx does: the token is the form's hidden field, no header."""
    token = FIELD.search(client.get(page, headers=HTML).text)
    assert token, f"no form on {page}"
    header = client.headers.pop("X-CSRF-Token", None)
    try:
        response: httpx.Response = client.post(
            action, data={**data, "csrf_token": token.group(1)}, headers=HTML, follow_redirects=False
        )
    finally:
        if header is not None:
            client.headers["X-CSRF-Token"] = header
    return response


def crew(session: Session, crew_id: str) -> rescue.StoredCrew:
    session.expire_all()
    return rescue.get_crew(session, SYSTEM_ACTOR, crew_id)


def waiting_call(session: Session, clock: FixedClock, code: str = A1) -> rescue.StoredIncident:
    call = rescue.Report(code, Source.PHONE)
    inc = rescue.report(session, SYSTEM_ACTOR, call, clock, rescue.RescueSettings()).incident
    session.commit()
    return inc


NEW_CREW = {
    "id": "A3",
    "name": "三组",
    "phone": "13900000003",
    "unit": "MU-A",
    "username": "",
    "shift": "",
    "latitude": "31.2310",
    "longitude": "121.4700",
}


# ---------------------------------------------------------------- the list and scope


def test_admin_sees_every_crew_in_chinese(client: TestClient, session: Session, city: None) -> None:
    login(client, Role.ADMIN)
    page = client.get("/crews", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert 'id="nav-crews" aria-current="page">救援班组' in html
    assert rows(html) == ["A1", "A2", "B1", "RS1"]
    assert 'id="crew-form"' in html and 'id="c-unit"' in html  # the admin picks the unit
    text = main_text(html)
    for words in ("救援班组", "班组编号", "所属单位", "登录账号", "班次", "在岗状态", "当前任务",
                  "位置更新时间", "全天", "在岗", "空闲", "浦江电梯维保有限公司", "黄浦救援站", "新增班组",
                  "停派"):  # fmt: skip
        assert words in text, words
    assert not RAW_KEY.search(text), RAW_KEY.search(text)
    assert english_words(text) == set(), english_words(text)
    edit = client.get("/crews/RS1", headers=HTML)
    text = main_text(edit.text)
    assert edit.status_code == 200 and "修改班组" in text and "保存修改" in text
    assert not RAW_KEY.search(text) and english_words(text) == set(), english_words(text)
    assert client.get("/crews?unit=MU-B", headers=HTML).text.count("<tr data-crew=") == 1


def test_english(client: TestClient, session: Session, city: None) -> None:
    login(client, Role.REGULATOR)
    client.cookies.set("lang", "en")
    text = main_text(client.get("/crews", headers=HTML).text)
    for words in ("Rescue crews", "Crew ID", "Login user", "All day", "On duty", "Add a crew", "Stand down"):
        assert words in text, words
    assert not RAW_KEY.search(text)


def test_unit_staff_see_their_units_crews_only(client: TestClient, session: Session, city: None) -> None:
    login(client, Role.MAINTENANCE)  # maint_a of MU-A
    page = client.get("/crews", headers=HTML)
    assert page.status_code == 200 and 'id="nav-crews"' in page.text
    assert rows(page.text) == ["A1", "A2"]
    assert 'id="c-unit"' not in page.text and "浦江电梯维保有限公司（MU-A）" in page.text  # its own unit
    assert 'id="crews-filter"' not in page.text
    for path in ("/crews/B1", "/crews/RS1", "/crews/nobody", "/crews?unit=MU-B"):
        assert client.get(path, headers=HTML).status_code == 404, path
    for action in ("stand-down", "bring-back"):
        assert client.post(f"/crews/B1/{action}", headers=HTML).status_code == 404, action
    r = client.post(
        "/crews/B1", data={"name": "改名", "latitude": "31.2", "longitude": "121.4"}, headers=HTML
    )
    assert r.status_code == 404
    assert crew(session, "B1").name == "申城一组" and crew(session, "B1").on_shift
    forged = client.get("/crews?done=created&crew=B1&incident=7", headers=HTML).text
    assert 'id="crew-flash"' not in forged  # another unit's crew: no message about it
    assert 'id="crew-flash"' in client.get("/crews?done=created&crew=A1", headers=HTML).text


def test_operators_read_every_crew_and_change_none(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = waiting_call(session, clock)  # A1, the nearest of MU-A, is sent
    assert inc.crew_id == "A1"
    login(client, Role.RESCUE_OPERATOR)
    page = client.get("/crews", headers=HTML)
    assert page.status_code == 200 and rows(page.text) == ["A1", "A2", "B1", "RS1"]
    assert 'id="crew-form"' not in page.text and 'id="stand-down-A1"' not in page.text
    assert "只读" in main_text(page.text) and 'id="crews-filter"' in page.text
    assert f'href="/console/incidents/{inc.id}"' in page.text  # the busy crew's job, on the console
    assert f"正在处置事件 #{inc.id}" in main_text(page.text)
    detail = client.get("/crews/A1", headers=HTML)
    assert detail.status_code == 200 and 'id="crew-read-only"' in detail.text
    assert 'id="crew-form"' not in detail.text
    assert client.post("/crews/A2/stand-down", headers=HTML).status_code == 403
    assert client.post("/crews", data=NEW_CREW, headers=HTML).status_code == 403
    assert crew(session, "A2").on_shift
    with pytest.raises(NotFound):
        crew(session, "A3")


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.INSPECTOR, 403), (Role.GATEWAY, 403), (Role.USE_UNIT, 200), (Role.PUBLIC, 303)],
)
def test_other_roles(role: Role, status: int, client: TestClient, session: Session, city: None) -> None:
    if role is not Role.PUBLIC:
        login(client, role)
    page = client.get("/crews", headers=HTML, follow_redirects=False)
    assert page.status_code == status
    if role is Role.PUBLIC:
        assert page.headers["location"] == "/login?next=%2Fcrews"
        return
    assert 'id="nav-crews"' not in page.text
    if role is Role.USE_UNIT:  # a use unit has no crews: an empty list, nothing to add
        assert rows(page.text) == [] and 'id="crews-empty"' in page.text and 'id="crew-form"' not in page.text


# ---------------------------------------------------------------- the forms


def test_admin_creates_a_crew_that_takes_a_waiting_incident(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    rescue_city(session, clock)  # A1, A2 of MU-A: both stood down below, so the call waits
    for cid in ("A1", "A2"):
        rescue.set_crew_on_shift(session, SYSTEM_ACTOR, cid, False, clock, rescue.RescueSettings())
    session.commit()
    inc = waiting_call(session, clock)
    assert inc.crew_id is None
    login(client, Role.ADMIN)
    r = form_post(client, "/crews", "/crews", NEW_CREW)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/crews?done=created&crew=A3&incident={inc.id}"
    added = crew(session, "A3")
    assert (added.unit, added.name, added.phone, added.busy_incident_id) == (
        "MU-A",
        "三组",
        "13900000003",
        inc.id,
    )
    assert rescue.get_incident(session, SYSTEM_ACTOR, inc.id).crew_id == "A3"
    flash = client.get(r.headers["location"], headers=HTML).text
    assert f"已新增班组 A3。 等待派单的事件 #{inc.id} 已派给班组 A3。" in main_text(flash)
    assert 'id="crew-flash-dispatched"' in flash


def test_a_form_without_its_token_is_refused(client: TestClient, session: Session, city: None) -> None:
    login(client, Role.ADMIN)
    client.headers.pop("X-CSRF-Token")
    for action, data in (("/crews", NEW_CREW), ("/crews/A1/stand-down", {}), ("/crews/A1", NEW_CREW)):
        assert client.post(action, data=data, headers=HTML).status_code == 403, action
    assert crew(session, "A1").on_shift and crew(session, "A1").name == "一组"


def test_field_errors_next_to_their_fields(client: TestClient, session: Session, city: None) -> None:
    login(client, Role.ADMIN)
    cases = [
        ({"shift": "8-20"}, "shift", "is not HH:MM-HH:MM"),
        ({"shift": "25:00-08:00"}, "shift", "hours 00-23"),
        ({"phone": "12"}, "phone", None),
        ({"latitude": "north"}, "latitude", "请填写数字"),
        ({"latitude": "95"}, "latitude", "out of range"),
        ({"id": "A1"}, "id", "already exists"),
        ({"id": "a b"}, "id", "letters, digits"),
        ({"name": " "}, "name", "required"),
        ({"username": "crew_b1"}, "username", "may only be bound to a user of 'MU-A'"),
        ({"username": "crew_a2"}, "username", "already the login of crew 'A2'"),
        ({"unit": "UU-A"}, "unit", "请选择可管理的单位"),
    ]
    for change, field, words in cases:
        r = form_post(client, "/crews", "/crews", {**NEW_CREW, **change})
        assert r.status_code == 422, (change, r.status_code)
        found = re.search(rf'<p class="field-error" id="err-{field}">([^<]*)</p>', r.text)
        assert found, (change, field)
        if words is not None:
            assert words in found.group(1).replace("&#39;", "'"), (change, found.group(1))
        assert f'id="c-{field}"' in r.text.split(f'id="err-{field}"')[0].rsplit('<div class="field">', 1)[1]
    assert rows(client.get("/crews").text) == ["A1", "A2", "B1", "RS1"]  # nothing added
    r = form_post(client, "/crews/A1", "/crews/A1", {**NEW_CREW, "shift": "20:00-20:00"})
    assert r.status_code == 422 and 'id="err-shift"' in r.text
    assert 'value="20:00-20:00"' in r.text  # what was typed stays
    assert crew(session, "A1").shift_start is None


def test_unit_staff_edit_stand_down_and_bring_back(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    login(client, Role.MAINTENANCE)
    r = form_post(
        client,
        "/crews/A2",
        "/crews/A2",
        {
            "name": "二组（夜班）",
            "phone": "021-55551234",
            "unit": "MU-B",  # ignored: unit staff cannot move a crew to another unit
            "username": "",
            "shift": "20:00-08:00",
            "latitude": "31.25",
            "longitude": "121.48",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/crews?done=changed&crew=A2"
    a2 = crew(session, "A2")
    assert (a2.name, a2.unit, a2.username, rescue.format_shift(a2)) == (
        "二组（夜班）",
        "MU-A",
        None,
        "20:00-08:00",
    )
    assert (a2.latitude, a2.longitude) == (31.25, 121.48)

    r = form_post(client, "/crews", "/crews/A1/stand-down", {})
    assert r.status_code == 303 and r.headers["location"] == "/crews?done=stood_down&crew=A1"
    assert not crew(session, "A1").on_shift
    page = client.get(r.headers["location"], headers=HTML).text
    assert "班组 A1 已停派。" in main_text(page) and 'id="bring-back-A1"' in page
    assert 'data-state="stood_down"' in page.split('data-crew="A1"')[2]

    # A call while A1 is stood down and A2 is off shift (17:00 in Shanghai): it waits for a crew.
    inc = waiting_call(session, clock)
    assert inc.crew_id is None
    r = form_post(client, "/crews", "/crews/A1/bring-back", {})
    assert r.status_code == 303
    assert r.headers["location"] == f"/crews?done=back&crew=A1&incident={inc.id}"
    assert crew(session, "A1").on_shift and crew(session, "A1").busy_incident_id == inc.id
    text = main_text(client.get(r.headers["location"], headers=HTML).text)
    assert f"班组 A1 已恢复在岗。 等待派单的事件 #{inc.id} 已派给班组 A1。" in text


def test_admin_moves_a_crew_and_binds_a_login(client: TestClient, session: Session, city: None) -> None:
    login(client, Role.ADMIN)
    form = {"name": "二组", "phone": "", "unit": "MU-B", "username": "crew_b1", "shift": ""}
    form |= {"latitude": "31.29", "longitude": "121.47"}
    r = form_post(client, "/crews/A2", "/crews/A2", form)
    assert r.status_code == 422 and "already the login of crew" in r.text  # crew_b1 is B1's
    r = form_post(client, "/crews/A2", "/crews/A2", {**form, "username": ""})
    assert r.status_code == 303
    a2 = crew(session, "A2")
    assert (a2.unit, a2.username) == ("MU-B", None)
    assert rescue.may_manage_crews(session, Actor("regulator", Role.REGULATOR), "MU-B")
    assert not rescue.may_manage_crews(session, Actor("operator", Role.RESCUE_OPERATOR), "MU-B")
