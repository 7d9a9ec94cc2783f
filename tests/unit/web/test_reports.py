"""The rescue reports pages (/reports): the incident search with filters and pages, the export buttons
carrying the page's filters and language, the operator's queues worked through by their forms, a use
unit's read-only view of its elevators' incidents, the roles, and every label in Chinese (no raw key, no
English word) or in English. The ledger is test_exports' hand-made one, driven through the service."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core.clock import FixedClock
from liftwatch.rescue import service as rescue
from tests.factories import PASSWORD, USERS
from tests.unit.rescue.test_exports import Ledger, build_ledger
from tests.unit.rescue.test_queries import _bulk
from tests.unit.web.forms import web_login

HTML = {"Accept": "text/html"}
ROW = re.compile(r'<tr data-incident="(\d+)"')
RAW_KEY = re.compile(r"\b(reports|nav|common|console|incident_status|level|cause|stage|source)\.\w+")


@pytest.fixture
def ledger(session: Session, clock: FixedClock) -> Ledger:
    return build_ledger(session, clock)


def login(client: TestClient, role: Role) -> None:
    web_login(client, USERS[role][0], PASSWORD)


def main_text(html: str) -> str:
    """The text a reader sees in the page's main part (tags, scripts and styles removed)."""
    main = html.split('<main id="main"', 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def english_words(text: str) -> set[str]:
    """Latin words on a Chinese page, other than codes (with digits), units' codes and file formats."""
    words = set(re.findall(r"[A-Za-z][A-Za-z-]+", text))
    return {w for w in words if w not in {"Excel", "CSV", "MU-A", "MU-B", "RS-1", "SHA", "SHB"}}


def listed(html: str, ledger: Ledger) -> list[int]:
    by_id = {v: k for k, v in ledger.ids.items()}
    return [by_id[int(i)] for i in ROW.findall(html.split('id="report-results"', 1)[1])]


def test_the_search_page_in_chinese(client: TestClient, session: Session, ledger: Ledger) -> None:
    login(client, Role.RESCUE_OPERATOR)
    page = client.get("/reports", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert 'id="nav-reports"' in html and 'aria-current="page">救援报表' in html
    assert listed(html, ledger) == [6, 5, 4, 3, 2, 1]
    text = main_text(html)
    for words in ("救援报表", "事件查询", "工作队列", "起始日期", "导出救援事件（Excel）",
                  "导出救援指标（Excel）", "已结案", "误报", "一级：维保单位", "96333来电"):  # fmt: skip
        assert words in text, words
    assert not RAW_KEY.search(text), RAW_KEY.search(text)
    assert english_words(text) == set(), english_words(text)
    detail = client.get(f"/reports/incidents/{ledger.ids[3]}", headers=HTML)
    text = main_text(detail.text)
    assert detail.status_code == 200 and "派单记录" in text and "救援站" in text and "黄浦救援站" in text
    assert 'id="open-in-console"' in detail.text  # the operator acts on the console
    assert not RAW_KEY.search(text) and english_words(text) == set(), english_words(text)


def test_the_search_page_in_english(client: TestClient, session: Session, ledger: Ledger) -> None:
    login(client, Role.REGULATOR)
    client.cookies.set("lang", "en")
    html = client.get("/reports?district=徐汇区").text
    text = main_text(html)
    assert "Rescue reports" in text and "Export incidents (Excel)" in text and "False alarm" in text
    assert listed(html, ledger) == [6, 4, 2]
    assert not RAW_KEY.search(text)
    link = re.search(r'id="export-incidents-xlsx" download href="([^"]+)"', html)
    assert link is not None and "lang=en" in link.group(1) and "district=" in link.group(1)


def test_filters_pages_and_bad_input(client: TestClient, session: Session, ledger: Ledger) -> None:
    login(client, Role.RESCUE_OPERATOR)
    assert listed(client.get("/reports?from=2026-12-01&to=2026-12-01").text, ledger) == [2]
    assert listed(client.get("/reports?unit=RS-1").text, ledger) == [3]
    assert listed(client.get("/reports?level=L2&status=completed").text, ledger) == [2]
    bad = client.get("/reports?from=12/01/2026&to=2026-12-01&level=L7")
    assert bad.status_code == 200  # a bad field is shown and left out, the rest still filters
    assert (
        "请输入日期，如 2026-03-01" in bad.text
        and 'id="f-level" name="level" aria-invalid="true"' in bad.text
    )
    assert listed(bad.text, ledger) == [2, 1]  # up to 1 December only
    assert "请输入日期" in client.get("/reports?to=9999-12-31").text  # no day after it: not a 500
    backwards = client.get("/reports?from=2026-12-02&to=2026-12-01").text
    assert "截止日期不能早于起始日期" in backwards

    _bulk(session, 520)
    first = client.get("/reports").text
    assert 'data-total="526"' in first and len(ROW.findall(first.split('id="report-results"')[1])) == 25
    assert "第 1 / 22 页" in main_text(first) and "共 526 条" in main_text(first)
    nxt = re.search(r'rel="next" href="([^"]+)"', first)
    assert nxt is not None and "page=2" in nxt.group(1)
    last = client.get("/reports?page=22").text
    assert len(ROW.findall(last.split('id="report-results"')[1])) == 526 - 21 * 25


def test_the_export_buttons_download_what_the_page_lists(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    login(client, Role.RESCUE_OPERATOR)
    html = client.get("/reports?district=静安区&level=L1").text
    hrefs = dict(re.findall(r'id="(export-[a-z-]+)" download href="([^"]+)"', html))
    assert set(hrefs) == {
        "export-incidents-xlsx", "export-incidents-csv", "export-dispatches-csv", "export-kpis-xlsx",
        "export-kpis-csv",
    }  # fmt: skip
    url = hrefs["export-incidents-xlsx"].replace("&amp;", "&")
    assert "lang=zh" in url and "level=L1" in url
    r = client.get(url)
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content))["救援事件"]
    assert [row[0] for row in ws.iter_rows(min_row=2, values_only=True)] == [ledger.ids[1], ledger.ids[5]]
    kpis = hrefs["export-kpis-xlsx"].replace("&amp;", "&")
    assert "level=" not in kpis and "district=" in kpis  # levels are a grouping of the KPIs, not a filter
    assert client.get(kpis).status_code == 200


def test_the_queues_are_worked_through(client: TestClient, session: Session, ledger: Ledger) -> None:
    login(client, Role.RESCUE_OPERATOR)
    html = client.get("/reports/queues").text
    text = main_text(html)
    assert "待回访" in text and "待报原因" in text and "超时未结" in text
    assert not RAW_KEY.search(text) and english_words(text) == set(), english_words(text)

    def queue(page: str, table: str) -> list[int]:
        part = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0] if f'id="{table}"' in page else ""
        by_id = {v: k for k, v in ledger.ids.items()}
        return [by_id[int(i)] for i in ROW.findall(part)]

    assert queue(html, "callbacks-table") == [2, 3]
    assert queue(html, "causes-table") == [3, 5]
    assert queue(html, "stale-table") == [3, 6]
    assert "超过到场时限" in text and "超过结案时限" in text

    r = client.post(
        f"/reports/queues/call-back/{ledger.ids[2]}",
        data={"note": "报警人已确认平安"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/reports/queues?done=callback")
    html = client.get(r.headers["location"]).text
    assert f"事件 {ledger.ids[2]} 已登记回访" in html and queue(html, "callbacks-table") == [3]
    again = client.post(f"/reports/queues/call-back/{ledger.ids[2]}", data={}, follow_redirects=False)
    assert "done=conflict" in again.headers["location"]  # a second tap records nothing

    r = client.post(f"/reports/queues/cause/{ledger.ids[3]}", data={"cause": "nope"}, follow_redirects=False)
    assert "done=invalid" in r.headers["location"]
    r = client.post(
        f"/reports/queues/cause/{ledger.ids[3]}",
        data={"cause": "power_cut", "detail": "维保单位电话告知：停电"},
        follow_redirects=False,
    )
    assert "done=cause" in r.headers["location"]
    html = client.get("/reports/queues").text
    assert queue(html, "causes-table") == [5] and queue(html, "stale-table") == [6]
    session.expire_all()
    inc = rescue.get_incident(session, SYSTEM_ACTOR, ledger.ids[3])
    assert (inc.status, inc.cause, inc.cause_detail) == ("completed", "power_cut", "维保单位电话告知：停电")


def test_a_regulator_reads_the_queues_without_forms(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    login(client, Role.REGULATOR)
    html = client.get("/reports/queues").text
    assert 'id="queues-read-only"' in html and "callback-form-" not in html and "cause-form-" not in html
    r = client.post(f"/reports/queues/call-back/{ledger.ids[2]}", data={}, headers=HTML)
    assert r.status_code == 403
    client.cookies.set("lang", "en")
    text = main_text(client.get("/reports/queues").text)
    for words in (
        "Call-backs due",
        "Causes missing",
        "Stale incidents",
        "Past the closing limit",
        "Released",
    ):
        assert words in text, words
    assert not RAW_KEY.search(text)


def test_a_use_unit_sees_its_elevators_incidents_read_only(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    login(client, Role.USE_UNIT)  # UU-B: 11SHB000003/4
    html = client.get("/reports", headers=HTML).text
    assert 'id="nav-reports"' in html and 'id="reports-read-only"' in html
    assert listed(html, ledger) == [6, 4, 2]
    assert (
        'id="tab-queues"' not in html and "export-kpis" not in html and 'id="export-incidents-xlsx"' in html
    )
    assert '<form method="post"' not in html.split('<main id="main"', 1)[1]
    own = client.get(f"/reports/incidents/{ledger.ids[2]}", headers=HTML)
    assert own.status_code == 200 and 'id="open-in-console"' not in own.text
    assert client.get(f"/reports/incidents/{ledger.ids[1]}", headers=HTML).status_code == 404  # UU-A's
    assert client.get("/reports/queues", headers=HTML).status_code == 403
    r = client.post(f"/reports/queues/call-back/{ledger.ids[2]}", data={}, headers=HTML)
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.REGULATOR, 200),
        (Role.RESCUE_OPERATOR, 200),
        (Role.MAINTENANCE, 200),  # MU-A staff: its unit's incidents
        (Role.USE_UNIT, 200),
        (Role.INSPECTOR, 403),
        (Role.PUBLIC, 303),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else str(v),
)
def test_roles(role: Role, status: int, client: TestClient, session: Session, ledger: Ledger) -> None:
    if role is not Role.PUBLIC:
        login(client, role)
    page = client.get("/reports", headers=HTML, follow_redirects=False)
    assert page.status_code == status
    if role is Role.PUBLIC:
        assert page.headers["location"] == "/login?next=%2Freports"
        return
    assert ('id="nav-reports"' in page.text) is (status == 200)
    if role is Role.MAINTENANCE:
        assert listed(page.text, ledger) == [5, 3, 2, 1]
