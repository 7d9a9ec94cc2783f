"""The maintenance planner (/maintenance/planner, maintenance.queries.planner) and the elevator file's
maintenance section: a unit's staff plan their own unit only (another unit is 404, other roles 403), the
centre picks any unit; each list holds what it should, most urgent first, with the reasons in Chinese
words and no raw key; the file shows the three-no warning, the next visit and a fake-maintenance flag with
its evidence and review."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.maintenance import labels as maintenance_labels
from liftwatch.maintenance import plans, queries, service
from liftwatch.maintenance.domain import Interval, MaintenanceModel
from liftwatch.maintenance.workflow import ItemResult, WorkOrderSource
from liftwatch.registry import service as registry_service
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.telemetry.models import Fault
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import ITEMS, MEASURED, assert_no_raw_keys

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
SETTINGS = Settings()


def contract(session: Session, clock: FixedClock, code: str, unit: str, start: date, model: str) -> None:
    # ends far ahead: the elevator file reads the wall clock until web/registry.py passes the app's clock
    terms = service.ContractTerms(code, unit, start, date(2099, 12, 31), MaintenanceModel(model), 1_200_000)
    service.create_contract(session, SYSTEM_ACTOR, terms, clock)


@pytest.fixture(name="week")
def week_fixture(session: Session, clock: FixedClock, people: dict[str, Actor]) -> int:
    """Today 2026-11-23. A1 (MU-A, traditional since 10-01, never visited: due 10-16, 38 days overdue),
    A2 (MU-A, on demand since 11-20), B3 (MU-B, traditional since 11-15: due 11-30), B4 (MU-B, no
    contract); a repair on A1 opened 30 hours ago (due 24 h after: 6 h late). Returns its id."""
    contract(session, clock, A1, "MU-A", date(2026, 10, 1), "traditional")
    contract(session, clock, A2, "MU-A", date(2026, 11, 20), "on_demand")
    contract(session, clock, B3, "MU-B", date(2026, 11, 15), "traditional")
    earlier = FixedClock(clock.now() - timedelta(hours=30))
    out = service.open_corrective(
        session, people["maint_a"], A1, WorkOrderSource.MANUAL, None, "门不关", earlier, SETTINGS
    )
    session.commit()
    return out.work_order.id


def one_entrapment(_session: Session, _code: str, _since: datetime) -> plans.Usage:
    return plans.Usage(entrapments=1)


def test_a_unit_plans_its_own_week_most_urgent_first(
    session: Session, clock: FixedClock, people: dict[str, Actor], week: int
) -> None:
    plan = queries.planner(session, people["maint_a"], None, clock, SETTINGS, usage_of=one_entrapment)
    assert plan.unit_code == "MU-A" and plan.today == date(2026, 11, 23)
    assert [(v.registration_code, v.due, v.days_overdue) for v in plan.overdue] == [
        (A1, date(2026, 10, 16), 38)
    ]
    assert [v.registration_code for v in plan.on_demand] == [A2]
    on_demand = plan.on_demand[0]
    assert "entrapments" in {r.code for r in on_demand.reasons}
    assert on_demand.interval_days == (on_demand.due - date(2026, 11, 20)).days <= 45
    assert [(r.order.id, round(r.hours_late)) for r in plan.late_orders] == [(week, 6)]
    assert plan.without_contract == []  # A1 and A2 are covered
    assert plan.reliability is not None and plan.reliability.elevators == 0  # no terminal in the seed
    every = {v.registration_code for v in (*plan.overdue, *plan.due_soon, *plan.on_demand)}
    assert B3 not in every and B4 not in every

    with pytest.raises(NotFound):  # another unit's week does not exist for MU-A
        queries.planner(session, people["maint_a"], "MU-B", clock, SETTINGS)
    with pytest.raises(Forbidden):
        queries.planner(session, people["operator"], "MU-A", clock, SETTINGS)
    with pytest.raises(Forbidden):
        queries.planner(session, people["owner_a"], None, clock, SETTINGS)


def test_the_centre_picks_a_unit(
    session: Session, clock: FixedClock, people: dict[str, Actor], week: int
) -> None:
    nothing = queries.planner(session, people["regulator"], None, clock, SETTINGS)
    assert nothing.unit_code is None and not nothing.overdue and not nothing.without_contract
    plan = queries.planner(session, people["regulator"], "MU-B", clock, SETTINGS)
    assert [(v.registration_code, v.days_left) for v in plan.due_soon] == [(B3, 7)]
    assert plan.without_contract == [B4] and plan.late_orders == [] and plan.overdue == []
    with pytest.raises(NotFound):
        queries.planner(session, people["regulator"], "UU-A", clock, SETTINGS)  # a use unit plans nothing


def test_the_planner_page(client: TestClient, people: dict[str, Actor], week: int) -> None:
    web_login(client, "maint_a")
    page = client.get("/maintenance/planner")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="nav-planner"' in text and "维保计划" in text
    for title in (
        "逾期未保养",
        "超过时限的维修工单",
        "未来 7 天到期的维保",
        "按需维保电梯",
        "无有效维保合同的电梯",
    ):
        assert title in text
    overdue = text.split('id="overdue-table"')[1].split("</table>")[0]
    assert f'data-code="{A1}"' in overdue and 'data-days-overdue="38"' in overdue
    assert "传统维保：上次维保后15天内" in overdue
    on_demand = text.split('id="on-demand-table"')[1].split("</table>")[0]
    assert f'data-code="{A2}"' in on_demand and "按需维保：" in on_demand
    assert f'data-work-order="{week}"' in text.split('id="late-table"')[1]
    assert 'id="count-overdue">1<' in text and 'id="count-late">1<' in text
    assert "没有可统计的电梯" in text.split('id="unit-mtbf"')[1]  # no terminal in the seed
    assert B3 not in text and B4 not in text
    assert_no_raw_keys(text, "planner")
    assert client.get("/maintenance/planner?unit=MU-B").status_code == 404

    web_login(client, "owner_a")
    assert client.get("/maintenance/planner").status_code == 403

    web_login(client, "regulator")
    picker = client.get("/maintenance/planner")
    assert (
        picker.status_code == 200 and 'id="planner-no-unit"' in picker.text and 'id="p-unit"' in picker.text
    )
    unit_b = client.get("/maintenance/planner?unit=MU-B")
    assert f'data-code="{B4}"' in unit_b.text.split('id="uncovered-table"')[1].split("</table>")[0]
    assert_no_raw_keys(unit_b.text, "planner MU-B")
    client.cookies.set("lang", "en")
    english = client.get("/maintenance/planner?unit=MU-B").text
    assert "Overdue visits" in english and "Elevators without a valid contract" in english
    assert "Traditional: within 15 days of the last visit" in english


def _fast_visit(session: Session, clock: FixedClock, people: dict[str, Actor]) -> int:
    """A half-month visit of A1 signed 6 minutes after check-in: a ``too_short`` flag."""
    worker = people["maint_a"]
    order = service.open_preventive(
        session, worker, A1, date(2026, 11, 23), Interval.HALF_MONTH, clock, SETTINGS
    )
    wo = order.work_order.id
    service.assign(session, worker, wo, "maint_a", clock)
    service.check_in(session, worker, wo, 31.23, 121.47, "100001", clock)
    items = [service.ItemEntry(i.code, ItemResult.OK, 1.0 if i.code in MEASURED else None) for i in ITEMS]
    service.record_results(session, worker, wo, items, [], clock)
    clock.advance(timedelta(minutes=6))
    service.check_out(session, worker, wo, 31.23, 121.47, clock)
    service.sign(session, worker, wo, clock)
    session.commit()
    return wo


def test_the_file_section_warns_three_no_and_shows_flags(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor], week: int
) -> None:
    _fast_visit(session, clock, people)
    flags = service.flags_of_elevator(session, people["regulator"], A1)
    assert [f.kind for f in flags] == ["too_short"]
    service.review_flag(session, people["regulator"], flags[0].id, "dismissed", "电梯很新，项目少", clock)
    session.commit()

    web_login(client, "regulator")
    uncovered = client.get(f"/elevators/{B4}").text
    section = uncovered.split('id="file-maintenance"')[1].split("</section>")[0]
    assert 'id="file-three-no"' in section and "无有效维保合同" in section
    assert 'id="file-next-visit"' not in section
    assert_no_raw_keys(section, "file section without contract")

    covered = client.get(f"/elevators/{A1}").text
    section = covered.split('id="file-maintenance"')[1].split("</section>")[0]
    assert 'id="file-three-no"' not in section
    assert 'id="file-next-visit"' in section and "传统维保：上次维保后15天内" in section
    flag = section.split('id="file-flags"')[1].split("</ul>")[0]
    assert "时长过短" in flag and "已排除" in flag and "电梯很新，项目少" in flag
    assert "维保时长：6 分钟；所签项目至少需：" in flag
    assert "无物联网终端" in section  # MTBF is not measured without a terminal
    assert 'id="file-mttr"' in section
    # on-demand entry (按需维保准入): no terminal and no liability policy; the unit has no stored rating yet
    on_demand = section.split('id="file-on-demand"')[1].split("</div>")[0]
    assert 'data-qualified="no"' in on_demand
    assert 'data-reason="iot_missing"' in on_demand and "未安装物联网监测装置" in on_demand
    assert 'data-reason="not_insured"' in on_demand and 'data-reason="unit_rated_low"' not in on_demand
    assert 'id="file-on-demand"' not in uncovered  # no valid contract: no unit to qualify
    assert_no_raw_keys(section, "file section")


def test_mtbf_and_mttr_of_an_elevator_and_its_unit_from_the_database(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor], week: int
) -> None:
    """A1 gets a terminal; in the last 90 days (2,160 h) it had 2 faults of its own, an entrapment fault
    and its incident (counted once), a terminal outage (not a failure) and, 100 days ago, a fault outside
    the period: 3 failures, MTBF 720 h. The repair opened 30 h ago is signed now: MTTR 30 h."""
    registry_service.update_elevator(session, SYSTEM_ACTOR, A1, ElevatorUpdate(iot_terminal_id="T-1"), clock)
    faults = [("door_close_failure", 3), ("overspeed", 5), ("entrapment", 2), ("terminal_offline", 1)]
    for n, (kind, days_ago) in enumerate([*faults, ("door_close_failure", 100)]):
        at = clock.now() - timedelta(days=days_ago)
        session.add(
            Fault(
                fault_id=f"f{n}",
                registration_code=A1,
                fault_type=kind,
                severity="major",
                started_at=at,
                raised_at=at,
                cleared_at=at + timedelta(minutes=5),
                evidence=[],
                clear_evidence=[],
                detail={},
            )
        )
    rescue.report(session, SYSTEM_ACTOR, rescue.Report(A1, Source.PHONE), clock, rescue.RescueSettings())
    worker = people["maint_a"]
    service.assign(session, worker, week, "maint_a", clock)
    service.check_in(session, worker, week, 31.23, 121.47, "100001", clock)
    service.check_out(session, worker, week, 31.23, 121.47, clock)
    service.sign(session, worker, week, clock)
    session.commit()

    one = queries.elevator_reliability(session, people["owner_a"], A1, clock, SETTINGS)
    assert one.unmeasured == "" and one.days == 90
    assert (one.figures.service_hours, one.figures.failures, one.figures.mtbf_h) == (2160, 3, 720)
    assert (one.figures.repairs, one.figures.mttr_h) == (1, 30)
    assert (
        queries.elevator_reliability(session, people["owner_a"], A2, clock, SETTINGS).unmeasured
        == "no_terminal"
    )

    unit = queries.planner(session, people["maint_a"], None, clock, SETTINGS).reliability
    assert unit is not None and (unit.elevators, unit.mtbf_h, unit.mttr_h) == (1, 720, 30)
    assert queries.as_row(unit)["mtbf_days"] == 30
    # on the planner, counts of one read as one in English (Chinese has one form)
    web_login(client, "maint_a")
    figures = client.get("/maintenance/planner").text.split('id="unit-mtbf"')[1].split("</dl>")[0]
    assert "近 90 天：1 台在用电梯" in figures and "故障 3 次" in figures and "维修工单 1 张" in figures
    client.cookies.set("lang", "en")
    figures = client.get("/maintenance/planner").text.split('id="unit-mtbf"')[1].split("</dl>")[0]
    assert "(30 days)" in figures.replace("（", "(").replace("）", ")"), figures
    assert "1 elevator in service" in figures and "3 failures" in figures, figures
    assert "1 repair signed in the last 90 days" in figures, figures


def test_reasons_and_evidence_in_words() -> None:
    entrapped = (plans.Reason("entrapments", {"entrapments": 1, "step_days": 45, "days": 45}),)
    assert maintenance_labels.plan_summary("on_demand", entrapped, 45, ("trips", "door_cycles")) == (
        "按需维保：上次维保以来困人1次，每次提前45天；间隔缩短至45天；运行次数、开关门次数暂无数据，未计入"
    )
    quiet = (plans.Reason("max_interval", {"days": 90}),)
    assert maintenance_labels.plan_summary("on_demand", quiet, 90, ("door_cycles",), "en") == (
        "On demand: Quiet and healthy: the longest interval, 90 days; door cycles not known, not counted"
    )
    traditional = (plans.Reason("traditional", {"days": 15}),)
    assert maintenance_labels.plan_summary("traditional", traditional, 15) == "传统维保：上次维保后15天内"

    offline = {"offline_minutes": 50.0, "minutes": 50.0, "share": 1.0, "offline_before_check_in_min": 5.0}
    assert maintenance_labels.flag_evidence_text("terminal_offline", offline) == (
        "终端离线：50 分钟；维保时长：50 分钟；离线占维保时长：100%；签到前已离线：5 分钟"
    )
    far = {"metres": 3000, "limit_m": 508, "accuracy_m": 8}
    assert maintenance_labels.flag_evidence_text("far_check_in", far, "en") == (
        "Check-in from the elevator: 3000 m; Distance allowed: 508 m; Position accuracy: 8 m"
    )
    # evidence with nothing known in it (an older record): the kind's name, never a raw key
    assert maintenance_labels.flag_evidence_text("too_short", {"old_key": 3}) == "时长过短"
