"""The crew's phone (/crew): a crew's tasks and its steps through the page's forms (acknowledge, arrive with
or without a position, release, complete with the cause), the deadline it works against, a second tap, the
crew's own dispatch when an escalation put two crews on one incident, scope (another crew or unit: 404),
the roles that may open the pages, and both languages. Incidents are opened and escalated through
rescue.service, as the console and the scheduler do."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.web.crew import parse_position
from tests.factories import PASSWORD, USERS, certify, km_north, rescue_city, seed
from tests.unit.web.forms import web_login

HX = {"HX-Request": "true"}
HTML = {"Accept": "text/html"}
A1, B3 = "11SHA000001", "11SHB000003"
CREW_PASSWORD = "long-password"  # the crews' users in tests.factories.rescue_city
TASK = re.compile(
    r'<article class="task-card[^"]*" id="task-(\d+)"\s+'
    r'data-incident="\d+" data-status="(\w+)" data-step="(\w*)"'
)
STAGE_DONE = re.compile(
    r'data-stage="(\w+)" data-done="true">\s*'
    r'<span class="crew-stage-name">[^<]*</span> <span class="crew-stage-at">([^<]*)<'
)
STEP = re.compile(r'id="crew-step" data-step="(\w*)"')


@pytest.fixture
def city(session: Session, clock: FixedClock) -> None:
    """The seeded registry with A1 located, crews A1 (crew_a1, 2 km) and A2 (crew_a2, 8 km) of MU-A,
    RS1 (crew_rs, 3 km) of the rescue station RS-1, and B1 (crew_b1, 20 km: never the nearest) of MU-B."""
    seed(session, clock)
    rescue_city(session, clock)
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="crew_b1", password=CREW_PASSWORD, role=Role.MAINTENANCE, unit="MU-B"),
        clock,
    )
    certify(session, "crew_b1", "MU-B", clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "B1", "MU-B", "申城一组", km_north(20), clock, username="crew_b1")
    session.commit()


def crew_login(client: TestClient, username: str) -> None:
    web_login(client, username, CREW_PASSWORD)


def report(session: Session, clock: FixedClock, code: str = A1, **kw: Any) -> rescue.StoredIncident:
    call = rescue.Report(code, Source.PHONE, **kw)
    inc = rescue.report(session, SYSTEM_ACTOR, call, clock, rescue.RescueSettings()).incident
    session.commit()
    return inc


def fresh(session: Session, incident_id: int) -> rescue.StoredIncident:
    session.expire_all()
    return rescue.get_incident(session, SYSTEM_ACTOR, incident_id)


def tasks(html: str) -> list[tuple[int, str, str]]:
    return [(int(i), status, step) for i, status, step in TASK.findall(html)]


def step_of(html: str) -> str:
    m = STEP.search(html)
    assert m is not None, "no step section on the page"
    return m.group(1)


def crew_of(session: Session, username: str) -> rescue.StoredCrew:
    crew = rescue.crew_of(session, Actor(username, Role.MAINTENANCE))
    assert crew is not None
    return crew


def visible_text(html: str) -> str:
    """The page's text as a reader sees it (tags, scripts and styles removed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ---------------------------------------------------------------- the steps


def test_crew_sees_its_task_and_takes_every_step(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(
        session, clock, persons_trapped=2, caller_name="李女士", callback_phone="13800000000", notes="9楼"
    )
    assert (inc.status, inc.crew_id) == ("dispatched", "A1")  # the nearest crew of MU-A
    crew_login(client, "crew_a1")

    page = client.get("/crew")
    assert page.status_code == 200
    assert 'id="nav-crew" aria-current="page"' in page.text
    assert tasks(page.text) == [(inc.id, "dispatched", "acknowledge")]
    text = visible_text(page.text)
    assert "我的任务" in text and "一组 · 浦江电梯维保有限公司" in text
    assert "静安区 · 南京西路街道 · 静安区某路01号" in text and "被困 2 人" in text
    assert "接单时限 17:05 · 还剩 5 分钟" in text  # dispatched 09:00 UTC = 17:00 in Shanghai, 5 min to answer
    assert "暂无记录" in text  # nothing closed yet

    clock.advance(timedelta(minutes=2))
    detail = client.get(f"/crew/incidents/{inc.id}").text
    assert step_of(detail) == "acknowledge" and 'id="acknowledge-form"' in detail
    assert "13800000000" in detail and "李女士" in detail and "9楼" in detail
    r = client.post(f"/crew/incidents/{inc.id}/acknowledge", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/crew/incidents/{inc.id}"
    assert fresh(session, inc.id).status == "acknowledged"

    detail = client.get(f"/crew/incidents/{inc.id}").text
    assert step_of(detail) == "arrive" and 'data-geolocate="true"' in detail
    assert "到场时限 17:30 · 还剩 28 分钟" in visible_text(detail)  # 30 min after the alarm
    clock.advance(timedelta(minutes=10))
    r = client.post(
        f"/crew/incidents/{inc.id}/arrive",
        data={"latitude": "31.2301", "longitude": "121.4702"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert fresh(session, inc.id).status == "arrived"
    crew = crew_of(session, "crew_a1")
    assert (crew.latitude, crew.longitude) == (31.2301, 121.4702)

    detail = client.get(f"/crew/incidents/{inc.id}").text
    assert step_of(detail) == "release" and 'id="released-all" checked' in detail
    clock.advance(timedelta(minutes=4))
    assert client.post(f"/crew/incidents/{inc.id}/release", data={"all_released": "no"}).status_code == 200
    inc = fresh(session, inc.id)
    assert (inc.status, inc.all_released) == ("released", False)

    detail = client.get(f"/crew/incidents/{inc.id}").text
    assert step_of(detail) == "complete"
    assert re.findall(r'<option value="(\w*)"', detail) == [
        "",
        "misuse",
        "electro_mechanical",
        "power_cut",
        "other",
    ]
    assert "机电故障" in detail and "停电" in detail
    missing = client.post(f"/crew/incidents/{inc.id}/complete", data={"detail": "门锁"})
    assert (
        missing.status_code == 422 and 'id="err-cause"' in missing.text and "请选择困人原因" in missing.text
    )
    assert "门锁" in missing.text  # what was typed stays
    too_long = client.post(
        f"/crew/incidents/{inc.id}/complete", data={"cause": "misuse", "detail": "长" * 2001}
    )
    assert too_long.status_code == 422 and 'id="err-detail"' in too_long.text
    assert fresh(session, inc.id).status == "released"
    r = client.post(
        f"/crew/incidents/{inc.id}/complete",
        data={"cause": "electro_mechanical", "detail": "门锁回路故障，已修复"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    inc = fresh(session, inc.id)
    assert (inc.status, inc.cause, inc.cause_detail) == (
        "completed",
        "electro_mechanical",
        "门锁回路故障，已修复",
    )

    trail = [(e.kind, e.actor) for e in rescue_queries.incident_events(session, inc)]
    assert trail[-4:] == [
        ("acknowledged", "crew_a1"),
        ("arrived", "crew_a1"),
        ("released", "crew_a1"),
        ("completed", "crew_a1"),
    ]
    detail = client.get(f"/crew/incidents/{inc.id}").text
    assert (
        step_of(detail) == ""
        and 'id="crew-closed"' in detail
        and "<form" not in detail.split('id="crew-step"')[1].split("</section>")[0]
    )
    assert dict(STAGE_DONE.findall(detail)) == {
        "alarm": "17:00",
        "dispatched": "17:00",
        "acknowledged": "17:02",
        "arrived": "17:12",
        "released": "17:16",
        "completed": "17:16",
    }
    assert "机电故障 · 门锁回路故障，已修复" in visible_text(detail) and 'id="f-all-released">否<' in detail

    page = client.get("/crew").text
    assert tasks(page) == [] and 'id="crew-empty"' in page
    assert f'<tr data-incident="{inc.id}" data-status="completed">' in page and "已结案" in page


def test_arrival_without_a_usable_position(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """No position (refused, no fix) or an impossible one: the arrival is recorded, the position is not."""
    inc = report(session, clock)
    crew_login(client, "crew_a1")
    before = crew_of(session, "crew_a1")
    where = (before.latitude, before.longitude)
    r = client.post(f"/crew/incidents/{inc.id}/arrive", data={"latitude": "95", "longitude": "121.4"})
    assert r.status_code == 200  # followed to the task page
    assert fresh(session, inc.id).status == "arrived"
    crew = crew_of(session, "crew_a1")
    assert (crew.latitude, crew.longitude) == where


def test_parse_position() -> None:
    assert parse_position("31.2", "121.47") == (31.2, 121.47)
    for lat, lon in (("", ""), ("31.2", ""), ("abc", "121"), ("nan", "121"), ("31", "inf")):
        assert parse_position(lat, lon) is None, (lat, lon)


def test_a_second_tap_shows_the_task_as_it_is(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock)
    crew_login(client, "crew_a1")
    assert client.post(f"/crew/incidents/{inc.id}/acknowledge", follow_redirects=False).status_code == 303
    again = client.post(f"/crew/incidents/{inc.id}/acknowledge")
    assert again.status_code == 409
    assert 'id="crew-conflict"' in again.text and step_of(again.text) == "arrive"
    assert client.post(f"/crew/incidents/{inc.id}/complete", data={"cause": "misuse"}).status_code == 409
    assert client.post(f"/crew/incidents/{inc.id}/release").status_code == 409
    assert fresh(session, inc.id).status == "acknowledged"


def test_each_crew_answers_its_own_dispatch(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """L1 does not answer in time: the station's crew is sent as well (L2) and the L1 crew stays on the
    job. Each crew's page follows its own dispatch; the cause is asked of both once the persons are out."""
    settings = rescue.RescueSettings()
    inc = report(session, clock)
    clock.advance(timedelta(seconds=settings.ack_limit_s + 1))
    rescue.fire_due_timers(session, clock, settings)
    session.commit()
    assert {d.crew_id for d in rescue.dispatches_of(session, SYSTEM_ACTOR, inc.id)} == {"A1", "RS1"}

    crew_login(client, "crew_rs")
    page = client.get("/crew").text
    assert tasks(page) == [(inc.id, "dispatched", "acknowledge")]
    assert "二级：救援站" in page
    assert client.post(f"/crew/incidents/{inc.id}/acknowledge", follow_redirects=False).status_code == 303

    crew_login(client, "crew_a1")
    page = client.get("/crew").text
    # the incident is answered (by the station), this crew's own dispatch is not, and late
    assert tasks(page) == [(inc.id, "acknowledged", "acknowledge")]
    assert 'class="task-card task-late"' in page and "已超时 1 分钟" in page

    crew_login(client, "crew_rs")
    assert client.post(f"/crew/incidents/{inc.id}/arrive", follow_redirects=False).status_code == 303
    assert client.post(f"/crew/incidents/{inc.id}/release", data={"all_released": "yes"}).status_code == 200
    assert fresh(session, inc.id).all_released is True

    crew_login(client, "crew_a1")
    assert tasks(client.get("/crew").text) == [(inc.id, "released", "complete")]
    r = client.post(f"/crew/incidents/{inc.id}/complete", data={"cause": "power_cut"}, follow_redirects=False)
    assert r.status_code == 303 and fresh(session, inc.id).status == "completed"


def test_a_crew_taken_off_the_job_has_no_step(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock)
    (dispatch,) = rescue.dispatches_of(session, SYSTEM_ACTOR, inc.id)
    clock.advance(timedelta(minutes=1))
    rescue.withdraw(session, SYSTEM_ACTOR, inc.id, dispatch.id, clock, rescue.RescueSettings(), "换派二组")
    session.commit()
    crew_login(client, "crew_a1")
    page = client.get("/crew").text
    assert tasks(page) == [] and 'id="crew-empty"' in page
    assert f'<tr data-incident="{inc.id}"' in page and "已撤出" in page  # among the recent ones
    detail = client.get(f"/crew/incidents/{inc.id}").text
    assert step_of(detail) == "" and 'id="crew-withdrawn"' in detail and "acknowledge-form" not in detail
    assert client.post(f"/crew/incidents/{inc.id}/acknowledge").status_code == 409


# ---------------------------------------------------------------- scope and roles


def test_other_crews_and_units_get_404(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock)  # crew A1 of MU-A
    for username in ("crew_b1", "crew_a2"):  # another unit's crew; a crew of the same unit not sent
        crew_login(client, username)
        assert tasks(client.get("/crew").text) == [], username
        assert client.get(f"/crew/incidents/{inc.id}", headers=HTML).status_code == 404, username
        for step, data in (
            ("acknowledge", {}),
            ("arrive", {}),
            ("release", {}),
            ("complete", {"cause": "misuse"}),
        ):
            assert client.post(f"/crew/incidents/{inc.id}/{step}", data=data).status_code == 404, (
                username,
                step,
            )
    assert fresh(session, inc.id).status == "dispatched"
    crew_login(client, "crew_a1")
    assert client.get("/crew/incidents/999999").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 403),
        (Role.REGULATOR, 403),
        (Role.RESCUE_OPERATOR, 403),
        (Role.MAINTENANCE, 200),  # maint_a: staff of MU-A, not bound to a crew
        (Role.USE_UNIT, 403),  # a use unit reads its incidents on /reports, read-only; it has no crew tasks
        (Role.INSPECTOR, 403),
        (Role.PUBLIC, 303),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else str(v),
)
def test_roles(
    role: Role, status: int, client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock)
    if role is not Role.PUBLIC:
        web_login(client, USERS[role][0], PASSWORD)
    page = client.get("/crew", headers=HTML, follow_redirects=False)
    assert page.status_code == status
    if role is Role.PUBLIC:
        assert page.headers["location"] == "/login?next=%2Fcrew"
        assert client.get("/crew/tasks", headers=HX).headers.get("HX-Redirect", "").startswith("/login")
        return
    assert ('id="nav-crew"' in page.text) is (role is Role.MAINTENANCE)
    fragment = client.get("/crew/tasks", headers=HX)
    assert fragment.status_code == status
    detail = client.get(f"/crew/incidents/{inc.id}", headers=HTML)
    # MU-A staff who are no crew read their unit's incident (rescue.queries), with no step to take
    assert detail.status_code == (200 if role is Role.MAINTENANCE else 403)
    if role is Role.MAINTENANCE:
        assert 'data-step=""' in detail.text
    step = client.post(f"/crew/incidents/{inc.id}/acknowledge").status_code
    assert step == (404 if role is Role.MAINTENANCE else 403)  # no dispatch of its own to act on
    if role is Role.MAINTENANCE:
        assert 'id="crew-not-bound"' in page.text and "未绑定救援班组" in page.text
    assert fresh(session, inc.id).status == "dispatched"


def test_the_list_refreshes_itself(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    crew_login(client, "crew_a1")
    empty = client.get("/crew/tasks", headers=HX)
    assert empty.status_code == 200 and "<html" not in empty.text
    assert 'hx-get="/crew/tasks" hx-trigger="every 5s"' in empty.text and 'id="crew-empty"' in empty.text
    assert empty.headers["cache-control"] == "no-store"
    inc = report(session, clock)
    assert tasks(client.get("/crew/tasks", headers=HX).text) == [(inc.id, "dispatched", "acknowledge")]


# ---------------------------------------------------------------- languages


def test_chinese_by_default_and_english(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock, persons_trapped=1)
    crew_login(client, "crew_a1")
    zh = client.get(f"/crew/incidents/{inc.id}").text
    assert '<html lang="zh-CN">' in zh and "确认接单" in zh and "任务 #" in zh
    for page in (zh, client.get("/crew").text):
        text = visible_text(page)
        assert not re.search(r"\b(crew|nav|incident_status|level|cause|stage)\.\w+", text), text
    client.cookies.set("lang", "en")
    en = client.get(f"/crew/incidents/{inc.id}").text
    assert '<html lang="en">' in en and ">Acknowledge<" in en and f"Task #{inc.id}" in en
    assert "L1: maintenance unit" in en and "Persons trapped" in en
    assert "My tasks" in client.get("/crew").text
