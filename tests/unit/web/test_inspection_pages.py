"""Inspection pages (/inspection): the schedule by role (an inspector of a body sees that body's inspections,
the centre all of them read-only, other roles none), the result form's refusals beside their fields in
Chinese, the draft, the signature that freezes the result and opens the re-inspection, and the first-attempt
pass rate on the reports page for the centre."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.inspection import service
from liftwatch.inspection.domain import Conclusion
from liftwatch.registry import service as registry
from liftwatch.registry.domain import UnitType
from liftwatch.registry.schemas import UnitCreate
from tests.conftest import NOW
from tests.factories import PASSWORD
from tests.unit.maintenance.workorder_city import (
    actor,
    people_fixture,  # noqa: F401 - fixture
)
from tests.unit.web.forms import web_login

SETTINGS = Settings()
DONE = NOW - timedelta(days=3)
RAW_KEY = re.compile(r"\b(?:insp|nav|common|reports)\.[a-z_]+")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
USERNAMES = ("ib1_a", "ib2_a", "maint_a")


def visible(page: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    for name in USERNAMES:
        text = text.replace(name, "")
    return text


def assert_no_raw_keys(page: str, where: str) -> None:
    text = visible(page)
    assert not RAW_KEY.findall(text), (where, RAW_KEY.findall(text))
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))


@pytest.fixture(name="city")
def city_fixture(session: Session, clock: FixedClock, people: dict[str, Actor]) -> dict[str, int]:
    """IB-2 and one inspector of each body; 11SHA000001 (IB-1, overdue), 11SHA000002 (IB-1, a draft) and
    11SHB000003 (IB-2)."""
    registry.create_unit(
        session,
        SYSTEM_ACTOR,
        UnitCreate(code="IB-2", name="徐汇检验所", unit_type=UnitType.INSPECTION_BODY, contact_phone="021-1"),
        clock,
    )
    for name, body in (("ib1_a", "IB-1"), ("ib2_a", "IB-2")):
        create_user(
            session,
            SYSTEM_ACTOR,
            UserCreate(username=name, password=PASSWORD, role=Role.INSPECTOR, unit=body),
            clock,
        )
    made = {
        key: service.schedule_next(session, SYSTEM_ACTOR, code, body, who, clock, SETTINGS)[0].id
        for key, code, body, who in (
            ("overdue", "11SHA000001", "IB-1", "ib1_a"),
            ("draft", "11SHA000002", "IB-1", "ib1_a"),
            ("other", "11SHB000003", "IB-2", "ib2_a"),
        )
    }
    ib1 = actor(session, "ib1_a", Role.INSPECTOR, "IB-1")
    service.record_result(session, ib1, made["draft"], DONE, Conclusion.PASS, "DJ-D", [], clock, SETTINGS)
    session.commit()
    return made


def cards(page: str) -> set[int]:
    return {int(x) for x in re.findall(r'id="insp-(\d+)"', page)}


def test_the_schedule_by_role(client: TestClient, city: dict[str, int]) -> None:
    web_login(client, "ib1_a")
    page = client.get("/inspection")
    assert page.status_code == 200
    assert cards(page.text) == {city["overdue"], city["draft"]}
    assert 'data-count-of="overdue">1<' in page.text and 'data-count-of="in_progress">1<' in page.text
    assert 'href="/elevators/11SHA000001"' in page.text and 'id="nav-inspection"' in page.text
    assert "检验计划" in page.text and "已逾期" in page.text and "检验机构：IB-1" in page.text
    assert_no_raw_keys(page.text, "schedule")
    assert client.get(f"/inspection/inspections/{city['other']}").status_code == 404
    client.cookies.set("lang", "en")
    english = client.get("/inspection").text
    assert "Inspection schedule" in english and "Overdue" in english and "检验计划" not in english
    assert_no_raw_keys(english, "schedule in English")
    client.cookies.delete("lang")

    web_login(client, "regulator")
    page = client.get("/inspection")
    assert cards(page.text) == set(city.values()) and 'id="insp-read-only"' in page.text
    detail = client.get(f"/inspection/inspections/{city['draft']}")
    assert detail.status_code == 200 and 'id="result-form"' not in detail.text and "DJ-D" in detail.text
    assert_no_raw_keys(detail.text, "read-only detail")

    for who in ("maint_a", "operator"):
        web_login(client, who)
        assert client.get("/inspection").status_code == 403
        assert 'id="nav-inspection"' not in client.get("/elevators").text


def test_the_result_form_from_errors_to_signature(client: TestClient, city: dict[str, int]) -> None:
    iid = city["overdue"]
    url = f"/inspection/inspections/{iid}"
    web_login(client, "ib1_a")
    page = client.get(url)
    assert page.status_code == 200 and 'id="result-form"' in page.text
    assert_no_raw_keys(page.text, "result form")
    base = {"performed_at": "2026-11-20T10:00", "conclusion": "fail", "report_number": "DJ-2026-7"}

    def post(**fields: str) -> str:
        r = client.post(f"{url}/result", data={**base, **fields}, follow_redirects=False)
        assert r.status_code == 422, r.text[:300]
        return r.text

    assert "该结论至少需要一项不符合项" in post()
    text = post(**{"nc-0-text": "层门自闭装置失效"})
    assert 'id="err-nc-0-rectify_by"' in text and "请填写整改期限" in text
    assert "层门自闭装置失效" in text  # what was typed comes back
    text = post(**{"nc-0-text": "层门自闭装置失效", "nc-0-rectify_by": "2026-11-01"})
    assert "整改期限不能早于检验日期" in text
    text = post(performed_at="yesterday", report_number="", conclusion="")
    for name in ("performed_at", "report_number", "conclusion"):
        assert f'id="err-{name}"' in text
    assert_no_raw_keys(text, "errors")

    finding = {
        "nc-0-item": "3.8",
        "nc-0-text": "层门自闭装置失效",
        "nc-0-severity": "major",
        "nc-0-rectify_by": "2026-12-05",
    }
    r = client.post(f"{url}/result", data={**base, **finding, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(url).text
    assert 'data-state="draft"' in page and 'value="2026-12-05"' in page and 'id="result-form"' in page
    r = client.post(f"{url}/result", data={**base, **finding, "action": "sign"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#result")
    page = client.get(url).text
    assert 'data-signed="true"' in page and 'id="result-form"' not in page and "整改工单 #" in page
    assert 'id="re-inspection-form"' in page
    assert_no_raw_keys(page, "signed")
    again = client.post(f"{url}/result", data={**base, **finding, "action": "save"}, follow_redirects=False)
    assert again.status_code == 409 and 'id="insp-conflict"' in again.text
    r = client.post(f"{url}/re-inspection", data={"scheduled_date": "2026-12-10"}, follow_redirects=False)
    assert r.status_code == 303
    re_page = client.get(r.headers["location"]).text
    assert f'href="/inspection/inspections/{iid}"' in re_page and "复检" in re_page

    web_login(client, "regulator")
    page = client.get(url).text
    assert 'id="re-inspection-form"' not in page and 'id="re-inspection-link"' in page


def test_the_pass_rate_on_the_reports_page(
    client: TestClient, session: Session, city: dict[str, int]
) -> None:
    web_login(client, "ib1_a")
    client.post(
        f"/inspection/inspections/{city['draft']}/result",
        data={
            "performed_at": "2026-11-20T10:00",
            "conclusion": "pass",
            "report_number": "DJ-D",
            "action": "sign",
        },
    )
    web_login(client, "regulator")
    page = client.get("/reports?from=2026-11-01&to=2026-11-30").text
    assert 'id="inspection-kpi" data-passed="1" data-concluded="1"' in page and "100.0%" in page
    assert "检验合格率（首次检验）" in page
    empty = client.get("/reports?from=2025-11-01&to=2025-11-30").text
    assert 'id="insp-kpi-none"' in empty
    web_login(client, "maint_a")
    assert 'id="inspection-kpi"' not in client.get("/reports").text


# ---------------------------------------------------------------- the self-test screen (自检记录)

SELF_TESTS = "/inspection/self-tests"


def test_a_maintenance_worker_records_a_self_test_from_the_due_list(
    client: TestClient, city: dict[str, int]
) -> None:
    web_login(client, "maint_a")
    page = client.get(SELF_TESTS)
    assert page.status_code == 200 and 'id="st-form"' in page.text and 'id="nav-self-tests"' in page.text
    assert "自检记录" in page.text and "待自检" in page.text and "自检日期" in page.text
    assert_no_raw_keys(page.text, "self-test page")
    due = set(re.findall(r'id="due-([0-9A-Z]+)"', page.text))
    assert due == {"11SHA000001", "11SHA000002"}  # MU-A's open periodic inspections, none of MU-B's
    assert f'href="{SELF_TESTS}?code=11SHA000001#st-form"' in page.text
    filled = client.get(f"{SELF_TESTS}?code=11SHA000001").text
    assert 'name="code" maxlength="40"' in filled and 'value="11SHA000001"' in filled
    assert 'value="2026-11-23"' in filled  # today in Shanghai (the clock: 2026-11-23 17:00 there)

    data = {"code": "11SHA000001", "tested_on": "2026-11-20", "conclusion": "pass", "tester": "王工"}
    r = client.post(SELF_TESTS, data={**data, "notes": "制动器试验正常"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    saved = int(re.search(r"saved=(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = client.get(r.headers["location"]).text
    assert f'data-self-test="{saved}"' in page and 'id="st-saved"' in page and "制动器试验正常" in page
    assert 'id="due-11SHA000001"' not in page and 'id="due-11SHA000002"' in page  # it is done

    again = client.post(SELF_TESTS, data=data, follow_redirects=False)
    assert (
        again.status_code == 409 and 'id="err-tested_on"' in again.text and "当天已有自检记录" in again.text
    )


def test_the_self_test_forms_refusals_show_beside_their_fields(
    client: TestClient, city: dict[str, int]
) -> None:
    web_login(client, "maint_a")
    data = {"code": "11SHA000002", "tested_on": "2026-11-24", "conclusion": "fail", "tester": "王工"}
    future = client.post(SELF_TESTS, data=data, follow_redirects=False)
    assert future.status_code == 422
    assert 'id="err-tested_on"' in future.text and "自检日期不能晚于今天" in future.text
    assert 'value="2026-11-24"' in future.text and 'id="err-code"' not in future.text  # typed values return
    other = client.post(SELF_TESTS, data={**data, "code": "11SHB000003", "tested_on": "2026-11-20"})
    assert other.status_code == 404
    assert (
        'id="err-code"' in other.text
        and "不由本单位维保" in other.text
        and 'id="err-tested_on"' not in other.text
    )
    blank = client.post(SELF_TESTS, data={"tested_on": "someday"})
    assert blank.status_code == 422 and 'id="st-errors"' in blank.text and "请选择自检结论" in blank.text
    for name in ("code", "tested_on", "conclusion", "tester"):
        assert f'id="err-{name}"' in blank.text, name
    assert_no_raw_keys(blank.text, "self-test errors")


def test_the_self_test_screen_by_role(client: TestClient, city: dict[str, int]) -> None:
    data = {"code": "11SHA000001", "tested_on": "2026-11-20", "conclusion": "pass", "tester": "王工"}
    web_login(client, "owner_a")  # use unit: neither page nor form
    assert client.get(SELF_TESTS).status_code == 403
    assert client.post(SELF_TESTS, data=data).status_code == 403
    assert 'id="nav-self-tests"' not in client.get("/elevators").text

    web_login(client, "ib1_a")  # an inspector reads, records nothing
    assert client.post(SELF_TESTS, data=data).status_code == 403
    assert f'href="{SELF_TESTS}"' in client.get("/inspection").text
    web_login(client, "regulator")
    page = client.get(SELF_TESTS)
    assert page.status_code == 200 and 'id="st-read-only"' in page.text
    assert 'id="st-form"' not in page.text and 'id="st-due"' not in page.text
    client.cookies.set("lang", "en")
    english = client.get(SELF_TESTS).text
    assert "Self-test records" in english and "自检记录" not in english
    assert_no_raw_keys(english, "self-test page in English")
    web_login(client, "maint_a")
    english = client.get(SELF_TESTS).text
    assert "Date of the self-test" in english and "Due a self-test" in english and "自检" not in english
    assert_no_raw_keys(english, "self-test form in English")
    client.cookies.delete("lang")
