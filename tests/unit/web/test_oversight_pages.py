"""The regulator's maintenance screens (/oversight): the overdue lists with their counts and filters, the
fake-maintenance flags with their evidence in words and the review form (a note required, shown on the
form when missing; the reviewer and the note shown after), in Chinese with no raw key; other roles are
refused. Work orders and flags are made through maintenance.service, as the planner and signing do."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import fakes, service
from liftwatch.maintenance.domain import Evidence, Interval
from liftwatch.maintenance.labels import EVIDENCE_UNITS, FLAG_EVIDENCE, FLAG_KIND, flag_evidence_items
from liftwatch.maintenance.service import ItemEntry
from liftwatch.maintenance.workflow import ItemResult, WorkOrderSource
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from tests.factories import RESCUE_SITE, km_north
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import TODAY, assert_no_raw_keys

SETTINGS = Settings()
FAR = km_north(2)
A1, A2 = "11SHA000001", "11SHA000002"


def _flagged_visit(session: Session, p: dict[str, Actor], clock: FixedClock) -> int:
    """maint_a's 2-minute repair on A1 checked in 2 km away: flags too_short and far_check_in."""
    registry.update_elevator(
        session, SYSTEM_ACTOR, A1, ElevatorUpdate(latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon), clock
    )
    wo = service.open_corrective(
        session, p["admin"], A1, WorkOrderSource.FAULT, "F-1", "门锁故障", clock, SETTINGS
    ).work_order.id
    service.assign(session, p["maint_a"], wo, "maint_a", clock)
    service.check_in(session, p["maint_a"], wo, FAR.lat, FAR.lon, "100001", clock)
    service.record_results(session, p["maint_a"], wo, [ItemEntry("A1-03", ItemResult.OK)], [], clock)
    clock.advance(timedelta(minutes=2))
    service.check_out(session, p["maint_a"], wo, FAR.lat, FAR.lon, clock)
    service.sign(session, p["maint_a"], wo, clock)
    session.commit()
    return wo


def test_the_overdue_lists_show_each_kind_with_its_count(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    # a preventive visit of MU-A due three days ago, not done; a corrective one of MU-B 6 h past its SLA
    late_visit = service.open_preventive(
        session, p["maint_a"], A1, TODAY - timedelta(days=3), Interval.HALF_MONTH, clock, SETTINGS
    ).work_order.id
    repair = service.open_corrective(
        session,
        p["admin"],
        "11SHB000003",
        WorkOrderSource.MANUAL,
        None,
        "按钮失灵",
        clock,
        SETTINGS,
        urgent=True,
    ).work_order.id
    service.create_contract(session, p["admin"], _contract(A2), clock)
    session.commit()
    clock.advance(timedelta(hours=10))  # the urgent SLA is 4 h

    web_login(client, "regulator")
    page = client.get("/oversight/maintenance")
    assert page.status_code == 200
    assert 'id="nav-oversight"' in page.text and "维保监管" in page.text
    counts = dict(re.findall(r'id="tab-(\w+)" data-count="(\d+)"', page.text))
    assert counts["preventive"] == "1" and counts["corrective"] == "1"
    assert int(counts["contract"]) >= 1
    assert f'data-work-order="{late_visit}"' in page.text
    row = re.search(rf'<tr data-code="{A1}" data-work-order="{late_visit}">.*?</tr>', page.text, re.S)
    assert row and "4 天" in row.group(0), row  # due 11-20, now the 24th on the city's clock
    assert f'href="/elevators/{A1}"' in row.group(0) and "浦江电梯维保有限公司" in row.group(0)
    assert f'href="/maintenance/work-orders/{late_visit}"' in page.text
    assert_no_raw_keys(page.text, "preventive")

    corrective = client.get("/oversight/maintenance?tab=corrective").text
    assert f'data-work-order="{repair}"' in corrective and "紧急" in corrective and "6 小时" in corrective
    assert_no_raw_keys(corrective, "corrective")

    bare = client.get("/oversight/maintenance?tab=contract").text
    assert 'data-code="11SHB000003"' in bare and f'data-code="{A2}"' not in bare  # A2 has its contract
    assert_no_raw_keys(bare, "contract")
    assert_no_raw_keys(client.get("/oversight/maintenance?tab=inspection").text, "inspection")

    # the tab as a file, every row, in the page's words
    csv = client.get("/oversight/maintenance/export?tab=corrective&format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("工单,电梯,地址,维保单位,事由,紧急")
    assert lines[1].startswith(f"{repair},11SHB000003,") and ",按钮失灵,是," in lines[1]
    xlsx = client.get("/oversight/maintenance/export?tab=contract&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    # filtered by maintenance unit: MU-B's repair is not MU-A's
    mu_a = client.get("/oversight/maintenance?tab=corrective&unit=MU-A").text
    assert f'data-work-order="{repair}"' not in mu_a
    assert 'id="tab-preventive" data-count="1"' in mu_a


def _contract(code: str) -> service.ContractTerms:
    from tests.unit.maintenance.workorder_city import contract

    return contract(code, start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=300))


def test_maintenance_and_use_unit_staff_are_refused(client: TestClient, people: dict[str, Actor]) -> None:
    for username in ("maint_a", "owner_a"):
        web_login(client, username)
        assert (
            'id="nav-oversight"'
            not in client.get("/maintenance/visits" if username == "owner_a" else "/maintenance").text
        )
        for path in ("/oversight/maintenance", "/oversight/flags", "/oversight/flags/1"):
            assert client.get(path).status_code == 403, (username, path)
        r = client.post("/oversight/flags/1/review", data={"decision": "dismissed", "note": "x"})
        assert r.status_code == 403, username
    web_login(client, "admin")
    assert client.get("/oversight/flags").status_code == 200


def test_a_regulator_reviews_a_flag_on_the_form(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = _flagged_visit(session, people, clock)
    flags = {f.kind: f.id for f in service.list_flags(session, people["regulator"])}
    short = flags["too_short"]
    web_login(client, "regulator")
    page = client.get("/oversight/flags").text
    assert_no_raw_keys(page, "flags")
    assert "时长过短" in page and "签到位置偏远" in page
    evidence = " ".join(re.findall(r'id="flag-evidence-\d+">(.*?)</dd>', page, re.S))
    assert "维保时长</span> 2 分钟" in evidence and re.search(r"签到距电梯</span> 20\d\d 米", evidence), (
        evidence
    )
    assert f'href="/maintenance/work-orders/{wo}"' in page
    counts = re.search(r'<tr data-unit="MU-A">.*?</tr>', page, re.S)
    assert counts and 'data-count="open">2<' in counts.group(0)

    # no note: refused, naming the field on the form; nothing changed
    r = client.post(f"/oversight/flags/{short}/review", data={"decision": "confirmed", "note": "  "})
    assert r.status_code == 422
    assert f'id="err-note-{short}"' in r.text and "请填写复核意见" in r.text
    assert re.search(rf'id="note-{short}"[^>]*aria-invalid="true"', r.text, re.S)
    assert service.get_flag(session, people["regulator"], short).state == "open"

    r = client.post(
        f"/oversight/flags/{short}/review",
        data={"decision": "confirmed", "note": "2分钟完成31项不可能"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/oversight/flags/{short}"
    shown = client.get(f"/oversight/flags/{short}").text
    assert "已确认假维保" in shown and "regulator" in shown and "2分钟完成31项不可能" in shown
    assert f'id="review-form-{short}"' not in shown
    assert_no_raw_keys(shown, "flag")
    # reviewed again (another tab still open): 409, the flag as it is now
    again = client.post(f"/oversight/flags/{short}/review", data={"decision": "dismissed", "note": "误报"})
    assert again.status_code == 409 and 'id="flag-conflict"' in again.text
    # the list by state; the unit's counts follow
    confirmed = client.get("/oversight/flags?state=confirmed").text
    assert f'data-flag="{short}"' in confirmed and f'data-flag="{flags["far_check_in"]}"' not in confirmed
    row = re.search(r'<tr data-unit="MU-A">.*?</tr>', confirmed, re.S)
    assert row and 'data-count="open">1<' in row.group(0) and 'data-count="confirmed">1<' in row.group(0)
    # English is there too
    client.cookies.set("lang", "en")
    english = client.get("/oversight/flags?state=").text
    assert (
        "Too short" in english
        and "Visit length</span> 2 min" in english
        and "Reviewed by regulator" in english
    )
    assert not re.findall(r"\bovs\.[a-z_]+", english)
    # the elevator file says the same, from the same words
    client.cookies.set("lang", "zh-CN")
    section = client.get(f"/elevators/{A1}").text.split('id="file-maintenance"')[1]
    assert "时长过短" in section and "签到位置偏远" in section and "已确认假维保" in section
    assert "维保时长：2 分钟" in section and re.search(r"签到距电梯：20\d\d 米", section)


def test_every_evidence_key_of_every_kind_reads_as_words() -> None:
    """Each kind the detector flags, with the evidence it writes: every key has its label and unit."""
    t0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    span = fakes.Span

    def visit(vid: str, start: datetime, minutes: float, at: fakes.Point) -> fakes.Visit:
        items = (fakes.SignedItem("A1-01", Evidence.MEASUREMENT),) * 10
        return fakes.Visit(vid, f"E{vid}", "w1", start, start + timedelta(minutes=minutes), items,
                           check_in_at=fakes.Point(at.lat + 0.05, at.lon, 8), elevator_at=at)  # fmt: skip

    here = fakes.Point(31.23, 121.47)
    far = fakes.Point(31.33, 121.47)
    v1, v2 = visit("1", t0, 5, here), visit("2", t0 + timedelta(minutes=3), 60, far)
    whole = span(t0 - timedelta(hours=2), t0 + timedelta(hours=2))
    quiet = fakes.Telemetry(whole, online=(whole,), normal=(whole,))  # never in inspection mode
    start = v2.check_in  # 4 minutes of inspection, then normal service with trips
    token = fakes.Telemetry(
        whole,
        online=(whole,),
        inspection=(span(start, start + timedelta(minutes=4)),),
        normal=(span(start + timedelta(minutes=4), whole.end),),
        runs=(span(start + timedelta(minutes=20), start + timedelta(minutes=21)),),
    )
    v3 = visit("3", t0 + timedelta(hours=3), 60, far)
    ci = v3.check_in  # the terminal went offline 5 minutes before check-in
    dark = fakes.Telemetry(
        span(ci - timedelta(hours=2), ci + timedelta(hours=2)),
        online=(span(ci - timedelta(hours=2), ci - timedelta(minutes=5)),),
    )
    found = fakes.judge_visits([v1, v2, v3], {"1": quiet, "2": token, "3": dark})
    kinds = {f.kind for j in found for f in j.flags}
    assert kinds == set(fakes.FakeKind), kinds
    for flag in (f for j in found for f in j.flags):
        assert set(flag.evidence) <= set(FLAG_EVIDENCE.entries), (flag.kind, set(flag.evidence))
        for lang in ("zh-CN", "en"):
            items = flag_evidence_items(flag.kind, flag.evidence, lang)
            assert len(items) == len(flag.evidence), (flag.kind, lang)
            assert not [i for i in items if "{" in "".join(i) or set(i) & set(flag.evidence)], items
            # a value with a unit says it (a share, a distance, a time), in the page's language
            measured = [k for k in flag.evidence if EVIDENCE_UNITS.get(k) in {"min", "m", "km", "pct"}]
            unit = [v for k, (_, v) in zip(flag.evidence, items, strict=True) if k in measured]
            assert all(not v.replace(".", "").replace("-", "").isdigit() for v in unit), unit
    for lang in ("zh-CN", "en"):
        names = [FLAG_KIND.get(k, lang) for k in fakes.FakeKind]
        assert len(set(names)) == len(names) and not set(names) & set(fakes.FakeKind), names
    assert flag_evidence_items("too_short", {"minutes": 42.0, "expected_min": 8.449, "photos": 2}) == [
        ("维保时长", "42 分钟"),
        ("所签项目至少需", "8.45 分钟"),
        ("照片", "2 张"),
    ]
    # a share says of what, by kind; a key no label knows is left out, never shown raw
    assert flag_evidence_items("terminal_offline", {"share": 0.97, "metres": 3000, "new_key": 1}, "en") == [
        ("Offline, of the visit", "97%"),
        ("Check-in from the elevator", "3000 m"),
    ]
