"""The 96333 console (/console): intake lookup by code (and by address, and however the code is typed),
taking a call through the form (new incident or joining the open one; the call-back number checked), the
board (most urgent first, stages, deadline colours as the clock advances, released incidents until closed,
dates of other days), false alarms with their reason, the incident page (its live part, responders, the 119
record, the trail in words, re-dispatch / escalate / withdraw by hand), the KPI panel with the rescue
settings, the surge banner, the elevator file's rescue entries, role access and both languages. Incidents
and crews are written through rescue.service, as the API writes them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, GeoPoint, IncidentStatus, Level, Source
from liftwatch.rescue.models import Incident
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import SEVERITY, FaultChange, FaultType
from liftwatch.web.templating import LABELS
from tests.factories import seed
from tests.unit.web.forms import web_login

HX = {"HX-Request": "true"}
A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
ROW = re.compile(
    r'<tr id="incident-(\d+)" data-incident="\d+" data-status="([a-z_]+)" data-level="(L\d)"\s+'
    r'data-warning="([a-z]*)"'
)
STAGE = re.compile(r'data-stage="([a-z]+)" data-done="(true|false)" data-warning="([a-z]*)"')


@pytest.fixture
def city(session: Session, clock: FixedClock) -> None:
    """The seeded registry, two crews of MU-A (the first one signs in as maint_a), none of MU-B."""
    seed(session, clock)
    rescue.add_crew(
        session, SYSTEM_ACTOR, "CA1", "MU-A", "浦江一组", GeoPoint(31.22, 121.46), clock,
        phone="13900000001", username="maint_a",
    )  # fmt: skip
    rescue.add_crew(session, SYSTEM_ACTOR, "CA2", "MU-A", "浦江二组", GeoPoint(31.23, 121.47), clock)
    session.commit()


def set_clock(clock: FixedClock, at: datetime) -> None:
    clock.advance(at - clock.now())


def login(client: TestClient, username: str) -> None:
    web_login(client, username)


def report(session: Session, clock: FixedClock, code: str, **kw: Any) -> Incident:
    call = rescue.Report(code, Source.PHONE, **kw)
    inc = rescue.report(session, SYSTEM_ACTOR, call, clock, rescue.RescueSettings()).incident
    session.commit()
    return inc


def rows(html: str) -> list[tuple[int, str, str, str]]:
    return [(int(i), s, lv, w) for i, s, lv, w in ROW.findall(html)]


def row_html(html: str, incident_id: int) -> str:
    start = html.index(f'<tr id="incident-{incident_id}"')
    return html[start : html.index("</tr>", start)]


def stages(html: str, incident_id: int) -> dict[str, tuple[bool, str]]:
    return {name: (done == "true", w) for name, done, w in STAGE.findall(row_html(html, incident_id))}


def kpi(html: str, period: str, name: str) -> tuple[str, str]:
    """(met flag, value text) of one KPI row in the 'today' or '30d' panel."""
    start = html.index(f'id="kpi-{period}"')
    section = html[start : html.index("</table>", start)]
    m = re.search(
        rf'data-kpi="{name}" data-met="(\w+)".*?<td class="num kpi-value">(.*?)</td>', section, re.S
    )
    assert m is not None, name
    text = re.sub(r"<[^>]+>", "", m.group(2))
    return m.group(1), " ".join(text.split())


# ---------------------------------------------------------------- intake


def test_lookup_by_rescue_code_registration_code_and_address(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    now = clock.now()
    row: dict[str, Any] = {f: None for f in telemetry.LIVE_FIELDS}
    row.update(registration_code=A1, online=True, last_seen_at=now, updated_at=now, open_faults=[])
    row.update(mode=1, running=False, floor=9, passenger=True, door_closed=True)
    telemetry.upsert_live_status(session, [row])
    ms = int((now - timedelta(minutes=2)).timestamp() * 1000)
    sev = SEVERITY[FaultType.ENTRAPMENT]
    telemetry.apply_fault_changes(session, [FaultChange(A1, FaultType.ENTRAPMENT, True, ms, ms, sev, ("m",))])
    session.commit()
    login(client, "operator")

    html = client.get("/console/lookup?code=100001", headers=HX).text
    assert f'id="lookup-hit" data-code="{A1}"' in html
    assert "静安区 · 南京西路街道 · 静安区某路01号" in html
    assert "浦江电梯维保有限公司" in html and "021-5555A" in html  # maintenance unit and its phone
    assert "静安物业管理有限公司" in html  # use unit
    assert 'id="live-connection">在线' in html and 'id="live-floor">9<' in html
    assert 'data-fault-type="entrapment"' in html  # the open fault
    assert 'id="lookup-no-incident"' in html and 'id="report-form"' in html
    assert "<html" not in html  # a fragment

    by_registration = client.get(f"/console/lookup?code=%20{B3}%20", headers=HX).text
    assert f'data-code="{B3}"' in by_registration and "申城电梯工程有限公司" in by_registration
    assert 'id="live-never"' in by_registration  # never reported

    unknown = client.get("/console/lookup?code=999999", headers=HX).text
    assert 'id="lookup-unknown"' in unknown and "999999" in unknown and "report-form" not in unknown

    by_address = client.get("/console/lookup?code=某路03号", headers=HX).text
    assert re.findall(r'class="candidate"[^>]*data-code="([^"]+)"', by_address) == [B3]
    several = client.get("/console/lookup?code=徐汇区某路", headers=HX).text
    assert re.findall(r'class="candidate"[^>]*data-code="([^"]+)"', several) == [B3, B4]
    assert "lookup-hit" not in several

    assert 'id="lookup' not in client.get("/console/lookup?code=", headers=HX).text.replace('id="lookup"', "")
    # Without JavaScript the page itself does the lookup.
    page = client.get("/console?code=100002").text
    assert f'data-code="{A2}"' in page and 'value="100002"' in page


def test_report_by_form_creates_then_joins(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    login(client, "operator")
    form = {
        "code": A1,
        "persons_trapped": "2",
        "caller_name": "李女士",
        "callback_phone": "13800000000",
        "notes": "9楼",
    }
    r = client.post("/console/incidents", data=form, follow_redirects=False)
    assert r.status_code == 303
    inc = session.query(Incident).one()
    assert r.headers["location"] == f"/console?incident={inc.id}&outcome=created"
    assert (inc.source, inc.status, inc.level, inc.crew_id) == ("phone", "dispatched", "L1", "CA1")
    assert (inc.persons_trapped, inc.caller_name, inc.notes) == (2, "李女士", "9楼")
    assert inc.callback_phone == "13800000000"

    page = client.get(r.headers["location"]).text
    assert f'data-incident="{inc.id}" data-outcome="created"' in page
    assert rows(page) == [(inc.id, "dispatched", "L1", "")]
    assert "浦江一组" in row_html(page, inc.id) and "浦江电梯维保有限公司" in row_html(page, inc.id)

    # The elevator now has an open incident: the lookup says so, and a second call joins it.
    lookup = client.get("/console/lookup?code=100001", headers=HX).text
    assert f'id="lookup-open-incident" data-incident="{inc.id}"' in lookup and "并入该事件" in lookup
    r = client.post("/console/incidents", data={"code": A1, "caller_name": "王先生"}, follow_redirects=False)
    assert r.headers["location"] == f"/console?incident={inc.id}&outcome=joined"
    page = client.get(r.headers["location"]).text
    assert 'data-outcome="joined"' in page and len(rows(page)) == 1
    session.expire_all()
    assert session.query(Incident).count() == 1

    bad = client.post("/console/incidents", data={"code": A2, "persons_trapped": "lots"})
    assert bad.status_code == 422
    assert 'id="err-persons_trapped"' in bad.text and 'value="lots"' in bad.text
    assert session.query(Incident).count() == 1
    unknown = client.post("/console/incidents", data={"code": "nope"})
    assert unknown.status_code == 404


# ---------------------------------------------------------------- the board


def test_board_order_stages_and_deadline_warnings(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    first = report(session, clock, A1)  # crew CA1
    clock.advance(timedelta(minutes=1))
    second = report(session, clock, B3)  # MU-B has no crew: dispatched to nobody
    clock.advance(timedelta(minutes=1))
    third = report(session, clock, A2)  # crew CA2
    done = report(session, clock, B4)
    rescue.false_alarm(session, SYSTEM_ACTOR, done.id, clock, rescue.RescueSettings(), "误报")
    session.commit()
    login(client, "operator")

    def board() -> str:
        r = client.get("/console/board", headers=HX)
        assert r.status_code == 200 and "<html" not in r.text
        return str(r.text)

    html = board()
    # nobody overdue yet, all trapped: the newest alarm first; no closed one
    assert [r[0] for r in rows(html)] == [third.id, second.id, first.id]
    assert 'data-open="3"' in html
    assert "no-crew" in row_html(html, second.id) and "浦江二组" in row_html(html, third.id)
    # 2 min after the first dispatch: nothing near yet.
    assert stages(html, first.id) == {
        "alarm": (True, ""),
        "dispatched": (True, ""),
        "acknowledged": (False, ""),
        "arrived": (False, ""),
    }
    assert "已等 2 分钟 / 限 5 分钟" in row_html(html, first.id)

    clock.advance(timedelta(minutes=1, seconds=59))  # first: 3:59 after dispatch
    assert stages(board(), first.id)["acknowledged"] == (False, "")
    clock.advance(timedelta(seconds=1))  # 4:00 = 80% of the 5-minute limit
    html = board()
    assert stages(html, first.id)["acknowledged"] == (False, "near")
    assert rows(html)[2] == (first.id, "dispatched", "L1", "near")  # near is not yet overdue: same place
    assert stages(html, third.id)["acknowledged"] == (False, "")
    clock.advance(timedelta(minutes=1, seconds=1))  # 5:01
    html = board()
    assert stages(html, first.id)["acknowledged"] == (False, "late") and "已超时" in row_html(html, first.id)
    # overdue with someone trapped: to the top
    assert rows(html)[0] == (first.id, "dispatched", "L1", "late")
    assert [r[0] for r in rows(html)] == [first.id, third.id, second.id]
    assert 'data-overdue="true"' in row_html(html, first.id)

    # Acknowledged: the ack stage is done; the arrival deadline (30 min after the alarm) remains.
    rescue.acknowledge(session, SYSTEM_ACTOR, first.id, clock)
    session.commit()
    html = board()
    assert rows(html)[-1] == (first.id, "acknowledged", "L1", "")  # no deadline passed: back in line
    assert stages(html, first.id)["acknowledged"] == (True, "")
    set_clock(clock, first.alarm_at + timedelta(minutes=23, seconds=59))
    assert stages(board(), first.id)["arrived"] == (False, "")
    set_clock(clock, first.alarm_at + timedelta(minutes=24))
    assert stages(board(), first.id)["arrived"] == (False, "near")
    set_clock(clock, first.alarm_at + timedelta(minutes=30, seconds=1))
    html = board()
    assert stages(html, first.id)["arrived"] == (False, "late") and rows(html)[2][3] == "late"
    assert [r[0] for r in rows(html)] == [third.id, second.id, first.id]  # all overdue: newest first
    rescue.arrive(session, SYSTEM_ACTOR, first.id, clock)
    session.commit()
    html = board()
    assert rows(html)[2] == (first.id, "arrived", "L1", "") and stages(html, first.id)["arrived"] == (
        True,
        "",
    )
    assert "报警后 30 分钟" in row_html(html, first.id)


def test_false_alarm_needs_a_reason(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """The board links to the incident page (no one-click close); there the false alarm needs a reason:
    without one the form comes back (422) with a clear error and nothing changes."""
    inc = report(session, clock, A1, caller_name="李女士", callback_phone="13800000000")
    report(session, clock, "100001", caller_name="王先生")
    other = report(session, clock, A2)
    session.commit()
    login(client, "operator")

    board = client.get("/console/board", headers=HX).text
    assert "false-alarm" not in board and f'href="/console/incidents/{inc.id}#actions"' in board
    detail = client.get(f"/console/incidents/{inc.id}").text
    assert re.findall(r'<tr data-kind="([a-z_]+)">', detail) == ["raised", "dispatched", "joined"]
    assert 'href="tel:13800000000"' in detail and "李女士" in detail and "浦江一组" in detail
    assert 'id="detail-false-alarm"' in detail and "尚未回访" in detail
    assert 'id="false-alarm-note" name="note" maxlength="2000" required' in detail

    for blank in ("", "   "):
        r = client.post(f"/console/incidents/{inc.id}/false-alarm", data={"note": blank})
        assert r.status_code == 422
        assert 'id="err-false_alarm-note" role="alert">请填写原因<' in r.text
        assert "未填写原因" not in r.text
    session.expire_all()
    assert session.get(Incident, inc.id).status == "dispatched"  # type: ignore[union-attr]

    r = client.post(
        f"/console/incidents/{inc.id}/false-alarm", data={"note": "住户误按"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/console/incidents/{inc.id}?done=false_alarm"
    session.expire_all()
    closed = session.get(Incident, inc.id)
    assert closed is not None and (closed.status, closed.close_reason) == ("false_alarm", "住户误按")
    detail = client.get(r.headers["location"]).text
    assert 'id="action-done" role="status" data-done="console.done_false_alarm">已按误报结案。' in detail
    assert 'data-status="false_alarm"' in detail and 'id="detail-false-alarm"' not in detail
    assert re.findall(r'<tr data-kind="([a-z_]+)">', detail)[-1] == "false_alarm"
    assert "原因</span>：住户误按" in detail or "说明</span>：住户误按" in detail
    assert [x[0] for x in rows(client.get("/console/board", headers=HX).text)] == [other.id]
    again = client.post(f"/console/incidents/{inc.id}/false-alarm", data={"note": "x"})
    assert again.status_code == 409 and 'id="action-refused"' in again.text

    r = client.post(
        f"/console/incidents/{other.id}/false-alarm",
        data={"note": "测试", "next": "/console"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert client.get("/console/incidents/9999").status_code == 404


# ---------------------------------------------------------------- roles


def test_roles(client: TestClient, session: Session, clock: FixedClock, city: None) -> None:
    inc = report(session, clock, A1)
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fconsole"
    assert client.get("/console/board", headers=HX).headers.get("HX-Redirect", "").startswith("/login")

    for username in ("operator", "admin"):
        login(client, username)
        page = client.get("/console?code=100002").text
        assert 'id="nav-console"' in page and 'id="report-form"' in page
        assert f'id="handle-{inc.id}"' in page and 'id="console-read-only"' not in page

    login(client, "regulator")
    page = client.get("/console?code=100002").text
    assert 'id="console-read-only"' in page and 'id="nav-console"' in page
    assert f'data-incident="{inc.id}"' in page  # sees the board
    assert 'id="lookup-hit"' in page and "report-form" not in page and f'id="handle-{inc.id}"' not in page
    detail = client.get(f"/console/incidents/{inc.id}").text
    assert 'id="incident-live"' in detail and 'id="actions"' not in detail
    assert 'action="/console/incidents/' not in detail  # no form to act with
    for action in ("redispatch", "escalate", "withdraw", "fire-call"):
        assert client.post(f"/console/incidents/{inc.id}/{action}", data={"reason": "x"}).status_code == 403
    assert client.post("/console/incidents", data={"code": A2}).status_code == 403
    assert client.post(f"/console/incidents/{inc.id}/false-alarm").status_code == 403
    assert client.get("/console/kpis").status_code == 200

    for username in ("maint_a", "owner_b", "inspector"):
        login(client, username)
        r = client.get("/console", headers={"Accept": "text/html"})
        assert r.status_code == 403 and 'class="error-code">403' in r.text, username
        assert 'id="nav-console"' not in r.text
        for path in ("/console/board", "/console/lookup?code=100001", f"/console/incidents/{inc.id}"):
            assert client.get(path).status_code == 403, (username, path)
        assert client.post("/console/incidents", data={"code": A2}).status_code == 403
    session.expire_all()
    assert session.query(Incident).count() == 1


# ---------------------------------------------------------------- KPIs and surge


def test_kpi_panel(client: TestClient, session: Session, clock: FixedClock, city: None) -> None:
    """Two rescues: one by the book (ack 1 min, arrival 13 min), one late everywhere (ack 6 min, arrival
    40 min, not everyone released); and a false alarm that no rate counts."""
    t0 = clock.now()
    good = report(session, clock, A1)  # crew CA1
    bad = report(session, clock, A2)  # crew CA2
    false = report(session, clock, B3)
    rescue.false_alarm(session, SYSTEM_ACTOR, false.id, clock, rescue.RescueSettings(), "误报")
    for inc, ack, arrive, all_out in ((good, 1, 13, True), (bad, 6, 40, False)):
        set_clock(clock, t0 + timedelta(minutes=ack))
        rescue.acknowledge(session, SYSTEM_ACTOR, inc.id, clock)
        set_clock(clock, t0 + timedelta(minutes=arrive))
        rescue.arrive(session, SYSTEM_ACTOR, inc.id, clock)
        set_clock(clock, t0 + timedelta(minutes=arrive + 3))
        rescue.release(session, SYSTEM_ACTOR, inc.id, clock, all_released=all_out)
        rescue.complete(session, SYSTEM_ACTOR, inc.id, clock, rescue.RescueSettings(), Cause.POWER_CUT)
    session.commit()
    set_clock(clock, t0 + timedelta(hours=1))
    login(client, "operator")
    html = client.get("/console/kpis", headers=HX).text
    for period in ("today", "30d"):
        assert kpi(html, period, "response_rate") == ("false", "50.0% (1/2) 未达标")
        assert kpi(html, period, "average_arrival") == ("true", "26.5 分钟 达标")
        assert kpi(html, period, "on_time_arrival") == ("false", "50.0% (1/2) 未达标")
        assert kpi(html, period, "rescue_success") == ("false", "50.0% (1/2) 未达标")
    assert "报警 3 起，误报 1 起" in html
    assert "≥ 99%" in html and "≤ 30 分钟" in html and "≥ 98%" in html and "≥ 100%" in html

    # Tomorrow (local time) the incidents are no longer "today" but still in the last 30 days.
    set_clock(clock, t0 + timedelta(hours=8))  # 17:00 UTC = 01:00 next day in UTC+8
    html = client.get("/console/kpis", headers=HX).text
    assert kpi(html, "today", "response_rate") == ("none", "暂无数据")
    assert kpi(html, "30d", "response_rate") == ("false", "50.0% (1/2) 未达标")
    assert 'class="kpi kpi-met"' not in html.split('id="kpi-30d"')[0]


def test_kpi_panel_all_met(client: TestClient, session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc = report(session, clock, A1)
    set_clock(clock, t0 + timedelta(minutes=2))
    rescue.acknowledge(session, SYSTEM_ACTOR, inc.id, clock)
    set_clock(clock, t0 + timedelta(minutes=10))
    rescue.arrive(session, SYSTEM_ACTOR, inc.id, clock)
    rescue.release(session, SYSTEM_ACTOR, inc.id, clock)
    rescue.complete(session, SYSTEM_ACTOR, inc.id, clock, rescue.RescueSettings(), Cause.MISUSE)
    session.commit()
    set_clock(clock, t0 + timedelta(minutes=30))
    login(client, "regulator")
    html = client.get("/console").text
    for name, value in (
        ("response_rate", "100.0% (1/1)"),
        ("average_arrival", "10.0 分钟"),
        ("on_time_arrival", "100.0% (1/1)"),
        ("rescue_success", "100.0% (1/1)"),
    ):
        assert kpi(html, "today", name) == ("true", f"{value} 达标"), name
    assert html.count('class="kpi kpi-met"') == 8


def test_surge_banner_at_the_threshold(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    assert client.app.state.rescue_settings.surge_threshold == 20  # type: ignore[attr-defined]
    client.app.state.rescue_settings = rescue.RescueSettings(surge_threshold=2)  # type: ignore[attr-defined]
    report(session, clock, A1)
    login(client, "operator")
    page = client.get("/console").text
    assert 'id="surge-banner"' in page and 'id="surge-on"' not in page
    report(session, clock, A2)
    page = client.get("/console").text
    assert 'id="surge-on" role="alert" data-open="2" data-threshold="2"' in page
    assert "大面积困人" in page
    fragment = client.get("/console/board", headers=HX).text
    assert 'id="surge-banner" class="surge-slot" hx-swap-oob="true"' in fragment
    assert 'id="surge-on"' in fragment
    rescue.false_alarm(
        session, SYSTEM_ACTOR, session.query(Incident).first().id, clock, rescue.RescueSettings(), "误报"
    )  # type: ignore[union-attr]
    session.commit()
    fragment = client.get("/console/board", headers=HX).text
    assert 'hx-swap-oob="true"' in fragment and 'id="surge-on"' not in fragment


# ---------------------------------------------------------------- languages


def test_both_languages(client: TestClient, session: Session, clock: FixedClock, city: None) -> None:
    inc = report(session, clock, A1, callback_phone="13800000000")
    login(client, "operator")
    zh = client.get("/console?code=100002").text
    assert "96333 接警台" in zh and "已派单" in zh and "接警派单" in zh and "救援指标" in zh
    assert 'title="一级：维保单位"' in zh
    client.cookies.set("lang", "en")
    en = client.get("/console?code=100002").text
    assert "96333 rescue console" in en and "Dispatched" in en and "Open and dispatch" in en
    assert 'title="L1: maintenance unit"' in en and "Rescue KPIs" in en and "Response rate" in en
    assert "已派单" not in en and "接警派单" not in en
    detail = client.get(f"/console/incidents/{inc.id}").text
    assert f"Incident #{inc.id}" in detail and "96333 call" in detail and "Audit trail" in detail
    assert "Rescue alarm" in detail  # the trail's 'raised' entry
    assert (
        "Responders and dispatches" in detail
        and "Dispatch by hand" in detail
        and "Source</span>：96333 call" in detail
    )
    assert not re.findall(r"\bconsole\.[a-z_]+", re.sub(r"<[^>]+>", " ", detail))  # no raw page-text key


@pytest.mark.parametrize(
    ("prefix", "enum"),
    [("incident_status", IncidentStatus), ("level", Level), ("source", Source), ("cause", Cause)],
)
def test_rescue_enum_labels(prefix: str, enum: Any) -> None:
    for lang in ("zh-CN", "en"):
        labels = [LABELS.label(prefix, m.value, lang) for m in enum]
        assert all(labels) and len(set(labels)) == len(labels), (prefix, lang)
        assert not {m.value for m in enum} & set(labels), (prefix, lang)


def test_call_back_from_the_incident_page(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock, "100001")
    crew = Actor("maint_a", Role.MAINTENANCE)
    for step in (rescue.acknowledge, rescue.arrive, rescue.release):
        step(session, crew, inc.id, clock)
    session.commit()
    login(client, "operator")
    page = client.get(f"/console/incidents/{inc.id}").text
    assert 'id="callback-form"' in page
    r = client.post(
        f"/console/incidents/{inc.id}/call-back", data={"note": "乘客已平安"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(f"/console/incidents/{inc.id}").text
    assert 'id="callback-form"' not in page
    session.expire_all()
    done = session.get(Incident, inc.id)
    assert done is not None and done.callback_at == clock.now()
    again = client.post(f"/console/incidents/{inc.id}/call-back", data={"note": "x"})
    assert again.status_code == 409


# ---------------------------------------------------------------- the incident page: acting by hand


def test_redispatch_escalate_and_withdraw_from_the_incident_page(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock, A1)  # CA1
    login(client, "operator")
    url = f"/console/incidents/{inc.id}"
    page = client.get(url).text
    assert 'id="redispatch-form"' in page and 'id="escalate-form"' in page and 'id="withdraw-form"' in page
    assert '<option value="crew:CA2">浦江二组（CA2）· 浦江电梯维保有限公司' in page
    assert 'value="crew:CA1" disabled>' in page  # on the job already
    assert '<option value="unit:MU-A">浦江电梯维保有限公司</option>' in page

    # Refused forms come back filled in, with the error by the field; nothing is sent.
    r = client.post(f"{url}/redispatch", data={"target": "crew:CA2", "reason": " "})
    assert r.status_code == 422 and 'id="err-redispatch-reason" role="alert">请填写原因<' in r.text
    assert '<option value="crew:CA2" selected>' in r.text
    r = client.post(f"{url}/redispatch", data={"target": "", "reason": "一组堵车"})
    assert (
        r.status_code == 422 and 'id="err-redispatch-target" role="alert">请选择要派的班组或单位<' in r.text
    )
    assert 'value="一组堵车"' in r.text
    r = client.post(f"{url}/redispatch", data={"target": "crew:NOPE", "reason": "一组堵车"})
    assert r.status_code == 422 and 'id="err-redispatch-target" role="alert">该班组或单位不能派单' in r.text
    assert len(rescue.dispatches_of(session, SYSTEM_ACTOR, inc.id)) == 1

    # Sent, and sent again (a double submit): one new dispatch.
    for done in ("redispatched", "redispatch_repeat"):
        r = client.post(
            f"{url}/redispatch", data={"target": "crew:CA2", "reason": "一组堵车"}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done={done}"
    session.expire_all()
    rows = rescue.dispatches_of(session, SYSTEM_ACTOR, inc.id)
    assert [(d.level, d.crew_id, d.dispatched_by, d.withdrawn_at) for d in rows] == [
        ("L1", "CA1", "system", None),
        ("L1", "CA2", "operator", None),
    ]
    page = client.get(f"{url}?done=redispatched").text
    assert 'id="action-done" role="status" data-done="console.done_redispatched">已派单。' in page
    added = f'id="dispatch-{rows[1].id}" data-dispatch="{rows[1].id}" data-level="L1" data-unit="MU-A"'
    assert f'{added} data-crew="CA2"' in page
    assert re.findall(r'<tr data-kind="([a-z_]+)">', page)[-1] == "redispatched"
    assert "原因</span>：一组堵车" in page

    # Escalate (the form says L1): once, however often it is sent.
    for done in ("escalated", "escalate_repeat"):
        r = client.post(
            f"{url}/escalate", data={"reason": "乘客不适", "from_level": "L1"}, follow_redirects=False
        )
        assert r.headers["location"] == f"{url}?done={done}"
    session.expire_all()
    assert session.get(Incident, inc.id).level == "L2"  # type: ignore[union-attr]
    assert client.post(f"{url}/escalate", data={"reason": "", "from_level": "L2"}).status_code == 422

    # Withdraw the first crew by hand.
    r = client.post(f"{url}/withdraw", data={"dispatch": "", "reason": "不需要了"})
    assert r.status_code == 422 and 'id="err-withdraw-dispatch" role="alert">请选择要撤回的派单<' in r.text
    r = client.post(
        f"{url}/withdraw", data={"dispatch": str(rows[0].id), "reason": "不需要了"}, follow_redirects=False
    )
    assert r.headers["location"] == f"{url}?done=withdrawn"
    again = client.post(f"{url}/withdraw", data={"dispatch": str(rows[0].id), "reason": "不需要了"})
    assert again.status_code == 409 and 'id="action-refused"' in again.text
    assert "事件情况已有变化" in again.text
    session.expire_all()
    first = rescue.dispatches_of(session, SYSTEM_ACTOR, inc.id)[0]
    assert (first.withdrawn_by, first.withdraw_reason) == ("operator", "不需要了")

    # The 119 call and the fire service's arrival, recorded from the page.
    r = client.post(f"{url}/fire-call", data={"reference": "F-88"}, follow_redirects=False)
    assert r.headers["location"] == f"{url}?done=fire_called"
    r = client.post(f"{url}/fire-arrival", follow_redirects=False)
    assert r.headers["location"] == f"{url}?done=fire_arrived"
    page = client.get(url).text
    assert 'id="fire-record" data-called="true"' in page and 'id="fire-reference">F-88<' in page
    assert 'data-status="arrived"' in page and 'id="fire-release-form"' in page


def test_the_incident_page_refreshes_its_live_part(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock, A1)
    login(client, "operator")
    page = client.get(f"/console/incidents/{inc.id}").text
    assert f'hx-get="/console/incidents/{inc.id}/live" hx-trigger="every 5s"' in page
    rescue.acknowledge(session, Actor("maint_a", Role.MAINTENANCE), inc.id, clock)
    session.commit()
    r = client.get(f"/console/incidents/{inc.id}/live", headers=HX)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "<html" not in r.text and r.text.lstrip().startswith('<div id="incident-live"')
    assert 'id="incident-status" data-status="acknowledged">已响应<' in r.text
    assert client.get("/console/incidents/999/live", headers=HX).status_code == 404


def test_call_back_number_checked_on_the_form(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    login(client, "operator")
    r = client.post("/console/incidents", data={"code": A1, "callback_phone": "abc"})
    assert r.status_code == 422
    assert (
        'id="err-callback_phone">请输入 11 位手机号或带区号的固定电话' in r.text and 'value="abc"' in r.text
    )
    assert session.query(Incident).count() == 0
    r = client.post("/console/incidents", data={"code": A1, "callback_phone": "+86 138-0000-0000"})
    assert r.status_code == 200  # followed to the console
    assert session.query(Incident).one().callback_phone == "13800000000"


def test_codes_found_as_typed_at_the_intake(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    login(client, "operator")
    for typed in (
        "100%20001",
        "11sha000001",
        "%2011SHA%20000001",
        "%EF%BC%91%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%91",
    ):
        html = client.get(f"/console/lookup?code={typed}", headers=HX).text
        assert f'id="lookup-hit" data-code="{A1}"' in html, typed


def test_times_of_another_day_show_their_date(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """An incident left open for three days: its alarm shows its date and time (not "4320 minutes ago"),
    the wait reads in days and hours, and it is flagged as stale."""
    inc = report(session, clock, A1)
    old = as_local(inc.alarm_at)
    clock.advance(timedelta(days=3))
    login(client, "operator")
    html = client.get("/console/board", headers=HX).text
    row = row_html(html, inc.id)
    assert f'<span class="stage-at">{old}</span>' in row and "已 4320" not in row
    assert "已等 3 天 0 小时 / 限 30 分钟" in row
    assert 'data-stale="true">超过结案时限仍未结案<' in row and 'data-overdue="true"' in row
    page = client.get(f"/console/incidents/{inc.id}").text
    assert f'id="f-alarm-at">{old}<' in page


def as_local(value: datetime) -> str:
    from liftwatch.core.clock import as_utc
    from liftwatch.core.config import zone

    return as_utc(value).astimezone(zone("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def test_a_released_incident_stays_on_the_board_until_closed(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc = report(session, clock, A1, persons_trapped=1)
    other = report(session, clock, A2)
    crew = Actor("maint_a", Role.MAINTENANCE)
    for step in (rescue.acknowledge, rescue.arrive, rescue.release):
        step(session, crew, inc.id, clock)
    session.commit()
    login(client, "operator")
    html = client.get("/console/board", headers=HX).text
    assert rows(html) == [(other.id, "dispatched", "L1", ""), (inc.id, "released", "L1", "")]  # open first
    assert "已解救，待上报原因" in row_html(html, inc.id) and 'data-trapped="false"' in row_html(html, inc.id)
    assert 'id="open-count" data-value="1"' in html and 'id="released-count" data-value="1"' in html
    assert 'data-source="phone"' in row_html(html, inc.id) and "96333来电" in row_html(html, inc.id)
    rescue.complete(session, crew, inc.id, clock, rescue.RescueSettings(), Cause.MISUSE)
    session.commit()
    assert [r[0] for r in rows(client.get("/console/board", headers=HX).text)] == [other.id]


def test_kpi_panel_takes_the_rescue_settings(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """Acknowledged 6 min after dispatch: a miss with the default 5-min limit, met with a 10-min one."""
    t0 = clock.now()
    inc = report(session, clock, A1)
    set_clock(clock, t0 + timedelta(minutes=6))
    rescue.acknowledge(session, Actor("maint_a", Role.MAINTENANCE), inc.id, clock)
    session.commit()
    login(client, "operator")
    assert kpi(client.get("/console/kpis", headers=HX).text, "today", "response_rate")[1].startswith("0.0%")
    client.app.state.rescue_settings = rescue.RescueSettings(ack_limit_s=600)  # type: ignore[attr-defined]
    assert kpi(client.get("/console/kpis", headers=HX).text, "today", "response_rate")[1].startswith("100.0%")


def test_the_elevator_file_shows_rescue_entries_in_words(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """The elevator file's timeline names each rescue entry and its facts by their labels: no
    ``source: phone``, ``eta_s`` or ``all_released: True``."""
    inc = report(session, clock, A1, persons_trapped=2, caller_name="李女士", callback_phone="13800000000")
    crew = Actor("maint_a", Role.MAINTENANCE)
    for step in (rescue.acknowledge, rescue.arrive, rescue.release):
        step(session, crew, inc.id, clock)
    session.commit()
    login(client, "operator")
    page = client.get(f"/elevators/{A1}").text
    timeline = page[page.index('id="timeline"') : page.index("</ol>", page.index('id="timeline"'))]
    assert timeline.count(f'data-incident="{inc.id}">救援事件 #{inc.id} · 一级：维保单位<') == 5
    assert '<span class="chip-key">来源</span>：96333来电</span>' in timeline
    assert '<span class="chip-key">全部解救</span>：是</span>' in timeline
    assert '<span class="chip-key">班组</span>：CA1</span>' in timeline
    text = re.sub(r"<[^>]+>", " ", timeline)
    for raw in ("source", "phone", "eta_s", "all_released", "True", "raised", "crew:", "incident_id"):
        assert raw not in text, raw
