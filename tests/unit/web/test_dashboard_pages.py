"""The city dashboard (/dashboard) and its data routes: roles and scope, the month's tiles, the 12-month
trend and the ranking on the rescue ledger of tests/unit/rescue/test_exports.py (figures computed by hand
below), drill-down narrowing city -> district -> street -> use unit, the map's points and the district
boundaries (derived, or the city's file served as is), and every label in Chinese or in English.

The ledger (clock at 2026-12-05 08:00 Shanghai; December is "this month"):

====  ===========  ==========  ================================  =====================================
#     alarm (CST)  elevator    what happened                     counts as
====  ===========  ==========  ================================  =====================================
1     11-23 17:00  A1 静安区   arrived after 12 min              November entrapment, on time
2     12-01 00:30  B3 徐汇区   arrived after 20 min              December entrapment, on time
3     12-02 10:00  A2 静安区   arrived after 40 min              December entrapment, late
4     12-03 13:00  B4 徐汇区   false alarm                       nothing
5     12-03 14:00  A1 静安区   passengers got out before a crew  December entrapment, no arrival judged
6     12-03 16:00  B3 徐汇区   still open, nobody arrived        December entrapment, late; open
====  ===========  ==========  ================================  =====================================

December, city: entrapments 4 (#2 #3 #5 #6); on time 1 of 3 judged (#2; #3 late, #6 past its 30 min);
average arrival (20 + 40) / 2 = 30.0 min (target <= 30: met); open incidents 1 (#6).
12 months by district: 静安区 3 (#1 #3 #5) on 2 elevators = 15,000 per 10,000; 徐汇区 2 (#2 #6) on 2 =
10,000 per 10,000.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.analytics import gather
from liftwatch.analytics.report import AreaFigures, ReportPeriod
from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.registry import geo
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.web import dashboard
from tests.factories import PASSWORD, USERS, auth
from tests.unit.rescue.test_exports import Ledger, build_ledger
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

HTML = {"Accept": "text/html"}
JINGAN, XUHUI = "静安区", "徐汇区"
JINGAN_STREET, XUHUI_STREET = "南京西路街道", "天平路街道"
COORDS = {
    "11SHA000001": (31.2300, 121.4700),
    "11SHA000002": (31.2320, 121.4650),
    "11SHB000003": (31.1950, 121.4370),
    "11SHB000004": (31.1900, 121.4400),
}
RAW_KEY = re.compile(r"\b(dashboard|nav|common)\.[a-z_]+")


@pytest.fixture
def ledger(session: Session, clock: FixedClock) -> Ledger:
    out = build_ledger(session, clock)
    for code, (lat, lon) in COORDS.items():
        registry.update_elevator(
            session, SYSTEM_ACTOR, code, ElevatorUpdate(latitude=lat, longitude=lon), clock
        )
    session.commit()
    return out


def login(client: TestClient, role: Role) -> None:
    web_login(client, USERS[role][0], PASSWORD)


def main_text(html: str) -> str:
    main = html.split('<main id="main"', 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def tile(html: str, name: str) -> str:
    m = re.search(rf'id="tile-{name}" data-value="([^"]*)"', html)
    assert m, name
    return m.group(1)


def charts(client: TestClient, query: str = "") -> dict[str, Any]:
    r = client.get("/dashboard/charts.json" + query)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_page_carries_the_charts_series_of_the_data_route(client: TestClient, ledger: Ledger) -> None:
    """One dashboard load counts the area's figures once: the page embeds what /dashboard/charts.json
    answers, for the city and for a district."""
    login(client, Role.REGULATOR)
    for query in ("", f"?district={JINGAN}"):
        html = client.get("/dashboard" + query, headers=HTML).text
        found = re.search(r'<script type="application/json" id="dashboard-config">(.*?)</script>', html, re.S)
        assert found is not None
        embedded = json.loads(found.group(1))["charts"]
        assert embedded == charts(client, query)
        assert embedded["trend"] and embedded["ranking"]


def test_the_city_figures_for_the_centre(client: TestClient, ledger: Ledger) -> None:
    login(client, Role.RESCUE_OPERATOR)
    page = client.get("/dashboard", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert tile(html, "entrapments") == "4"
    assert float(tile(html, "on-time")) == pytest.approx(1 / 3)
    assert float(tile(html, "arrival")) == pytest.approx(30.0)
    assert tile(html, "in-service") == "4"
    assert tile(html, "open") == "1"
    assert 'class="dtile tile-met" id="tile-arrival"' in html  # 30.0 <= 30
    assert 'class="dtile tile-missed" id="tile-on-time"' in html  # 33.3 % < 98 %
    data = charts(client)
    assert data["tiles"]["on_time"]["numerator"] == 1 and data["tiles"]["on_time"]["denominator"] == 3
    trend = {m["month"]: m for m in data["trend"]}
    assert list(trend) == [f"2026-{m:02d}" for m in range(1, 13)]
    assert trend["2026-11"]["entrapments"] == 1 and trend["2026-11"]["on_time"] == 1.0
    assert trend["2026-12"]["entrapments"] == 4 and trend["2026-12"]["on_time"] == pytest.approx(1 / 3)
    assert all(trend[f"2026-{m:02d}"]["entrapments"] == 0 for m in range(1, 11))
    assert [(r["key"], r["entrapments"], r["in_service"], r["per_10k"]) for r in data["ranking"]] == [
        (JINGAN, 3, 2, 15000.0),
        (XUHUI, 2, 2, 10000.0),
    ]
    assert data["ranking"][0]["href"] == "/dashboard?district=%E9%9D%99%E5%AE%89%E5%8C%BA"


def test_drill_down_narrows_every_figure(client: TestClient, ledger: Ledger) -> None:
    login(client, Role.REGULATOR)
    html = client.get("/dashboard", params={"district": JINGAN}).text
    assert tile(html, "entrapments") == "2"  # #3 #5
    assert tile(html, "in-service") == "2"
    assert tile(html, "open") == "0"
    assert float(tile(html, "arrival")) == pytest.approx(40.0)  # #3 only
    assert re.findall(r'<ol class="crumbs".*?</ol>', html, re.S)[0].count("<li>") == 2
    assert f'href="/dashboard?district={JINGAN}' not in html  # links are URL-encoded
    data = charts(client, f"?district={JINGAN}")
    assert data["level"] == "district"
    assert [(r["key"], r["entrapments"]) for r in data["ranking"]] == [(JINGAN_STREET, 3)]
    # street -> its use units; unit -> its elevators, linking to their files
    data = charts(client, f"?district={XUHUI}&street={XUHUI_STREET}")
    assert [(r["key"], r["entrapments"], r["per_10k"]) for r in data["ranking"]] == [("UU-B", 2, 10000.0)]
    html = client.get("/dashboard", params={"district": XUHUI, "street": XUHUI_STREET, "unit": "UU-B"}).text
    assert tile(html, "entrapments") == "2" and tile(html, "open") == "1"
    assert "徐汇置业物业服务公司" in html  # the unit's name in the breadcrumb
    assert 'href="/elevators/11SHB000003"' in html and 'href="/elevators/11SHB000004"' in html
    data = charts(client, f"?district={XUHUI}&street={XUHUI_STREET}&unit=UU-B")
    assert data["ranking_by"] == "entrapments"
    assert [(r["key"], r["entrapments"]) for r in data["ranking"]] == [("11SHB000003", 2), ("11SHB000004", 0)]
    assert data["ranking"][0]["href"] == "/elevators/11SHB000003"
    # an area that does not exist is not found; a street without its district is the city
    assert client.get("/dashboard", params={"district": "无此区"}).status_code == 404
    assert client.get("/dashboard/charts.json", params={"street": XUHUI_STREET}).json()["level"] == "city"


def test_unit_staff_see_their_own_elevators(client: TestClient, ledger: Ledger) -> None:
    login(client, Role.MAINTENANCE)  # maint_a: MU-A maintains A1 and A2 (静安区)
    html = client.get("/dashboard").text
    # #3 and #5 on its elevators; #2 on B3 (MU-A's crew was sent) is not its elevator
    assert tile(html, "entrapments") == "2"
    assert tile(html, "in-service") == "2"
    # the incidents on its elevators, as 静安区's for the centre (A1 and A2 are 静安区's): #3 arrived in 40
    assert float(tile(html, "arrival")) == pytest.approx(40.0)
    unit_on_time = tile(html, "on-time")
    assert unit_on_time != "" and "按本单位电梯上的困人事件统计" in html
    data = charts(client)
    assert [(r["key"], r["entrapments"]) for r in data["ranking"]] == [(JINGAN, 3)]
    assert {m["month"]: m["entrapments"] for m in data["trend"]}["2026-12"] == 2
    assert {m["month"]: m["on_time"] for m in data["trend"]}["2026-12"] is not None  # its line too
    points = client.get("/dashboard/points.json").json()
    assert sorted(p["code"] for p in points["elevators"]) == ["11SHA000001", "11SHA000002"]
    assert client.get("/dashboard", params={"district": XUHUI}).status_code == 404
    assert client.get("/dashboard/points.json", params={"district": XUHUI}).status_code == 404
    # the map opens on its own elevators
    config = json.loads(re.search(r'id="dashboard-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert config["bounds"] == [[31.23, 121.465], [31.232, 121.47]]

    client.cookies.clear()
    login(client, Role.USE_UNIT)  # owner_b: UU-B uses B3 and B4 (徐汇区)
    html = client.get("/dashboard").text
    assert tile(html, "entrapments") == "2" and tile(html, "open") == "1"  # #2 #6; #6 open
    points = client.get("/dashboard/points.json").json()
    assert {p["code"]: p["state"] for p in points["elevators"]} == {
        "11SHB000003": "incident",
        "11SHB000004": "normal",
    }
    assert [i["code"] for i in points["incidents"]] == ["11SHB000003"]

    client.cookies.clear()
    login(client, Role.REGULATOR)  # the centre's 静安区 is MU-A's two elevators: the same figures
    html = client.get("/dashboard", params={"district": JINGAN}).text
    assert tile(html, "on-time") == unit_on_time and "按本单位电梯上的困人事件统计" not in html


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.REGULATOR, 200),
        (Role.RESCUE_OPERATOR, 200),
        (Role.MAINTENANCE, 200),
        (Role.USE_UNIT, 200),
        (Role.INSPECTOR, 403),
        (Role.INSURER, 403),
        (Role.PUBLIC, 303),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else str(v),
)
def test_roles(role: Role, status: int, client: TestClient, ledger: Ledger) -> None:
    if role is not Role.PUBLIC:
        login(client, role)
    page = client.get("/dashboard", headers=HTML, follow_redirects=False)
    assert page.status_code == status
    if role is Role.PUBLIC:
        assert page.headers["location"] == "/login?next=%2Fdashboard"
        return
    assert ('id="nav-dashboard"' in page.text) is (status == 200)
    for path in ("/dashboard/charts.json", "/dashboard/points.json"):
        assert client.get(path, follow_redirects=False).status_code == status
    # the boundaries are geography every signed-in map shows (the monitor's too)
    assert client.get("/dashboard/districts.geojson").status_code == 200


def test_points_carry_state_and_grade(client: TestClient, ledger: Ledger) -> None:
    login(client, Role.ADMIN)
    body = client.get("/dashboard/points.json").json()
    assert body["total"] == 4 and body["shown"] == 4 and body["truncated"] is False
    by_code = {p["code"]: p for p in body["elevators"]}
    assert by_code["11SHB000003"]["state"] == "incident"
    assert by_code["11SHA000001"]["state"] == "normal"
    assert by_code["11SHA000001"]["grade"] == ""  # not graded yet
    assert body["incidents"][0]["code"] == "11SHB000003"
    narrowed = client.get("/dashboard/points.json", params={"district": JINGAN}).json()
    assert sorted(p["code"] for p in narrowed["elevators"]) == ["11SHA000001", "11SHA000002"]
    assert narrowed["incidents"] == []


def test_a_view_holding_too_many_is_drawn_as_counted_squares(
    settings: Settings, engine: Engine, clock: FixedClock, ledger: Ledger
) -> None:
    """Over ``map_points_max`` (3 here; the city has 4 located) the view is a grid of counted squares,
    the elevator in trouble (B3, its open entrapment) still a point; zoomed in to two, each is a point."""
    app = create_app(settings=settings.model_copy(update={"map_points_max": 3}), engine=engine, clock=clock)
    with TestClient(app) as client:
        login(client, Role.REGULATOR)
        # 2 x 2 over the view: rows split at 31.21, columns at 121.455; 静安区's pair is north-east
        whole = {"view": "31.18,121.43,31.24,121.48", "grid": "2,2"}
        body = client.get("/dashboard/points.json", params=whole).json()
        assert (body["mode"], body["total"], body["in_view"], body["max"], body["truncated"]) == (
            "cells",
            4,
            4,
            3,
            True,
        )
        squares = sorted(body["cells"], key=lambda c: c["lat"])
        assert [c["count"] for c in squares] == [2, 2]
        assert (squares[0]["lat"], squares[0]["lon"]) == pytest.approx((31.1925, 121.4385))
        assert squares[1]["bounds"] == [[31.23, 121.465], [31.232, 121.47]]
        assert [(p["code"], p["state"]) for p in body["elevators"]] == [("11SHB000003", "incident")]
        assert [i["code"] for i in body["incidents"]] == ["11SHB000003"]
        # zoomed in on 静安区's pair: two in view, each a point
        near = client.get("/dashboard/points.json", params={"view": "31.225,121.46,31.235,121.475"}).json()
        assert (near["mode"], near["in_view"], near["cells"]) == ("points", 2, [])
        assert sorted(p["code"] for p in near["elevators"]) == ["11SHA000001", "11SHA000002"]
        # no view: the area's own bounds are counted; a district of two is all points, whatever the view
        assert sum(c["count"] for c in client.get("/dashboard/points.json").json()["cells"]) == 4
        district = client.get("/dashboard/points.json", params={"district": XUHUI, **whole}).json()
        assert district["mode"] == "points" and district["shown"] == 2
        for field, bad in (
            ("view", "31.18,121.43,31.24"),
            ("view", "31.3,121.43,31.2,121.48"),
            ("view", "nan,121.43,31.24,121.48"),
            ("grid", "0,4"),
            ("grid", "two,2"),
        ):
            r = client.get("/dashboard/points.json", params={field: bad})
            assert r.status_code == 422 and field in r.text, (field, bad, r.status_code)


def test_the_months_before_this_one_are_read_together_once(
    client: TestClient, ledger: Ledger, engine: Engine
) -> None:
    """The charts' 11 settled months come from the roll-up in one query on an area's first load, and from
    the app's memory after it, for the city and for a district (its own months, by street)."""
    login(client, Role.REGULATOR)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    def cell_reads(params: dict[str, str]) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert client.get("/dashboard", params=params).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return sum(s.startswith("SELECT") and "FROM analytics_cells" in s for s in statements)

    for params in ({}, {"district": JINGAN}):
        assert cell_reads(params) == 1, params
        assert cell_reads(params) == 0, params


def test_derived_boundaries_cover_the_districts(client: TestClient, ledger: Ledger) -> None:
    login(client, Role.REGULATOR)
    r = client.get("/dashboard/districts.geojson")
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["x-boundaries"] == "derived"
    doc = r.json()
    cells = {f["properties"]["name"]: f["geometry"]["coordinates"][0] for f in doc["features"]}
    assert set(cells) == {JINGAN, XUHUI}
    for code, (lat, lon) in COORDS.items():
        district = JINGAN if code.startswith("11SHA") else XUHUI
        assert geo.contains([tuple(p) for p in cells[district][:-1]], lon, lat), code


def test_a_city_file_is_served_as_is(
    client: TestClient, ledger: Ledger, settings: Settings, tmp_path: Path
) -> None:
    raw = (
        '{"type":"FeatureCollection",'
        '"features":[{"type":"Feature","properties":{"name":"静安区"},"geometry":null}]}'
    )
    path = tmp_path / "city.geojson"
    path.write_text(raw, encoding="utf-8")
    settings.districts_geojson = str(path)
    login(client, Role.REGULATOR)
    r = client.get("/dashboard/districts.geojson")
    assert r.status_code == 200
    assert r.content == raw.encode()
    assert r.headers["x-boundaries"] == "file"


def test_the_page_in_chinese_and_english(client: TestClient, ledger: Ledger) -> None:
    login(client, Role.REGULATOR)
    zh = client.get("/dashboard", params={"district": XUHUI, "street": XUHUI_STREET}).text
    text = main_text(zh)
    assert not RAW_KEY.search(text), RAW_KEY.findall(text)
    for words in (
        "城市电梯安全驾驶舱",
        "本月困人",
        "按时到达率",
        "平均到场时间",
        "在用电梯",
        "未结困人事件",
        "各使用单位",
    ):
        assert words in text, words
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"\b[A-Z0-9-]*\d[A-Z0-9-]*\b|UU-B|SHB", "", text))
    client.cookies.set("lang", "en")
    en = client.get("/dashboard").text
    assert not RAW_KEY.search(main_text(en))
    for words in ("City elevator dashboard", "Entrapments this month", "Rescue arrival on time", "Districts"):
        assert words in en, words
    labels = json.loads(re.search(r'id="dashboard-config">(.*?)</script>', en, re.S).group(1))["labels"]  # type: ignore[union-attr]
    assert labels["states"]["incident"] == "Entrapment under way"
    assert not RAW_KEY.search(json.dumps(labels))


def test_the_period_starts_eleven_months_back() -> None:
    p = dashboard.period_of(datetime(2026, 12, 5, 0, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai"))
    assert p.start == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 2026-01-01 00:00 Shanghai
    assert p.month_start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 Shanghai


def test_tile_report_and_api_give_the_same_figure(
    client: TestClient, ledger: Ledger, session: Session, clock: FixedClock, settings: Settings
) -> None:
    """One source (the analytics service): December 2026 on the ledger, for the city and for 静安区, the
    dashboard's tiles, the monthly report's headline and rows, and GET /api/v1/analytics/kpis agree.
    By hand: the city 4 entrapments on 4 elevators, on time 1 / 3, average arrival 30.0 min;
    静安区 2 (#3 #5) on 2, on time 0 / 1 (#3 at 40 min), average arrival 40.0 min."""
    login(client, Role.REGULATOR)
    city = charts(client)["tiles"]
    jingan = charts(client, f"?district={JINGAN}")["tiles"]
    report = gather.gather(session, gather.CITY, ReportPeriod.parse("2026-12"), clock, settings)
    jingan_report = next(d for d in report.by_district if d.key == JINGAN)
    api = client.get("/api/v1/analytics/kpis?month=2026-12&by=district", headers=auth(client, Role.REGULATOR))
    assert api.status_code == 200, api.text
    total = api.json()["total"]
    jingan_api = next(r for r in api.json()["rows"] if r["key"] == JINGAN)

    def tile_figures(t: dict[str, Any]) -> tuple[object, ...]:
        on_time, arrival = t["on_time"], t["arrival"]
        return (
            t["entrapments"]["value"],
            t["in_service"]["value"],
            on_time["numerator"],
            on_time["denominator"],
            arrival["value"],
        )

    def report_figures(a: AreaFigures) -> tuple[object, ...]:
        return (a.entrapments, a.elevators, a.on_time.numerator, a.on_time.denominator, a.average_arrival_min)

    def api_figures(row: dict[str, Any]) -> tuple[object, ...]:
        f = row["figures"]
        return (
            f["entrapment"]["count"],
            row["elevators"],
            f["on_time_arrival"]["count"],
            f["on_time_arrival"]["base"],
            f["average_arrival"]["value"],
        )

    assert tile_figures(city) == report_figures(report.total) == api_figures(total) == (4, 4, 1, 3, 30.0)
    assert tile_figures(jingan) == report_figures(jingan_report) == api_figures(jingan_api)
    assert tile_figures(jingan) == (2, 2, 0, 1, 40.0)
    # the entrapment rate per 10,000 elevators a month is the service's: 4 x 10,000 / 4 over Dec 1 00:00
    # to Dec 5 08:00 (104 h) of a 365/12-day month (730 h) = 70,192.3
    assert city["entrapments"]["per_10k_month"] == total["figures"]["entrapment"]["value"]
    assert city["entrapments"]["per_10k_month"] == pytest.approx(10_000 * 730 / 104)
