"""The regulator's registers (/oversight/registers): three-no elevators with their conditions as chips and
counts (an expired contract counts as no contract), elevators of 15 years and more residential first with
their age bands and their safety-assessment status, filters, the export of the whole list, in Chinese with
no raw key; maintenance staff are refused; measures and assessments recorded from an elevator's page. The
seeded city of 2026-11-23: A1 residential 2005, A2 office 2019, B3 mall 2012, B4 residential 1998."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import service
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings
from tests.unit.maintenance.workorder_city import (
    contract,
    people_fixture,  # noqa: F401 - fixture
)
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"


def _city(session: Session, clock: FixedClock, p: dict[str, Actor], graded: bool = False) -> None:
    """Contracts valid today for A1, A2, B3; B4's expired on 31 October. A2 has no repair fund. Risk
    scores stored when ``graded``."""
    for code, unit in ((A1, "MU-A"), (A2, "MU-A"), (B3, "MU-B")):
        service.create_contract(session, p["admin"], contract(code, unit), clock)
    service.create_contract(
        session, p["admin"], contract(B4, "MU-B", start=date(2025, 11, 1), end=date(2026, 10, 31)), clock
    )
    registry.update_elevator(session, SYSTEM_ACTOR, A2, ElevatorUpdate(no_repair_fund=True), clock)
    if graded:
        risk.recompute(session, clock, Settings(), RiskSettings())
    session.commit()


def _codes(page: str) -> list[str]:
    return re.findall(r'<tr data-code="(\w+)">', page)


def test_the_three_no_list_shows_each_condition(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _city(session, clock, people, graded=True)
    web_login(client, "regulator")
    page = client.get("/oversight/registers")
    assert page.status_code == 200
    assert "三无电梯" in page.text and 'id="ovs-page-registers"' in page.text
    assert sorted(_codes(page.text)) == [A2, B4]  # B4: its contract expired; A2: no repair fund
    counts = dict(re.findall(r'id="count-(\w+)" data-count="(\d+)"', page.text))
    assert counts == {"no_property_management": "0", "no_maintenance_contract": "1", "no_repair_fund": "1"}
    b4 = re.search(rf'<tr data-code="{B4}">.*?</tr>', page.text, re.S)
    assert b4 and 'data-condition="no_maintenance_contract"' in b4.group(0) and "无维保合同" in b4.group(0)
    assert "28 年" in b4.group(0) and "徐汇置业物业服务公司" in b4.group(0)
    assert re.search(r'data-grade="[ABCD]"', b4.group(0))  # the stored risk grade
    assert_no_raw_keys(page.text, "three_no")

    # filtered by district: B4 is in 徐汇区
    jingan = client.get("/oversight/registers", params={"tab": "three_no", "district": "静安区"}).text
    assert _codes(jingan) == [A2]

    csv = client.get("/oversight/registers/export?tab=three_no&format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("电梯,地址,区,场所类型,使用单位,梯龄,情形,风险等级")
    assert sorted(line.split(",")[0] for line in lines[1:]) == [A2, B4]
    assert any(line.startswith(B4) and "无维保合同" in line for line in lines)


def test_the_15_year_list_residential_first_with_bands(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _city(session, clock, people)
    web_login(client, "admin")
    page = client.get("/oversight/registers?tab=old")
    assert page.status_code == 200 and "15年以上老旧电梯" in page.text
    assert _codes(page.text) == [B4, A1]  # B3 is 14
    counts = dict(re.findall(r'id="count-(\w+)" data-count="(\d+)"', page.text))
    assert counts == {"15_19": "0", "20_24": "1", "25_up": "1"}
    # never assessed: due on the 15th anniversary, overdue 180 days later
    assert page.text.count('data-assessment="overdue"') == 2 and "逾期未评估" in page.text
    assert "2013-09-09 应评估" in page.text  # B4, in use since 1998-09-09
    assert "浦江电梯维保有限公司" in page.text and "住宅" in page.text
    assert "data-grade=" not in page.text  # no score stored yet: a dash
    assert_no_raw_keys(page.text, "old")
    assert _codes(client.get("/oversight/registers?tab=old&place_type=office").text) == []
    client.cookies.set("lang", "en")
    english = client.get("/oversight/registers?tab=old").text
    assert "Elevators of 15 years and more" in english and "Overdue" in english and "28 years" in english
    assert_no_raw_keys(english, "old, en")
    client.cookies.set("lang", "zh-CN")

    xlsx = client.get("/oversight/registers/export?tab=old&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    csv = client.get("/oversight/registers/export?tab=old&format=csv&district=徐汇区")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{B4},") and lines[1].endswith(",逾期未评估,,,2013-09-09")


def test_maintenance_staff_are_refused(client: TestClient, people: dict[str, Actor]) -> None:
    web_login(client, "maint_a")
    for path in ("/oversight/registers", "/oversight/registers?tab=old", "/oversight/registers/export"):
        assert client.get(path).status_code == 403, path


def test_measures_and_assessments_from_the_registers(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """The regulator records a measure on a three-no elevator (a form sent twice is one measure) and the
    list shows it with its status and filters by it; the inspector records an assessment that opens a
    hazard; the 15-year list then shows it assessed and "due or overdue" leaves it out; the use unit reads
    its own elevator's page without the forms, and another unit's is not found."""
    _city(session, clock, people)
    web_login(client, "regulator")
    page = client.get(f"/oversight/registers/elevators/{B4}")
    assert (
        page.status_code == 200 and 'id="measure-form"' in page.text and 'id="assessment-form"' in page.text
    )
    assert 'id="three-no-status" data-status="identified"' in page.text
    assert_no_raw_keys(page.text, "elevator")
    nonce = re.search(r'id="measure-form".*?name="nonce" value="([^"]+)"', page.text, re.S)
    assert nonce
    data = {
        "kind": "interim_maintenance",
        "taken_on": "2026-11-20",
        "taken_by": "天平路街道",
        "nonce": nonce.group(1),
    }
    empty = client.post(f"/oversight/registers/elevators/{B4}/measures", data={**data, "taken_by": " "})
    assert empty.status_code == 422 and 'id="err-taken_by"' in empty.text
    for _ in range(2):
        r = client.post(f"/oversight/registers/elevators/{B4}/measures", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text
    page = client.get(f"/oversight/registers/elevators/{B4}").text
    assert page.count('data-measure-id="') == 1 and 'data-status="in_progress"' in page
    listed = client.get("/oversight/registers?tab=three_no").text
    b4 = re.search(rf'<tr data-code="{B4}">.*?</tr>', listed, re.S)
    assert b4 and 'data-status="in_progress"' in b4.group(0) and "托管/兜底维保" in b4.group(0)
    assert 'id="status-in_progress" data-count="1"' in listed
    assert _codes(client.get("/oversight/registers?tab=three_no&status=identified").text) == [A2]
    assert _codes(client.get("/oversight/registers?tab=three_no&status=in_progress").text) == [B4]

    web_login(client, "inspector")
    assert client.get("/oversight/registers").status_code == 403  # the registers are the regulator's
    page = client.get(f"/oversight/registers/elevators/{B4}").text
    assert 'id="measure-form"' not in page and 'id="assessment-form"' in page
    form = {"assessor": "市特检院", "assessed_on": "2026-11-02", "result": "safe", "open_hazard": "1"}
    safe = client.post(f"/oversight/registers/elevators/{B4}/assessments", data=form)
    assert safe.status_code == 422 and 'id="err-open_hazard"' in safe.text
    form.update(result="rectify", findings="曳引绳磨损接近报废标准")
    r = client.post(f"/oversight/registers/elevators/{B4}/assessments", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/oversight/registers/elevators/{B4}").text
    assert (
        'data-status="assessed"' in page
        and "2029-11-02 应评估" in page
        and 'id="assessment-hazard-1"' in page
    )
    r = client.post(
        "/oversight/registers/assessments/1/decision",
        data={"decision": "major_repair", "decision_on": "2026-11-20"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'data-decision="major_repair"' in client.get(f"/oversight/registers/elevators/{B4}").text

    web_login(client, "regulator")
    old = client.get("/oversight/registers?tab=old").text
    assert 'data-assessment="assessed"' in old and "2026-11-02 评估" in old and "整改后继续使用" in old
    assert _codes(client.get("/oversight/registers?tab=old&status=due_overdue").text) == [A1]
    client.cookies.set("lang", "en")
    english = client.get(f"/oversight/registers/elevators/{B4}").text
    assert "Continue after rectification" in english and "Interim maintenance unit assigned" in english
    assert_no_raw_keys(english, "elevator, en")
    client.cookies.set("lang", "zh-CN")

    web_login(client, "owner_b")
    mine = client.get(f"/oversight/registers/elevators/{B4}")
    assert (
        mine.status_code == 200
        and 'id="assessment-form"' not in mine.text
        and 'id="measure-form"' not in mine.text
    )
    assert client.get(f"/oversight/registers/elevators/{A1}").status_code == 404
    r = client.post(f"/oversight/registers/elevators/{B4}/measures", data={**data, "nonce": "x"})
    assert r.status_code == 403
