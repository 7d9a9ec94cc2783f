"""Exports of the rescue ledger (issue 11, item 6): the KPI workbook's figures equal GET /api/v1/rescue/kpis
for the same filters (a month, a district, a unit, a level), over a hand-made ledger driven through the
rescue service with a controlled clock; the incident export has every stage and every dispatch, in Chinese
by default and English on request, as Excel and as CSV with a BOM; formulas are neutralised.

The ledger (``build_ledger``, also used by the search, queue and page tests), times in UTC, minutes after
each alarm; crews as tests.factories.rescue_city (A1, A2 of MU-A; RS1 of the rescue station RS-1; MU-B has
no crew, so its L1 dispatch has none and escalates to the first free crew of another unit):

| # | alarm (UTC) | elevator, district, unit | what happens                                                  |
|---|-------------|--------------------------|---------------------------------------------------------------|
| 1 | 11-23 09:00 | 11SHA000001 静安 MU-A    | A1 acks 2, arrives 12, releases 15, completes 20 (misuse);    |
|   |             |                          | called back 25                                                |
| 2 | 11-30 16:30 | 11SHB000003 徐汇 MU-B    | (1 December, 00:30 in Beijing) L1 MU-B without a crew; 5: L2  |
|   |             |                          | -> A1; acks 6, arrives 20, releases 25, completes 30          |
| 3 | 12-02 02:00 | 11SHA000002 静安 MU-A    | A1 never answers; 5: L2 -> RS1; acks 7, arrives 40, releases  |
|   |             |                          | 45; the case stays open                                       |
| 4 | 12-03 05:00 | 11SHB000004 徐汇 MU-B    | false alarm at 3                                              |
| 5 | 12-03 06:00 | 11SHA000001 静安 MU-A    | A2 sent; got out at 3 (told at 4); called back at 10          |
| 6 | 12-03 08:00 | 11SHB000003 徐汇 MU-B    | still open (L1 MU-B, no crew)                                 |

Figures as of 12-05 00:00 UTC over November and December in Beijing, worked out by hand: incidents 6,
false alarms 1, rescues 5 (#1 #2 #3 #5 #6); response 1 / 5 (#1 only: #2, #3, #6 unanswered first
dispatches, #5's was taken back within its limit unanswered, so it has none); average arrival (12 + 20 +
40) / 3 = 24.0 min; on time 2 / 4 (#1, #2; #3 late, #6 never; #5 got out by the deadline: out of it);
call-backs 2 / 4 (#1, #5 of the released #1 #2 #3 #5); cause reported 2 / 3 (#1, #2 of the closed #1 #2
#5); levels L1 3 (#1 #5 #6), L2 2 (#2 #3).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.rescue import exports, queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, Source
from tests.factories import auth, rescue_city, seed

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
A1, A2, RS1 = (Actor(u, Role.MAINTENANCE) for u in ("crew_a1", "crew_a2", "crew_rs"))
SETTINGS = rescue.RescueSettings()
AS_OF = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
PERIOD = "from=2026-11-01&to=2026-12-31"
XLSX = exports.MEDIA_TYPES["xlsx"]


@dataclass(frozen=True)
class Ledger:
    """The incident ids of the hand-made ledger, by their number in the module's table."""

    ids: dict[int, int]


def _at(clock: FixedClock, t0: datetime, minutes: float) -> None:
    clock.advance(t0 + timedelta(minutes=minutes) - clock.now())


def _open(session: Session, clock: FixedClock, code: str, **kw: Any) -> int:
    out = rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE, **kw), clock, SETTINGS)
    session.commit()
    return out.incident.id


def _fire(session: Session, clock: FixedClock) -> None:
    rescue.fire_due_timers(session, clock, SETTINGS)
    session.commit()


def build_ledger(session: Session, clock: FixedClock) -> Ledger:
    """The six incidents of the module's table, through the rescue service; the clock ends at AS_OF."""
    seed(session, clock)
    rescue_city(session, clock)
    session.commit()
    ids: dict[int, int] = {}

    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    _at(clock, t0, 0)
    ids[1] = i = _open(
        session, clock, "11SHA000001", caller_name='=HYPERLINK("http://x")', callback_phone="13800000000"
    )
    for minutes, step in ((2, rescue.acknowledge), (12, rescue.arrive), (15, rescue.release)):
        _at(clock, t0, minutes)
        step(session, A1, i, clock)
    _at(clock, t0, 20)
    rescue.complete(session, A1, i, clock, SETTINGS, Cause.MISUSE, "乘客扒门")
    _at(clock, t0, 25)
    rescue.call_back(session, OPERATOR, i, clock, "已平安")
    session.commit()

    t0 = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    _at(clock, t0, 0)
    ids[2] = i = _open(session, clock, "11SHB000003")
    _at(clock, t0, 5)
    _fire(session, clock)  # no acknowledgement: L2, the first free crew of another unit (A1)
    for minutes, step in ((6, rescue.acknowledge), (20, rescue.arrive), (25, rescue.release)):
        _at(clock, t0, minutes)
        step(session, A1, i, clock)
    _at(clock, t0, 30)
    rescue.complete(session, A1, i, clock, SETTINGS, Cause.ELECTRO_MECHANICAL)
    session.commit()

    t0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    _at(clock, t0, 0)
    ids[3] = i = _open(session, clock, "11SHA000002")  # A1
    _at(clock, t0, 5)
    _fire(session, clock)  # A1 never answers: L2, RS1
    for minutes, step in ((7, rescue.acknowledge), (40, rescue.arrive), (45, rescue.release)):
        _at(clock, t0, minutes)
        step(session, RS1, i, clock)
    session.commit()

    t0 = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
    _at(clock, t0, 0)
    ids[4] = i = _open(session, clock, "11SHB000004")
    _at(clock, t0, 3)
    rescue.false_alarm(session, OPERATOR, i, clock, SETTINGS, "无人被困")
    session.commit()

    t0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    _at(clock, t0, 0)
    ids[5] = i = _open(session, clock, "11SHA000001")  # A1 is still on #3: A2
    _at(clock, t0, 4)
    rescue.self_released(session, OPERATOR, i, clock, SETTINGS, "乘客自行打开轿门", t0 + timedelta(minutes=3))
    _at(clock, t0, 10)
    rescue.call_back(session, OPERATOR, i, clock, "已确认平安")
    session.commit()

    t0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    _at(clock, t0, 0)
    ids[6] = _open(session, clock, "11SHB000003")
    clock.advance(AS_OF - clock.now())
    return Ledger(ids)


@pytest.fixture
def ledger(session: Session, clock: FixedClock) -> Ledger:
    return build_ledger(session, clock)


def _sheet(wb: Any, title: str) -> tuple[list[str], list[list[Any]]]:
    rows = [list(r) for r in wb[title].iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def _figures(header: list[str], row: list[Any]) -> dict[str, Any]:
    """A KPI row of the workbook in the API's shape (the parts the API gives)."""

    def col(name: str, part: str = "") -> Any:
        return row[exports.kpi_column(header, name, "zh", part)]

    out: dict[str, Any] = {
        k: col(k) for k in ("incidents", "false_alarms", "cancelled", "rescues", "self_released", "pending")
    }
    for rate in ("response_rate", "on_time_arrival", "rescue_success", "dispatch_rate", "callback_rate",
                 "cause_reported"):  # fmt: skip
        out[rate] = (col(rate, "numerator"), col(rate, "denominator"), col(rate))
    for mean in ("average_arrival", "average_on_site"):
        i = exports.kpi_column(header, mean, "zh")
        out[mean] = (row[i], row[i + 1])
    out["elevators_in_service"] = col("elevators_in_service")
    out["entrapment_rate"] = (col("entrapment_per_year"), col("entrapment_per_month"))
    out["by_level"] = tuple(col(f"level_{lv}") for lv in ("L1", "L2", "L3"))
    return out


def _flat(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{k}.{i}": x for k, v in figures.items() for i, x in enumerate(v if isinstance(v, tuple) else (v,))
    }


def same(sheet: dict[str, Any], api: dict[str, Any]) -> bool:
    """Equal figures: counts exactly, rates and means to Excel's 15 significant digits (a workbook keeps
    no more)."""
    got, want = _flat(sheet), _flat(api)
    if got.keys() != want.keys():
        return False
    return all(
        g == w if not isinstance(w, float) or g is None else g == pytest.approx(w, rel=1e-14, abs=0)
        for g, w in ((got[k], want[k]) for k in want)
    )


def _api_figures(k: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        n: k[n] for n in ("incidents", "false_alarms", "cancelled", "rescues", "self_released", "pending")
    }
    for rate in ("response_rate", "on_time_arrival", "rescue_success", "dispatch_rate", "callback_rate",
                 "cause_reported"):  # fmt: skip
        out[rate] = (k[rate]["numerator"], k[rate]["denominator"], k[rate]["value"])
    for mean in ("average_arrival", "average_on_site"):
        out[mean] = (k[mean]["minutes"], k[mean]["count"])
    out["elevators_in_service"] = k["elevators_in_service"]
    out["entrapment_rate"] = (k["entrapment_rate"]["per_year"], k["entrapment_rate"]["per_month"])
    out["by_level"] = tuple(k["by_level"][lv]["numerator"] for lv in ("L1", "L2", "L3"))
    return out


def _workbook(client: TestClient, headers: dict[str, str], query: str) -> Any:
    r = client.get(f"/api/v1/rescue/exports/kpis?{query}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"].startswith('attachment; filename="liftwatch-kpis-')
    return load_workbook(io.BytesIO(r.content), read_only=True)


def test_the_kpi_workbook_equals_the_kpi_api(client: TestClient, session: Session, ledger: Ledger) -> None:
    reg = auth(client, Role.REGULATOR)
    wb = _workbook(client, reg, PERIOD)
    assert wb.sheetnames == ["合计", "按月", "按区", "按维保单位", "按响应级别"]
    api = client.get(f"/api/v1/rescue/kpis?{PERIOD}", headers=reg).json()

    header, rows = _sheet(wb, "合计")
    total = _figures(header, rows[0])
    assert same(total, _api_figures(api))
    # the hand-worked figures of the module's docstring
    assert (total["incidents"], total["false_alarms"], total["rescues"]) == (6, 1, 5)
    assert total["response_rate"][:2] == (1, 5) and total["on_time_arrival"][:2] == (2, 4)
    assert total["average_arrival"] == (24.0, 3)
    assert total["callback_rate"][:2] == (2, 4) and total["cause_reported"][:2] == (2, 3)
    assert total["by_level"] == (3, 2, 0)
    assert rows[0][header.index("期间起")] == datetime(2026, 11, 1, 0, 0)  # Beijing time, no zone

    for sheet, group_by, keys in (
        ("按月", "month", ["2026-11", "2026-12"]),
        ("按区", "district", ["徐汇区", "静安区"]),
        ("按维保单位", "maintenance_unit", ["MU-A", "MU-B"]),
    ):
        header, rows = _sheet(wb, sheet)
        groups = client.get(f"/api/v1/rescue/kpis?{PERIOD}&group_by={group_by}", headers=reg).json()["groups"]
        got = {row[header.index("分组")]: _figures(header, row) for row in rows}
        assert sorted(got) == keys == sorted(groups), sheet
        for key in keys:
            assert same(got[key], _api_figures(groups[key])), (sheet, key)
    header, rows = _sheet(wb, "按维保单位")
    assert {r[header.index("分组")]: r[header.index("名称")] for r in rows}["MU-A"] == "浦江电梯维保有限公司"
    # months on the Beijing calendar: #2 (16:30 UTC on 30 November) is December's
    header, rows = _sheet(wb, "按月")
    assert [r[header.index("事件数")] for r in rows] == [1, 5]

    # levels: each row is its rescues' figures; the API gives their number in by_level
    header, rows = _sheet(wb, "按响应级别")
    levels = {r[header.index("分组")]: _figures(header, r) for r in rows}
    assert [r[header.index("名称")] for r in rows] == ["一级：维保单位", "二级：救援站", "三级：消防/公安"]
    for lv in ("L1", "L2", "L3"):
        assert levels[lv]["rescues"] == api["by_level"][lv]["numerator"]
    assert sum(levels[lv]["response_rate"][0] for lv in levels) == api["response_rate"]["numerator"]
    assert levels["L2"]["average_arrival"] == (30.0, 2)  # #2 at 20, #3 at 40


@pytest.mark.parametrize(
    "query",
    [
        "district=静安区",
        "unit=MU-A",
        "unit=RS-1",
        "from=2026-12-01&to=2026-12-01",
        "district=徐汇区&unit=MU-B",
    ],
)
def test_the_kpi_workbook_follows_the_filters(
    client: TestClient, session: Session, ledger: Ledger, query: str
) -> None:
    """The same filters give the same figures: a district, a unit (its own dispatches: RS-1 has figures of
    its own and no contracted incident), a day in Beijing."""
    reg = auth(client, Role.REGULATOR)
    q = query if "from=" in query else f"{PERIOD}&{query}"
    wb = _workbook(client, reg, f"{q}&group_by=month&group_by=level")
    assert wb.sheetnames == ["合计", "按月", "按响应级别"]
    header, rows = _sheet(wb, "合计")
    api = client.get(f"/api/v1/rescue/kpis?{q}&group_by=month", headers=reg).json()
    assert same(_figures(header, rows[0]), _api_figures(api))
    header, rows = _sheet(wb, "按月")
    for row in rows:
        assert same(_figures(header, row), _api_figures(api["groups"][row[header.index("分组")]]))
    if query == "unit=RS-1":
        assert api["rescues"] == 0 and api["response_rate"]["numerator"] == 1  # RS1 answered #3 in 2 min


def test_kpi_csv_in_english_is_one_table(client: TestClient, session: Session, ledger: Ledger) -> None:
    reg = auth(client, Role.REGULATOR)
    r = client.get(f"/api/v1/rescue/exports/kpis?{PERIOD}&format=csv&lang=en&group_by=district", headers=reg)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["Grouping", "Group", "Name"] and "Response rate numerator" in header
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("Total", ""),
        ("By district", "徐汇区"),
        ("By district", "静安区"),
    ]
    total = rows[1]
    assert total[header.index("Response rate")] == "20.00%"  # 1 / 5
    assert total[header.index("Average arrival (min)")] == "24.00"


def test_bad_export_input_names_the_field(client: TestClient, session: Session, ledger: Ledger) -> None:
    reg = auth(client, Role.REGULATOR)
    for url, field in (
        ("/api/v1/rescue/exports/kpis?format=pdf", "format"),
        ("/api/v1/rescue/exports/kpis?group_by=street", "group_by.0"),
        ("/api/v1/rescue/exports/kpis?lang=fr", "lang"),
        ("/api/v1/rescue/exports/kpis?from=2026-12-02&to=2026-12-01", "to"),
        ("/api/v1/rescue/exports/incidents?level=L4", "level"),
        ("/api/v1/rescue/exports/incidents?from=yesterday", "from"),
        ("/api/v1/rescue/exports/incidents?to=9999-12-31", "to"),  # no day after it
        ("/api/v1/rescue/exports/kpis?from=1900-01-01", "from"),  # over 10 years of months
        ("/api/v1/rescue/kpis?from=1900-01-01&group_by=month", "from"),  # the KPI answer: the same rule
    ):
        r = client.get(url, headers=reg)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["errors"][0]["field"] == field, (url, r.json())
    use_unit = auth(client, Role.USE_UNIT)
    assert client.get("/api/v1/rescue/exports/kpis", headers=use_unit).status_code == 403


def test_the_incident_workbook_has_every_stage_and_every_dispatch(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    op = auth(client, Role.RESCUE_OPERATOR)
    r = client.get(f"/api/v1/rescue/exports/incidents?{PERIOD}", headers=op)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["救援事件", "派单记录"]
    header, rows = _sheet(wb, "救援事件")
    assert header[:4] == ["事件编号", "使用登记证编号", "区", "街道"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert sorted(by_id) == sorted(ledger.ids.values())  # oldest first, every one
    first = by_id[ledger.ids[1]]
    assert first["报警时间"] == datetime(2026, 11, 23, 17, 0)  # Beijing time
    assert [
        first[k] for k in ("首次派单时间", "首次响应时间", "首次到场时间", "解救时间", "结案时间", "回访时间")
    ] == [datetime(2026, 11, 23, 17, m) for m in (0, 2, 12, 15, 20, 25)]
    assert (first["状态"], first["最高响应级别"], first["原因"], first["报警来源"]) == (
        "已结案", "一级：维保单位", "使用不当", "96333来电"
    )  # fmt: skip
    assert first["报警人"] == '\'=HYPERLINK("http://x")'  # never run as a formula
    assert wb["救援事件"].cell(row=2, column=header.index("报警人") + 1).data_type == "s"
    assert (first["到场用时（分钟）"], first["派单次数"], first["全部解救"]) == (12.0, 1, "是")
    assert first["维保单位"] == "浦江电梯维保有限公司"
    third = by_id[ledger.ids[3]]
    assert (third["状态"], third["最高响应级别"], third["派单次数"], third["原因"]) == (
        "已解救", "二级：救援站", 2, None
    )  # fmt: skip

    header, rows = _sheet(wb, "派单记录")
    dispatches = [dict(zip(header, row, strict=True)) for row in rows]
    assert len(dispatches) == 8  # 1 + 2 + 2 + 1 + 1 + 1
    of_third = [d for d in dispatches if d["事件编号"] == ledger.ids[3]]
    assert [(d["派单序号"], d["响应级别"], d["单位代码"], d["班组编号"]) for d in of_third] == [
        (1, "一级：维保单位", "MU-A", "A1"),
        (2, "二级：救援站", "RS-1", "RS1"),
    ]
    assert of_third[0]["响应时间"] is None and of_third[1]["到场时间"] == datetime(2026, 12, 2, 10, 40)
    assert of_third[1]["救援单位"] == "黄浦救援站" and of_third[1]["班组"] == "救援站"
    false_alarm = next(d for d in dispatches if d["事件编号"] == ledger.ids[4])
    assert (false_alarm["单位代码"], false_alarm["班组编号"], false_alarm["撤回原因"]) == (
        "MU-B",
        None,
        "误报",
    )


def test_the_incident_export_takes_the_search_filters_and_csv_sheets(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    op = auth(client, Role.RESCUE_OPERATOR)
    url = "/api/v1/rescue/exports/incidents?format=csv&lang=en&district=徐汇区&from=2026-12-01&to=2026-12-31"
    r = client.get(url, headers=op)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="liftwatch-incidents-' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(row["Incident"]) for row in rows] == [ledger.ids[2], ledger.ids[4], ledger.ids[6]]
    assert rows[0]["Alarm"] == "2026-12-01 00:30:00" and rows[0]["Highest level"] == "L2: rescue station"
    assert rows[1]["Status"] == "False alarm" and rows[2]["Status"] == "Dispatched"
    r = client.get(url + "&sheet=dispatches", headers=op)
    assert 'filename="liftwatch-dispatches-' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(int(d["Incident"]), d["Dispatch no."], d["Unit code"]) for d in rows] == [
        (ledger.ids[2], "1", "MU-B"),
        (ledger.ids[2], "2", "MU-A"),
        (ledger.ids[4], "1", "MU-B"),
        (ledger.ids[6], "1", "MU-B"),
    ]


def test_a_use_unit_exports_only_the_incidents_on_its_elevators(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    owner = auth(client, Role.USE_UNIT)  # UU-B: 11SHB000003/4
    r = client.get("/api/v1/rescue/exports/incidents?format=csv", headers=owner)
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(row[0]) for row in rows[1:]] == [ledger.ids[n] for n in (2, 4, 6)]


def test_exports_build_without_http(session: Session, ledger: Ledger) -> None:
    """The module is usable on its own (a CLI or a scheduled report): tables, then bytes."""
    flt = queries.IncidentFilter(statuses=())
    incidents, dispatches = exports.incident_tables(session, OPERATOR, flt, SETTINGS.tz, "en")
    assert len(incidents.rows) == 6 and len(dispatches.rows) == 8
    assert exports.render([incidents], "csv").startswith(b"\xef\xbb\xbf")
    assert exports.neutral("+1") == "'+1" and exports.neutral("a\x00b") == "ab" and exports.neutral(3) == 3
    for table in exports.TABLES:
        for value, words in table.entries.items():
            assert words.get("zh-CN") and words.get("en"), (table.name, value)


def test_a_use_unit_reads_no_callers_name_or_number(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    """The caller's name and number are for the centre and the crews who call back; the use unit reads its
    incidents without them (list, detail, trail and export), while the operator still has them."""
    op, owner = auth(client, Role.RESCUE_OPERATOR), auth(client, Role.USE_UNIT)
    mine = ledger.ids[6]  # open, on UU-B's elevator
    code = client.get(f"/api/v1/rescue/incidents/{mine}", headers=op).json()["registration_code"]
    call = {"code": code, "source": "phone", "caller_name": "王先生", "callback_phone": "13912345678"}
    joined = client.post("/api/v1/rescue/incidents", headers=op, json=call)
    assert joined.status_code == 200 and joined.json()["incident"]["id"] == mine  # joins the open one

    seen = client.get(f"/api/v1/rescue/incidents/{mine}", headers=op).text
    assert "13912345678" in seen and "王先生" in seen
    detail = client.get(f"/api/v1/rescue/incidents/{mine}", headers=owner)
    listed = client.get("/api/v1/rescue/incidents", headers=owner)
    export = client.get("/api/v1/rescue/exports/incidents?format=csv", headers=owner)
    for r in (detail, listed, export):
        assert r.status_code == 200
        body = r.content.decode("utf-8-sig")
        assert "13912345678" not in body and "王先生" not in body
    assert any(e["kind"] == "joined" for e in detail.json()["events"])  # the call is there, not who
