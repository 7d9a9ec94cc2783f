"""The hidden-danger screens (/hazards): the list scoped as the service scopes it, with its counts and
filters in Chinese; a hazard's forms offered only to who may use them; the use unit's evidence and the
regulator's verdict with a required note (shown at the field when missing); the report form; and the public
list of supervised rectifications with no person and no free text. Hazards are made through the service."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service
from liftwatch.hazards.workflow import HazardLevel, HazardSource, HazardState
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

SETTINGS = Settings()
A1, B3 = "11SHA000001", "11SHB000003"  # A1: MU-A and UU-A; B3: MU-B and UU-B
SECRET = "层门门锁啮合深度不足"  # the description: free text the public never sees


def _report(session: Session, who: Actor, clock: FixedClock, code: str, ref: str, level: HazardLevel) -> int:
    out = service.report(session, who, code, HazardSource.INSPECTION, ref, level, SECRET, clock, SETTINGS)
    session.commit()
    return out.hazard.id


def _no_raw(page: str, where: str) -> None:
    assert_no_raw_keys(page, where)
    assert not re.findall(r"\bhz\.[a-z_]+", visible(page)), where


def test_the_list_is_scoped_counted_and_filtered_in_chinese(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    mine = _report(session, people["inspector"], clock, A1, "DJ-1:1", HazardLevel.GENERAL)
    other = _report(session, people["inspector"], clock, B3, "DJ-2:1", HazardLevel.MAJOR)

    web_login(client, "regulator")
    page = client.get("/hazards")
    assert page.status_code == 200 and 'id="nav-hazards"' in page.text
    assert f'data-hazard="{mine}"' in page.text and f'data-hazard="{other}"' in page.text
    assert 'id="count-open" data-count="2"' in page.text and 'id="count-overdue" data-count="0"' in page.text
    assert "一般隐患" in page.text and "重大隐患" in page.text and "检验发现" in page.text
    assert "已上报" in page.text and "静安区" in page.text
    _no_raw(page.text, "list")
    major = client.get("/hazards?level=major").text
    assert f'data-hazard="{other}"' in major and f'data-hazard="{mine}"' not in major
    bad = client.get("/hazards?state=nonsense")
    assert bad.status_code == 200 and 'id="err-state"' in bad.text

    # 30 days later the general one is overdue, shown in red with its days
    clock.advance(timedelta(days=32))
    web_login(client, "regulator")  # the session of a month ago has expired
    late = client.get("/hazards?overdue=1").text
    assert f'data-hazard="{mine}"' in late and f'data-hazard="{other}"' in late
    assert 'id="count-overdue" data-count="2"' in late and "逾期" in late and 'data-overdue-days="' in late

    # the use unit of A1 sees only its own elevator's hazard, and no report form
    web_login(client, "owner_a")
    own = client.get("/hazards").text
    assert f'data-hazard="{mine}"' in own and f'data-hazard="{other}"' not in own
    assert 'id="hz-new"' not in own
    assert client.get(f"/hazards/{other}").status_code == 404
    assert client.get("/hazards/new").status_code == 403


def test_the_use_unit_submits_evidence_and_the_regulator_verifies_with_a_note(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hid = _report(session, people["inspector"], clock, A1, "DJ-1:1", HazardLevel.MAJOR)

    # MU-A maintains A1 and reads it, but UU-A is the responsible unit: no evidence form for MU-A
    web_login(client, "maint_a")
    seen = client.get(f"/hazards/{hid}").text
    assert 'id="hazard-title"' in seen and 'id="evidence-form"' not in seen
    assert 'id="verdict-form"' not in seen

    web_login(client, "owner_a")
    page = client.get(f"/hazards/{hid}")
    assert 'id="evidence-form"' in page.text and 'id="verdict-form"' not in page.text
    assert 'id="deadline-form"' not in page.text and 'id="close-form"' not in page.text
    _no_raw(page.text, "detail")
    token = client.headers.pop("X-CSRF-Token")  # a form without the page's token is refused
    assert client.post(f"/hazards/{hid}/evidence", data={"text": "更换门锁"}).status_code == 403
    client.headers["X-CSRF-Token"] = token
    empty = client.post(f"/hazards/{hid}/evidence", data={"text": "  "})
    assert empty.status_code == 422 and 'id="err-text"' in empty.text and "请说明整改做了什么" in empty.text
    r = client.post(f"/hazards/{hid}/evidence", data={"text": "更换门锁"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/hazards/{hid}"
    after = client.get(f"/hazards/{hid}").text
    assert "已整改待核查" in after and "更换门锁" in after and 'id="evidence-form"' not in after

    web_login(client, "regulator")
    page = client.get(f"/hazards/{hid}")
    assert 'id="verify-submit"' in page.text and 'id="reject-submit"' in page.text
    assert 'id="evidence-form"' not in page.text
    r = client.post(f"/hazards/{hid}/verdict", data={"decision": "verify", "note": " "})
    assert r.status_code == 422 and 'id="err-note"' in r.text and "请填写核查意见" in r.text
    assert re.search(r'id="verdict-note"[^>]*aria-invalid="true"', r.text)
    session.expire_all()
    assert service.get_hazard(session, people["regulator"], hid).state == HazardState.RECTIFIED.value
    r = client.post(
        f"/hazards/{hid}/verdict", data={"decision": "verify", "note": "现场复核合格"}, follow_redirects=False
    )
    assert r.status_code == 303
    done = client.get(f"/hazards/{hid}").text
    assert "已核查销号" in done and "现场复核合格" in done and 'id="verdict-form"' not in done
    # decided meanwhile: the page as it is now
    again = client.post(f"/hazards/{hid}/verdict", data={"decision": "reject", "note": "再看"})
    assert again.status_code == 409 and 'id="hazard-conflict"' in again.text


def test_the_regulator_reports_a_hazard_and_opens_its_work_order(
    client: TestClient, session: Session, people: dict[str, Actor]
) -> None:
    web_login(client, "regulator")
    form = client.get("/hazards/new")
    assert form.status_code == 200 and "上报隐患" in form.text
    _no_raw(form.text, "new")
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', form.text)
    assert nonce
    data = {"code": "", "source": "spot_check", "level": "major", "description": "曳引绳断股"}
    bad = client.post("/hazards/new", data={**data, "nonce": nonce.group(1)})
    assert bad.status_code == 422 and 'id="err-code"' in bad.text
    data["code"] = "100001"  # the rescue code of A1
    r = client.post("/hazards/new", data={**data, "nonce": nonce.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    hid = int(r.headers["location"].rsplit("/", 1)[1])
    twice = client.post("/hazards/new", data={**data, "nonce": nonce.group(1)}, follow_redirects=False)
    assert twice.headers["location"] == f"/hazards/{hid}"  # the form sent twice is one hazard
    r = client.post(f"/hazards/{hid}/work-order", follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/hazards/{hid}").text
    found = re.search(r'id="work-order-link" href="/maintenance/work-orders/(\d+)"', page) or re.search(
        r'href="/maintenance/work-orders/(\d+)" id="work-order-link"', page
    )
    assert found and 'id="work-order-form"' not in page


def test_the_public_supervised_list_shows_no_person_and_no_free_text(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hid = _report(session, people["inspector"], clock, A1, "DJ-1:1", HazardLevel.MAJOR)
    quiet = _report(session, people["inspector"], clock, B3, "DJ-2:1", HazardLevel.GENERAL)
    clock.advance(timedelta(days=16))  # the major one is overdue: supervised rectification
    service.fire_due_timers(session, clock)
    session.commit()

    page = client.get("/public/hazards/supervised")  # no sign-in
    assert page.status_code == 200
    assert f'data-hazard="{hid}"' in page.text and f'data-hazard="{quiet}"' not in page.text
    assert "挂牌督办" in page.text and "重大隐患" in page.text and "静安区" in page.text
    assert "inspector" not in page.text and SECRET not in page.text
    assert 'id="current-user"' not in page.text
    _no_raw(page.text, "public")


def test_risk_reads_open_hazards_by_level(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """The risk score's read (risk.queries.gather) counts a major hazard as major, a general one as
    general, and a verified one not at all."""
    from liftwatch.risk import queries as risk_queries

    _report(session, people["inspector"], clock, A1, "DJ-1:1", HazardLevel.MAJOR)
    _report(session, people["inspector"], clock, A1, "DJ-1:2", HazardLevel.GENERAL)
    done = _report(session, people["inspector"], clock, A1, "DJ-1:3", HazardLevel.MAJOR)
    service.submit_evidence(session, people["owner_a"], done, "更换门锁", clock)
    service.verify(session, people["regulator"], done, clock, "合格")
    session.commit()
    assert service.open_counts_by_level(session) == {A1: {"major": 1, "general": 1}}
    (batch,) = list(risk_queries.gather(session, clock, SETTINGS, codes=[A1]))
    facts = batch[0].facts
    assert (facts.open_hazards_major, facts.open_hazards_general) == (1, 1)


def test_the_repair_fund_on_a_residential_hazard_and_the_citys_list(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """The use unit asks in yuan (a form sent twice is one request), the regulator approves less, the use
    unit pays out within it (a payment above what is left is refused at the field) and completes; the
    regulator's city list totals it by district. An office elevator's hazard shows no fund at all."""
    hid = _report(session, people["inspector"], clock, "11SHB000004", "DJ-F:1", HazardLevel.MAJOR)
    office = _report(session, people["inspector"], clock, "11SHA000002", "DJ-F:2", HazardLevel.GENERAL)

    web_login(client, "owner_b")
    page = client.get(f"/hazards/{hid}")
    assert 'id="hazard-fund"' in page.text and 'id="fund-request-form"' in page.text
    assert "维修资金紧急使用" in page.text and 'id="fund-decision-form"' not in page.text
    _no_raw(page.text, "fund")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    data = {"applicant": "owners_committee", "quote": "申城电梯 报价 BJ-118", "purpose": "更换制动器"}
    bad = client.post(
        f"/hazards/{hid}/fund/request", data={**data, "amount": "12.345", "nonce": nonce.group(1)}
    )
    assert bad.status_code == 422 and 'id="err-amount_fen"' in bad.text
    for _ in range(2):
        r = client.post(
            f"/hazards/{hid}/fund/request",
            data={**data, "amount": "85,000", "nonce": nonce.group(1)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    [line] = service.fund_lines(session, service.get_hazard(session, people["admin"], hid))
    assert (line.request.amount_fen, line.request.applicant) == (8_500_000, "owners_committee")

    web_login(client, "regulator")
    page = client.get(f"/hazards/{hid}")
    assert 'id="fund-approve-submit"' in page.text and 'id="fund-request-form"' not in page.text
    refuse = client.post(f"/hazards/{hid}/fund/decision", data={"decision": "refuse", "note": " "})
    assert refuse.status_code == 422 and 'id="err-reason"' in refuse.text
    r = client.post(
        f"/hazards/{hid}/fund/decision",
        data={"decision": "approve", "amount": "60000"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get(f"/hazards/{office}").text.count('id="hazard-fund"') == 0

    web_login(client, "owner_b")
    pay = {"paid_on": "2026-11-23", "voucher": "PZ-1"}
    over = client.post(f"/hazards/{hid}/fund/payment", data={**pay, "amount": "60000.01"})
    assert over.status_code == 422 and 'id="err-amount_fen"' in over.text
    r = client.post(f"/hazards/{hid}/fund/payment", data={**pay, "amount": "60000"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/hazards/{hid}/fund/complete", data={"note": "验收合格"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/hazards/{hid}").text
    assert 'data-state="completed"' in page and "¥60,000.00" in page and 'data-voucher="PZ-1"' in page
    assert client.get("/hazards/fund").status_code == 403

    web_login(client, "regulator")
    listed = client.get("/hazards/fund")
    assert listed.status_code == 200 and 'data-district="徐汇区"' in listed.text
    assert 'id="total-paid" data-fen="6000000"' in listed.text and "已完成" in listed.text
    _no_raw(listed.text, "fund list")
    client.cookies.set("lang", "en")
    english = client.get("/hazards/fund").text
    assert "Repair fund: emergency use" in english and "Completed" in english
    client.cookies.delete("lang")
    assert client.get("/hazards/fund?state=bogus").status_code == 200
