"""The supervision report's page (/reports/supervision): the centre downloads the city's report, a maintenance
unit its own, other roles 403; a bad or future period or format shows the form again (422); Chinese by
default, English with the language switch; the /reports tabs link to it."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from tests.unit.analytics.report_city import report_city
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

pytestmark = pytest.mark.sqlite_only  # routes and pages: the figures are tested on both backends

PAGE = "/reports/supervision"
FILE = PAGE + "/file"


def _no_raw(page: str, where: str) -> None:
    assert_no_raw_keys(page, where)
    assert not re.findall(r"\brp\.[a-z_]+", visible(page)), where


def test_the_regulator_downloads_the_citys_report(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    report_city(session, clock)
    web_login(client, "regulator")
    page = client.get(PAGE)
    assert page.status_code == 200 and 'id="report-files-title"' in page.text
    assert "监管报告" in page.text and "范围：全市" in page.text and 'value="2026-11"' in page.text
    _no_raw(page.text, "page")
    tabs = client.get("/reports").text
    assert 'id="tab-supervision"' in tabs and 'href="/reports/supervision"' in tabs

    got = client.get(FILE, params={"period": "2026-11", "format": "pdf"})
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.content.startswith(b"%PDF-") and "report-2026-11.pdf" in got.headers["content-disposition"]

    book = client.get(FILE, params={"period": "2026-11", "format": "xlsx"})
    assert book.status_code == 200 and book.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(BytesIO(book.content))
    assert wb.worksheets[0]["A1"].value == "本市电梯安全监管月报 2026年11月"
    assert wb.worksheets[0]["A2"].value == "全市"
    annual = client.get(FILE, params={"period": "2026", "format": "xlsx"})
    assert load_workbook(BytesIO(annual.content)).worksheets[0]["A1"].value == "本市电梯安全监管年报 2026年"


def test_bad_requests_show_the_form_again(client: TestClient, session: Session, clock: FixedClock) -> None:
    report_city(session, clock)
    web_login(client, "operator")
    for params in (
        {"period": "2026-13", "format": "pdf"},
        {"period": "2027-01", "format": "pdf"},  # not begun on 2026-12-02
        {"period": "2026-11", "format": "docx"},
    ):
        r = client.get(FILE, params=params)
        assert r.status_code == 422 and 'id="report-error"' in r.text, params
        _no_raw(r.text, str(params))
    assert "请选择PDF或Excel" in r.text


def test_a_maintenance_unit_gets_its_own_report(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    report_city(session, clock)
    web_login(client, "maint_a")
    page = client.get(PAGE)
    assert page.status_code == 200 and "范围：浦江电梯维保有限公司维保的电梯" in page.text
    book = client.get(FILE, params={"period": "2026-11", "format": "xlsx"})
    assert "report-2026-11-MU-A.xlsx" in book.headers["content-disposition"]
    wb = load_workbook(BytesIO(book.content))
    assert wb.worksheets[0]["A2"].value == "维保单位：浦江电梯维保有限公司"
    district = wb.worksheets[2]  # the findings, the headline, then the districts
    assert [row[0] for row in district.iter_rows(min_row=2, values_only=True)] == ["静安区", "合计"]


def test_english(client: TestClient, session: Session, clock: FixedClock) -> None:
    report_city(session, clock)
    web_login(client, "admin")
    client.cookies.set("lang", "en")
    page = client.get(PAGE)
    assert "Supervision reports" in page.text and "Download Excel" in page.text
    _no_raw(page.text, "en page")
    book = client.get(FILE, params={"period": "2026-11", "format": "xlsx"})
    title = load_workbook(BytesIO(book.content)).worksheets[0]["A1"].value
    assert title == "City elevator safety supervision: monthly report 2026-11"


@pytest.mark.parametrize("username", ["owner_b", "inspector", "insurer_a"])
def test_other_roles_are_refused(
    client: TestClient, session: Session, clock: FixedClock, username: str
) -> None:
    report_city(session, clock)
    web_login(client, username)
    assert client.get(PAGE).status_code == 403
    assert client.get(FILE, params={"period": "2026-11", "format": "xlsx"}).status_code == 403


def test_signing_in_first(client: TestClient, session: Session, clock: FixedClock) -> None:
    report_city(session, clock)
    r = client.get(PAGE, follow_redirects=False, headers={"accept": "text/html"})
    assert r.status_code in (303, 307) and "/login" in r.headers["location"]
