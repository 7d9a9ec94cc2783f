"""Remote-monitoring pages: the /monitor overview (counts, list, filters, scope, htmx fragment), the map's
markers, and the live panel and fault history on the elevator file. Faults and live status are written
through telemetry.service, as the detector writes them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.telemetry import monitoring
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import SEVERITY, FaultChange, FaultType, Severity
from liftwatch.web import monitor
from tests.conftest import NOW
from tests.factories import seed
from tests.unit.web.forms import web_login

HX = {"HX-Request": "true"}
A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
COORDS = {A1: (31.2290, 121.4480), A2: (31.2301, 121.4512), B3: (31.1950, 121.4370)}


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def at(minutes_before_now: int) -> datetime:
    return NOW - timedelta(minutes=minutes_before_now)


def change(
    code: str, fault_type: FaultType, started: datetime, *, cleared: datetime | None = None
) -> list[FaultChange]:
    """The detector's output for a fault raised at ``started`` (and cleared at ``cleared``)."""
    sev = SEVERITY[fault_type]
    out = [FaultChange(code, fault_type, True, ms(started), ms(started), sev, ("m1",))]
    if cleared is not None:
        out.append(FaultChange(code, fault_type, False, ms(cleared), ms(started), sev, ("m2",)))
    return out


def status_row(code: str, online: bool, seen: datetime, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {f: None for f in telemetry.LIVE_FIELDS}
    row.update(registration_code=code, online=online, last_seen_at=seen, updated_at=seen, open_faults=[])
    row.update(fields)
    return row


@pytest.fixture
def city(session: Session, clock: FixedClock) -> None:
    """A1 trapped (critical) with a door-close failure too; A2 a door-open failure (major) and a cleared
    power cut; B3 offline; B4 never reported. A1, A2 and B3 have coordinates."""
    seed(session, clock)
    for code, (lat, lon) in COORDS.items():
        registry.update_elevator(
            session, SYSTEM_ACTOR, code, ElevatorUpdate(latitude=lat, longitude=lon), clock
        )
    telemetry.upsert_live_status(
        session,
        [
            status_row(
                A1,
                True,
                at(0),
                mode=1,
                running=True,
                direction=1,
                door_zone=False,
                door_closed=True,
                passenger=True,
                floor=7,
                power=True,
                speed=1.0,
                trips=12345,
                door_cycles=23456,
                run_hours=1234.5,
            ),
            status_row(A2, True, at(1), mode=2, running=False, direction=0, power=False),
            status_row(B3, False, at(20)),
        ],
    )
    telemetry.apply_fault_changes(
        session,
        [
            *change(A1, FaultType.ENTRAPMENT, at(5)),
            *change(A1, FaultType.DOOR_CLOSE_FAILURE, at(10)),
            *change(A2, FaultType.POWER_CUT, at(30), cleared=at(15)),
            *change(A2, FaultType.DOOR_OPEN_FAILURE, at(40)),
            *change(B3, FaultType.TERMINAL_OFFLINE, at(18)),
        ],
    )
    session.commit()


def login(client: TestClient, username: str) -> None:
    web_login(client, username)


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'id="count-([a-z_]+)" data-value="(\d+)"', html)}


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)"', html)


def live_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd id="(live-[a-z-]+)">([^<]*)</dd>', html))


def levels(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-code="([^"]+)" data-level="([^"]+)"', html))


# ---------------------------------------------------------------- the overview


def test_monitor_counts_list_and_map_for_the_whole_city(client: TestClient, city: None) -> None:
    login(client, "regulator")
    r = client.get("/monitor")
    assert r.status_code == 200
    html = r.text
    assert counts(html) == {
        "elevators": 4,
        "reporting": 3,
        "online": 2,
        "offline": 1,
        "never_reported": 1,
        "in_fault": 2,  # A1 (worst: critical) and A2 (major); offline is not a fault level here
        "critical": 1,
        "major": 1,
        "minor": 0,
        "info": 0,
        "trapped": 1,
    }
    # Newest trouble first: A1's entrapment (5 min ago), B3 offline (18), A2's door fault (40).
    assert listed(html) == [A1, B3, A2]
    assert levels(html) == {A1: "critical", B3: "offline", A2: "major"}
    row_a1 = html.split(f'<tr data-code="{A1}"')[1].split("</tr>")[0]
    assert "困人" in row_a1 and "关门故障" in row_a1 and "紧急" in row_a1
    assert "浦江电梯维保有限公司" in row_a1  # maintenance unit
    assert "静安区 · 南京西路街道" in row_a1
    assert f'href="/elevators/{A1}"' in row_a1
    assert "2026-11-23 16:55" in row_a1  # since, in the city's time (UTC+8)
    assert "已持续 5 分钟" in row_a1
    # The cleared power cut is history, not a current fault.
    assert "停电" not in html.split(f'<tr data-code="{A2}"')[1].split("</tr>")[0]
    # Nav item, the polling fragment and the map with its Leaflet assets.
    assert 'id="nav-monitor"' in html and "实时监测" in html
    assert 'hx-trigger="every 5s"' in html
    assert 'id="monitor-map"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/monitor.js" in html
    assert "hx-swap-oob" not in html  # the full page replaces nothing out of band


def test_monitor_in_english(client: TestClient, city: None) -> None:
    login(client, "admin")
    client.cookies.set("lang", "en")
    html = client.get("/monitor").text
    assert "Live monitoring" in html
    row_a1 = html.split(f'<tr data-code="{A1}"')[1].split("</tr>")[0]
    assert "Entrapment" in row_a1 and "Door close failure" in row_a1 and "Critical" in row_a1
    assert "for 5 min" in row_a1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fault_type=entrapment", [A1]),
        ("fault_type=door_open_failure", [A2]),
        ("fault_type=terminal_offline", [B3]),
        ("fault_type=power_cut", []),  # cleared
        ("severity=critical", [A1]),
        ("severity=major", [A2]),  # by the worst open fault: A1 is critical
        ("severity=minor", []),  # A1's minor fault does not make it minor; B3 is offline, not minor
        ("fault_type=door_close_failure&severity=critical", [A1]),
        ("fault_type=door_close_failure&severity=minor", []),
        ("fault_type=no_such_thing", [A1, B3, A2]),  # an unknown value is ignored
    ],
)
def test_monitor_filters(client: TestClient, city: None, query: str, expected: list[str]) -> None:
    login(client, "admin")
    r = client.get(f"/monitor?{query}")
    assert r.status_code == 200
    assert listed(r.text) == expected
    if not expected:
        assert 'id="monitor-empty"' in r.text
    assert f'data-total="{len(expected)}"' in r.text
    # The counts describe the whole scope whatever the filter.
    assert counts(r.text)["in_fault"] == 2


def test_unknown_filter_value_is_flagged(client: TestClient, city: None) -> None:
    login(client, "admin")
    html = client.get("/monitor?severity=apocalyptic").text
    assert 'id="f-severity" name="severity" aria-invalid="true"' in html


@pytest.mark.parametrize("chunk", [monitoring.CHUNK, 1])
def test_maintenance_user_sees_only_its_units_elevators(
    client: TestClient, city: None, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """maint_a serves A1 and A2 only; a scope split over several IN lists (chunk=1) counts the same."""
    monkeypatch.setattr(monitoring, "CHUNK", chunk)
    login(client, "maint_a")
    html = client.get("/monitor").text
    assert counts(html) == {
        "elevators": 2,
        "reporting": 2,
        "online": 2,
        "offline": 0,
        "never_reported": 0,
        "in_fault": 2,
        "critical": 1,
        "major": 1,
        "minor": 0,
        "info": 0,
        "trapped": 1,
    }
    assert listed(html) == [A1, A2]
    assert B3 not in html and "申城电梯工程有限公司" not in html
    body = client.get("/monitor/markers.json").json()
    assert sorted(m["code"] for m in body["markers"]) == [A1, A2]


def test_use_unit_user_sees_its_offline_elevator(client: TestClient, city: None) -> None:
    login(client, "owner_b")  # UU-B: B3 and B4
    html = client.get("/monitor").text
    assert listed(html) == [B3]
    c = counts(html)
    assert [c["elevators"], c["reporting"], c["offline"], c["never_reported"], c["in_fault"]] == [
        2,
        1,
        1,
        1,
        0,
    ]


def test_anonymous_and_gateway_are_kept_out(client: TestClient, city: None) -> None:
    for path in ("/monitor", "/monitor/markers.json", f"/elevators/{A1}/live"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=")
    login(client, "gateway")
    assert client.get("/monitor", headers={"Accept": "text/html"}).status_code == 403


def test_offline_status_without_a_fault_is_listed(client: TestClient, city: None, session: Session) -> None:
    """A status row alone (no terminal_offline fault yet) still puts the elevator on the list."""
    telemetry.upsert_live_status(session, [status_row(B4, False, at(3))])
    session.commit()
    login(client, "admin")
    html = client.get("/monitor").text
    assert listed(html) == [B4, A1, B3, A2]  # B4 last seen 3 min ago
    assert levels(html)[B4] == "offline"
    assert counts(html)["offline"] == 2
    assert counts(html)["never_reported"] == 0
    # A filter is about faults: the fault-less offline elevator drops out.
    assert B4 not in listed(client.get("/monitor?severity=critical").text)


def test_cleared_fault_leaves_the_list_and_counts(client: TestClient, city: None, session: Session) -> None:
    telemetry.apply_fault_changes(
        session,
        [FaultChange(A1, FaultType.ENTRAPMENT, False, ms(at(1)), ms(at(5)), Severity.CRITICAL, ("m9",))],
    )
    session.commit()
    login(client, "admin")
    html = client.get("/monitor").text
    c = counts(html)
    assert (c["trapped"], c["critical"], c["minor"], c["major"]) == (0, 0, 1, 1)
    assert levels(html)[A1] == "minor"  # the door-close failure is still open


def test_list_is_limited(client: TestClient, city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor, "LIST_LIMIT", 2)
    login(client, "admin")
    html = client.get("/monitor").text
    assert listed(html) == [A1, B3]
    assert 'data-total="3" data-shown="2"' in html
    assert "显示 2 / 共 3 台" in html


# ---------------------------------------------------------------- htmx fragment and markers


def test_htmx_poll_returns_only_the_fragment(client: TestClient, city: None) -> None:
    login(client, "admin")
    r = client.get("/monitor?fault_type=entrapment", headers={**HX, "HX-Trigger": "live"})
    assert r.status_code == 200
    html = r.text
    assert "<html" not in html and "<nav" not in html and 'id="monitor-map"' not in html
    assert html.lstrip().startswith('<div id="live"')
    assert 'hx-get="/monitor?fault_type=entrapment"' in html  # the poll keeps the filter
    assert listed(html) == [A1]
    # The counts come along, swapped out of band.
    assert re.search(r'<section id="monitor-counts"[^>]*hx-swap-oob="true"', html)
    assert counts(html)["trapped"] == 1
    assert "HX-Push-Url" not in r.headers  # a poll must not add history entries
    assert "HX-Request" in [v.strip() for v in r.headers["Vary"].split(",")]


def test_filter_form_pushes_the_tidy_url(client: TestClient, city: None) -> None:
    login(client, "admin")
    r = client.get("/monitor?fault_type=&severity=major", headers={**HX, "HX-Trigger": "monitor-filters"})
    assert r.headers["HX-Push-Url"] == "/monitor?severity=major"
    assert listed(r.text) == [A2]


def test_fragment_picks_up_a_new_fault(client: TestClient, city: None, session: Session) -> None:
    login(client, "admin")
    assert B4 not in listed(client.get("/monitor", headers=HX).text)
    telemetry.apply_fault_changes(session, change(B4, FaultType.OVERRUN_TOP, at(0)))
    session.commit()
    html = client.get("/monitor", headers=HX).text
    assert listed(html)[0] == B4
    assert counts(html)["critical"] == 2


def test_markers_json(client: TestClient, city: None) -> None:
    login(client, "admin")
    r = client.get("/monitor/markers.json")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["total"] == 3 and body["listed"] == 3 and body["without_coordinates"] == 0
    by_code = {m["code"]: m for m in body["markers"]}
    assert list(by_code) == [A1, B3, A2]
    a1 = by_code[A1]
    assert (a1["lat"], a1["lon"]) == COORDS[A1]
    assert a1["level"] == "critical" and a1["level_label"] == "紧急"
    assert a1["faults"] == ["困人", "关门故障"]
    assert a1["url"] == f"/elevators/{A1}"
    assert a1["unit"] == "浦江电梯维保有限公司"
    assert a1["since"] == "2026-11-23 16:55:00"
    assert by_code[B3]["level"] == "offline" and by_code[B3]["level_label"] == "离线"
    filtered = client.get("/monitor/markers.json?severity=major").json()
    assert [m["code"] for m in filtered["markers"]] == [A2]


def test_markers_skip_elevators_without_coordinates(
    client: TestClient, city: None, session: Session, clock: FixedClock
) -> None:
    telemetry.apply_fault_changes(session, change(B4, FaultType.ALARM_BUTTON, at(2)))
    session.commit()
    login(client, "admin")
    body = client.get("/monitor/markers.json").json()
    assert body["listed"] == 4 and body["without_coordinates"] == 1
    assert B4 not in {m["code"] for m in body["markers"]}


class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


@pytest.fixture
def queries(engine: Engine) -> Iterator[QueryCounter]:
    counter = QueryCounter(engine)
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


def test_query_count_does_not_grow_with_faulty_elevators(
    client: TestClient, city: None, session: Session, queries: QueryCounter
) -> None:
    """Grouped counts and a fixed number of list queries: no query per elevator (NetBox-style pin)."""
    login(client, "admin")
    client.get("/monitor", headers=HX)
    queries.count = 0
    client.get("/monitor", headers=HX)
    before = queries.count
    telemetry.apply_fault_changes(
        session,
        [
            *change(B4, FaultType.OVERSPEED, at(2)),
            *change(B3, FaultType.POWER_CUT, at(3)),
            *change(A2, FaultType.ALARM_BUTTON, at(4)),
        ],
    )
    session.commit()
    queries.count = 0
    html = client.get("/monitor", headers=HX).text
    assert len(listed(html)) == 4
    assert queries.count == before
    assert before <= 16


# ---------------------------------------------------------------- the elevator file


def test_file_page_live_panel_and_fault_history(client: TestClient, city: None) -> None:
    login(client, "maint_a")
    html = client.get(f"/elevators/{A1}").text
    panel = html.split('id="live-panel"')[1].split("</section>")[0]
    assert f'hx-get="/elevators/{A1}/live" hx-trigger="every 5s"' in html
    assert 'id="live-connection">在线' in panel
    assert 'id="live-last-seen"' in panel and "2026-11-23 17:00:00" in panel
    values = live_values(panel)
    assert values == {
        "live-mode": "正常运行",
        "live-car": "上行",
        "live-floor": "7",
        "live-door": "关闭",
        "live-door-zone": "门区外",
        "live-passenger": "有人",
        "live-power": "正常",
        "live-speed": "1.00",
        "live-trips": "12,345",
        "live-door-cycles": "23,456",
        "live-run-hours": "1,234.5",
    }
    assert 'id="live-open-faults"' in panel and "困人 · 紧急" in panel
    history = re.findall(r'<tr data-fault-type="([a-z_]+)" data-open="(true|false)">', html)
    assert history == [("entrapment", "true"), ("door_close_failure", "true")]
    rows = html.split('id="fault-history"')[1].split("</table>")[0]
    assert "未解除" in rows and "5 分钟" in rows and "10 分钟" in rows


def test_file_page_history_with_a_cleared_fault_and_timeline_labels(client: TestClient, city: None) -> None:
    login(client, "admin")
    html = client.get(f"/elevators/{A2}").text
    history = re.findall(r'<tr data-fault-type="([a-z_]+)" data-open="(true|false)">', html)
    assert history == [("power_cut", "false"), ("door_open_failure", "true")]  # newest start first
    power = html.split('<tr data-fault-type="power_cut"')[1].split("</tr>")[0]
    assert "停电" in power and "严重" in power
    assert "2026-11-23 16:45" in power  # cleared, local time
    assert "15 分钟" in power  # 08:30 -> 08:45
    door = html.split('<tr data-fault-type="door_open_failure"')[1].split("</tr>")[0]
    assert "40 分钟" in door  # still open: until now
    values = live_values(html)
    assert values["live-mode"] == "检修" and values["live-car"] == "停止" and values["live-power"] == "停电"
    # The detector's timeline entries show the fault type's label, not the stored value.
    timeline = html.split('id="timeline"')[1]
    kinds = re.findall(r'data-kind="(fault|fault_cleared)"', timeline)
    assert kinds == ["fault_cleared", "fault", "fault"]
    assert 'data-fault-type="power_cut">停电' in timeline
    assert 'data-fault-type="door_open_failure">开门故障' in timeline
    assert ">power_cut<" not in timeline and ">door_open_failure<" not in timeline


def test_file_page_without_telemetry(client: TestClient, city: None) -> None:
    login(client, "owner_b")
    html = client.get(f"/elevators/{B4}").text
    assert 'id="live-never"' in html and "尚未收到该电梯的监测数据" in html
    assert 'id="faults-empty"' in html


def test_file_page_in_english(client: TestClient, city: None) -> None:
    login(client, "admin")
    client.cookies.set("lang", "en")
    html = client.get(f"/elevators/{A2}").text
    assert "Live status" in html and "Fault history (newest first)" in html
    values = live_values(html)
    assert values["live-mode"] == "Inspection / maintenance" and values["live-power"] == "Cut"
    assert "15 min" in html and "Door open failure" in html


def test_live_panel_fragment_is_scoped_and_refreshes(
    client: TestClient, city: None, session: Session
) -> None:
    login(client, "maint_a")
    r = client.get(f"/elevators/{A1}/live", headers=HX)
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="live-panel"')
    assert "<html" not in r.text
    assert client.get(f"/elevators/{B3}/live", headers={**HX, "Accept": "text/html"}).status_code == 404
    telemetry.upsert_live_status(session, [status_row(A1, True, at(0), floor=12, running=False)])
    session.commit()
    values = live_values(client.get(f"/elevators/{A1}/live").text)
    assert values["live-floor"] == "12" and values["live-car"] == "停止"


def test_offline_panel(client: TestClient, city: None) -> None:
    login(client, "admin")
    html = client.get(f"/elevators/{B3}/live").text
    assert 'id="live-connection">离线' in html
    assert "终端长时间离线" in html


# ---------------------------------------------------------------- assets and helpers


def test_leaflet_assets_are_served_from_node_modules(client: TestClient) -> None:
    if not monitor.LEAFLET_DIR.is_dir():
        pytest.skip("node_modules/leaflet missing: run `make setup`")
    js = client.get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and "Leaflet" in js.text[:2000]
    assert js.headers["content-type"].startswith("text/javascript")
    css = client.get("/static/vendor/leaflet/leaflet.css")
    assert css.status_code == 200 and ".leaflet-container" in css.text
    assert client.get("/static/vendor/leaflet/images/layers.png").status_code == 200
    # Only Leaflet's own files: nothing else under node_modules.
    assert client.get("/static/vendor/leaflet/../../htmx.org/package.json").status_code == 404
    assert client.get("/static/vendor/leaflet/leaflet-src.js.map").status_code == 404
    assert client.get("/static/monitor.js").status_code == 200
    assert client.get("/static/monitor.css").status_code == 200


def test_tile_url_setting_reaches_the_map(client: TestClient, city: None) -> None:
    login(client, "admin")
    assert '"tile_url": ""' in client.get("/monitor").text
    client.app.state.settings.map_tile_url = "https://tiles.example/{z}/{x}/{y}.png"  # type: ignore[attr-defined]
    assert '"tile_url": "https://tiles.example/{z}/{x}/{y}.png"' in client.get("/monitor").text


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (0, "0 秒", "0 s"),
        (59, "59 秒", "59 s"),
        (60, "1 分钟", "1 min"),
        (3599, "59 分钟", "59 min"),
        (3600 + 5 * 60, "1 小时 5 分", "1 h 5 min"),
        (2 * 86400 + 4 * 3600 + 59, "2 天 4 小时", "2 d 4 h"),
        (-5, "0 秒", "0 s"),
    ],
)
def test_format_duration(seconds: int, zh: str, en: str) -> None:
    assert monitor.format_duration(seconds, "zh-CN") == zh
    assert monitor.format_duration(seconds, "en") == en
