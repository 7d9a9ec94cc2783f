"""Every role x every endpoint: the status code each must get. One fresh database per role and backend;
requests run in order and are written not to disturb each other."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import ApiKeyCreate, UserCreate
from liftwatch.accounts.service import create_api_key, create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from liftwatch.inspection import service as inspection
from liftwatch.inspection.domain import Conclusion, Severity
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource
from liftwatch.registry.queries import unit_by_code
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import GeoPoint, Source
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings
from tests.factories import PASSWORD, USERS, auth, certify, seed
from tests.unit.accounts.matrix import MATRIX_KEY, Case, sections
from tests.unit.accounts.matrix import expect as _expect
from tests.waiting import wait_until


def _new_elevator(role: Role) -> dict[str, Any]:
    n = list(Role).index(role)
    return {
        "registration_code": f"11SHZ90000{n}",
        "rescue_code": f"90000{n}",
        "kind": "traction",
        "place_type": "office",
        "district": "黄浦区",
        "maintenance_unit": "MU-A",
    }


CASES: list[Case] = [
    Case("GET", "/healthz", _expect(200, public=200)),
    Case("GET", "/readyz", _expect(200, public=200)),
    Case("GET", "/openapi.json", _expect(200, public=200)),
    Case("GET", "/metrics", _expect(403, A=200)),  # not public: admins, or LIFTWATCH_METRICS_TOKEN
    Case("POST", "/api/v1/auth/token", _expect(200), form_for=lambda role: _login_form(role)),
    Case("GET", "/api/v1/auth/me", _expect(200)),
    # the insurer (N) has no elevator of the registry in its scope: its lists are empty, an elevator is not
    # found (it reads the elevators it insures through /api/v1/insurance, docs/INSURANCE.md)
    Case("GET", "/api/v1/elevators", _expect(200, G=403)),
    Case("GET", "/api/v1/elevators/11SHA000001", _expect(200, U=404, G=403, N=404)),
    Case("GET", "/api/v1/elevators/11SHB000004", _expect(200, M=404, G=403, N=404)),
    Case("GET", "/api/v1/elevators/NOPE404", _expect(404, G=403)),
    Case("POST", "/api/v1/elevators", _expect(403, A=201, R=201), body_for=_new_elevator),
    Case(
        "PATCH",
        "/api/v1/elevators/11SHA000001",
        _expect(403, A=200, R=200, M=200, U=404, N=404),
        body={"model": "GeN2"},
    ),
    Case(
        "PATCH",
        "/api/v1/elevators/11SHB000004",
        _expect(403, A=200, R=200, U=200, M=404, N=404),
        body={"model": "3300"},
    ),
    Case(
        "PATCH",
        "/api/v1/elevators/11SHB000004",
        _expect(403, A=200, R=200, M=404, N=404),
        body={"maintenance_unit": "MU-A"},
    ),
    Case(
        "POST",
        "/api/v1/elevators/11SHB000003/events",
        _expect(403, A=201, R=201, U=201, M=404, N=404),
        body={"kind": "suspension", "summary": "停用检修"},
    ),
    Case(
        "POST",
        "/api/v1/elevators/11SHA000002/events",
        _expect(403, A=201, R=201, M=201, U=404, N=404),
        body={"kind": "major_repair", "summary": "更换曳引机"},
    ),
    Case(
        "POST",
        "/api/v1/elevators/11SHA000002/events",
        _expect(403, A=201, R=201, I=201, U=404, N=404),
        body={"kind": "acceptance"},
    ),
    Case("GET", "/api/v1/units", _expect(200, G=403)),
    Case("GET", "/api/v1/units/MU-A", _expect(200, U=404, G=403, N=404)),
    Case("GET", "/api/v1/units/UU-B", _expect(200, M=404, G=403, N=404)),
    Case(
        "POST",
        "/api/v1/units",
        _expect(403, A=201, R=201),
        body_for=lambda role: {"code": f"NEW-{role.value}", "name": "新单位", "unit_type": "installer"},
    ),
    Case(
        "PATCH",
        "/api/v1/units/MU-A",
        _expect(403, A=200, R=200, M=200, U=404, N=404),
        body={"contact_phone": "021-1"},
    ),
    Case("PATCH", "/api/v1/units/MU-A", _expect(403, A=200, R=200, U=404, N=404), body={"name": "改名"}),
    Case("GET", "/api/v1/users", _expect(403, A=200)),
    Case(
        "POST",
        "/api/v1/users",
        _expect(403, A=201),
        body={"username": "newbie", "password": "long-enough-pw", "role": "inspector"},
    ),
    # gateway API keys: admins only; the seeded key (MATRIX_KEY) of the gateway account is revoked once per
    # role's fresh database, and revoking again changes nothing
    Case(
        "POST",
        "/api/v1/api-keys",
        _expect(403, A=201),
        body={"username": "gateway", "name": "网关 1 号"},
    ),
    Case("GET", "/api/v1/api-keys", _expect(403, A=200)),
    Case("POST", f"/api/v1/api-keys/{MATRIX_KEY}/revoke", _expect(403, A=200)),
    Case("GET", "/api/v1/public/elevators/100001", _expect(200, public=200)),
    Case("GET", "/api/v1/public/elevators/11SHB000003", _expect(200, public=200)),
    Case("GET", "/api/v1/public/elevators/999999", _expect(404, public=404)),
    Case(
        "POST",
        "/api/v1/registry/import",
        _expect(403, A=200, R=200),
        files_for=lambda role: _import_file(role),
    ),
    Case("GET", "/api/v1/registry/export?format=csv", _expect(200, G=403)),
    Case("GET", "/api/v1/registry/export?format=xlsx", _expect(200, G=403)),
    Case(
        "POST",
        "/api/v1/telemetry",
        _expect(403, A=200, G=200),
        body=[
            {
                "type": "heartbeat",
                "registration_code": "11SHA000001",
                "msg_id": "hb-1",
                "seq": 1,
                "ts": 1795424400000,
            }
        ],
    ),
    Case("GET", "/api/v1/telemetry/stats", _expect(403, A=200, R=200, O=200)),
    Case("GET", "/api/v1/elevators/11SHA000001/live", _expect(200, U=404, G=403, N=404)),
    Case("GET", "/api/v1/elevators/11SHB000004/faults", _expect(200, M=404, G=403, N=404)),
    Case("GET", "/api/v1/faults", _expect(200, G=403)),
    # rescue: incident 1 (11SHA000001, MU-A) was opened by the operator and dispatched to crew A1, whose
    # login is maint_a (M); a new call opens incident 2 for A and O.
    Case("POST", "/api/v1/rescue/incidents", _expect(403, A=201, O=201), body={"code": "100003"}),
    # the use unit UU-B reads the incidents on its elevators (none yet: incident 1 is on UU-A's, so 404)
    Case("GET", "/api/v1/rescue/incidents", _expect(403, A=200, R=200, O=200, M=200, U=200)),
    Case(
        "GET",
        "/api/v1/rescue/incidents?from=2026-11-01&to=bad",
        _expect(422),  # the input is checked first, for every signed-in caller
    ),
    Case("GET", "/api/v1/rescue/queues/call-backs", _expect(403, A=200, R=200, O=200)),
    Case("GET", "/api/v1/rescue/queues/causes-missing", _expect(403, A=200, R=200, O=200)),
    Case("GET", "/api/v1/rescue/queues/stale", _expect(403, A=200, R=200, O=200)),
    Case("GET", "/api/v1/rescue/exports/incidents", _expect(403, A=200, R=200, O=200, M=200, U=200)),
    Case(
        "GET",
        "/api/v1/rescue/exports/incidents?format=csv&sheet=dispatches&lang=en",
        _expect(403, A=200, R=200, O=200, M=200, U=200),
    ),
    Case("GET", "/api/v1/rescue/exports/kpis", _expect(403, A=200, R=200, O=200)),
    Case("GET", "/api/v1/rescue/exports/kpis?format=csv&group_by=level", _expect(403, A=200, R=200, O=200)),
    Case("GET", "/api/v1/rescue/incidents/1", _expect(404, A=200, R=200, O=200, M=200)),
    Case("POST", "/api/v1/rescue/incidents/1/acknowledge", _expect(404, A=200, O=200, M=200)),
    Case("POST", "/api/v1/rescue/incidents/1/arrive", _expect(404, A=200, O=200, M=200)),
    Case("POST", "/api/v1/rescue/incidents/1/release", _expect(404, A=200, O=200, M=200), body={}),
    Case(
        "POST",
        "/api/v1/rescue/incidents/1/complete",
        _expect(404, A=200, O=200, M=200),
        body={"cause": "misuse"},
    ),
    Case("GET", "/api/v1/rescue/kpis", _expect(403, A=200, R=200, O=200)),
    Case("POST", "/api/v1/rescue/incidents/1/call-back", _expect(403, A=200, O=200), body={"note": "已回访"}),
    Case("POST", "/api/v1/rescue/incidents/2/false-alarm", _expect(403, A=200, O=200), body={"note": "误报"}),
    # incident 3 (11SHB000004, MU-B: no crew, so its L1 dispatch row 3 has none): withdrawn, then L3 with
    # the fire service; incident 4 (11SHA000002) cancelled; incident 5 (11SHA000001, free again since
    # incident 1 was released) got out unaided
    Case("POST", "/api/v1/rescue/incidents", _expect(403, A=201, O=201), body={"code": "100004"}),
    Case("POST", "/api/v1/rescue/incidents", _expect(403, A=201, O=201), body={"code": "100002"}),
    Case(
        "POST",
        "/api/v1/rescue/incidents/3/dispatches/3/withdraw",
        _expect(404, A=200, O=200, G=404),
        body={"reason": "无可用班组"},
    ),
    Case(
        "POST", "/api/v1/rescue/incidents/3/fire-call", _expect(403, A=201, O=201), body={"reference": "F-1"}
    ),
    Case("POST", "/api/v1/rescue/incidents/3/fire-arrival", _expect(403, A=200, O=200), body={}),
    Case("POST", "/api/v1/rescue/incidents/3/fire-release", _expect(403, A=200, O=200), body={}),
    Case(
        "POST", "/api/v1/rescue/incidents/4/cancel", _expect(403, A=200, O=200), body={"reason": "来电取消"}
    ),
    Case("POST", "/api/v1/rescue/incidents", _expect(403, A=201, O=201), body={"code": "100001"}),
    Case(
        "POST",
        "/api/v1/rescue/incidents/5/self-released",
        _expect(403, A=200, O=200),
        body={"note": "自行脱困"},
    ),
    # by the operator's hand: incident 6 (11SHB000003, MU-B, free again since incident 2 was a false alarm)
    # is sent to its own unit again (no crew: the unit is told), then escalated
    Case("POST", "/api/v1/rescue/incidents", _expect(403, A=201, O=201), body={"code": "100003"}),
    Case(
        "POST",
        "/api/v1/rescue/incidents/6/redispatch",
        _expect(403, A=201, O=201),
        body={"unit": "MU-B", "reason": "再次通知维保单位"},
    ),
    Case(
        "POST",
        "/api/v1/rescue/incidents/6/escalate",
        _expect(403, A=200, O=200),
        body={"reason": "维保单位无人可派", "from_level": "L1"},
    ),
    Case(
        "POST",
        "/api/v1/rescue/crews/me/position",
        _expect(403, M=200),
        body={"latitude": 31.2, "longitude": 121.45},
    ),
    Case(
        "POST",
        "/api/v1/rescue/crews",
        _expect(403, A=201, R=201, M=201, U=404, N=404),
        body_for=lambda role: {
            "id": f"X-{role.value}",
            "unit": "MU-A",
            "name": "新班组",
            "latitude": 31.2,
            "longitude": 121.4,
        },
    ),
    # crews: the centre reads every crew, unit staff their own unit's; the admin, the regulator and the
    # unit's own staff change them (another unit's crew is not found)
    Case("GET", "/api/v1/rescue/crews", _expect(200, I=403, G=403, N=403)),
    Case(
        "PATCH",
        "/api/v1/rescue/crews/A1",
        _expect(403, A=200, R=200, M=200, U=404),
        body={"phone": "13800000002"},
    ),
    # maintenance (issue 13): contract 1 (11SHA000001, MU-A); work order 1 (11SHA000001, MU-A) assigned to
    # maint_a (M), who checks in, records, checks out, signs and amends it; work order 2 (11SHB000004, MU-B)
    # signed by maint_b and signed off by UU-B (U); 3 and 4 (11SHA000002) open; photo 1 on work order 1
    Case(
        "POST",
        "/api/v1/maintenance/contracts",
        _expect(403, A=201, R=201, M=201),
        body={
            "registration_code": "11SHA000002",
            "unit_code": "MU-A",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "price_fen": 1000000,
        },
    ),
    Case("GET", "/api/v1/maintenance/contracts", _expect(200, G=403, N=403)),
    Case("GET", "/api/v1/maintenance/contracts/1", _expect(200, U=404, G=403, N=403)),
    Case(
        "POST",
        "/api/v1/maintenance/contracts/1/end",
        _expect(403, A=200, R=200, M=200),
        body={"on": "2026-12-31", "reason": "到期不续"},
    ),
    Case("GET", "/api/v1/maintenance/elevators-without-contract", _expect(200, G=403, N=403)),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders",
        _expect(201, U=404, G=403, N=403),
        body={"code": "11SHA000002", "source": "manual", "summary": "按钮失灵"},
    ),
    Case("GET", "/api/v1/maintenance/work-orders", _expect(200, G=403, N=403)),
    Case("GET", "/api/v1/maintenance/work-orders/1", _expect(200, U=404, G=403, N=403)),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders/3/assign",
        _expect(403, A=200, M=200),
        body={"assignee": "maint_a"},
    ),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders/1/check-in",
        _expect(403, M=200),
        body={"latitude": 31.22, "longitude": 121.46, "scanned_code": "100001"},
    ),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders/1/results",
        _expect(403, M=200),
        body={"items": [{"code": "A1-03", "result": "ok"}], "parts": [{"name": "门锁触点"}]},
    ),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders/1/check-out",
        _expect(403, M=200),
        body={"latitude": 31.22, "longitude": 121.46},
    ),
    Case("POST", "/api/v1/maintenance/work-orders/1/sign", _expect(403, M=200)),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders/1/amendments",
        _expect(403, M=201),
        body={"reason": "漏记一项", "items": [{"code": "A1-02", "result": "ok"}]},
    ),
    Case("POST", "/api/v1/maintenance/work-orders/2/confirm", _expect(403, U=200), body={"note": "已验收"}),
    Case(
        "POST",
        "/api/v1/maintenance/work-orders/4/cancel",
        _expect(403, A=200, R=200, M=200),
        body={"reason": "重复"},
    ),
    Case(
        "POST",
        "/api/v1/maintenance/attachments",
        _expect(403, M=201),
        files_for=lambda role: {"file": ("p.png", PNG, "image/png")},
        form_for=lambda role: {"work_order_id": "1"},
    ),
    Case("GET", "/api/v1/maintenance/attachments/1", _expect(200, U=404, G=403, N=403)),
    # flag 1: work order 2's record (11SHB000004, MU-B) was signed the minute it was checked in (too short)
    Case("GET", "/api/v1/maintenance/flags", _expect(200, G=403, N=403)),
    Case("GET", "/api/v1/maintenance/flags/1", _expect(200, M=404, G=403, N=403)),
    Case(
        "POST",
        "/api/v1/maintenance/flags/1/review",
        _expect(403, A=200, R=200),
        body={"decision": "dismissed", "note": "电梯停用, 仅做检查"},
    ),
    # inspection (issue 13): inspection 1 (11SHA000001, MU-A, inspector "inspector") scheduled, its result
    # recorded and signed here; inspection 2 (11SHB000004, MU-B, UU-B) signed "fail" in the set-up
    Case(
        "POST",
        "/api/v1/inspection/inspections",
        _expect(403, A=201, R=201, I=201),
        body={"code": "11SHA000002", "body_unit_code": "IB-1", "inspector": "inspector"},
    ),
    Case("GET", "/api/v1/inspection/inspections", _expect(200, O=403, G=403, N=403)),
    Case("GET", "/api/v1/inspection/inspections/1", _expect(200, U=404, O=403, G=403, N=403)),
    Case(
        "PUT",
        "/api/v1/inspection/inspections/1/result",
        _expect(403, I=200, U=404),
        body={
            "performed_at": "2026-11-20T02:00:00Z",
            "conclusion": "pass_after_rectification",
            "report_number": "DJ-2026-0001",
            "nonconformities": [{"text": "层门自闭装置失效", "rectify_by": "2026-12-20"}],
        },
    ),
    Case("POST", "/api/v1/inspection/inspections/1/sign", _expect(403, I=200, U=404)),
    Case(
        "POST",
        "/api/v1/inspection/inspections/2/re-inspections",
        _expect(403, A=201, R=201, I=201),
        body={"scheduled_date": "2026-12-01"},
    ),
    Case("GET", "/api/v1/inspection/overdue", _expect(200, O=403, G=403, N=403)),
    Case(
        "GET",
        "/api/v1/inspection/pass-rate?start=2026-01-01&end=2027-01-01",
        _expect(200, O=403, G=403, N=403),
    ),
    # self-tests (自行检测): recorded by the maintenance unit of the elevator only (MU-A: 11SHA000001)
    Case(
        "POST",
        "/api/v1/inspection/self-tests",
        _expect(403, M=201),
        body={"code": "11SHA000001", "tested_on": "2026-11-20", "conclusion": "pass", "tester": "王工"},
    ),
    Case("GET", "/api/v1/inspection/self-tests", _expect(200, O=403, G=403, N=403)),
    Case("GET", "/api/v1/inspection/elevators/11SHA000001", _expect(200, U=404, O=403, G=403, N=403)),
    # hazards (issue 14): set up by _hazard_city: 1 on 11SHA000001 (MU-A, responsible UU-A), 2 on 11SHB000004
    # (MU-B, responsible UU-B), 3 and 4 on 11SHB000003 with evidence submitted (rectified)
    Case(
        "POST",
        "/api/v1/hazards",
        _expect(403, A=201, R=201, I=201, M=201, U=404),
        body={
            "code": "11SHA000002",
            "source": "maintenance",
            "source_ref": "WB-1",
            "level": "general",
            "description": "曳引轮槽磨损",
        },
    ),
    Case("GET", "/api/v1/hazards", _expect(200, O=403, G=403, N=403)),
    Case("GET", "/api/v1/hazards/supervised", _expect(200, public=200)),
    Case("GET", "/api/v1/hazards/1", _expect(200, U=404, O=403, G=403, N=403)),
    Case(
        "PUT",
        "/api/v1/hazards/1/deadline",
        _expect(403, A=200, R=200, U=404),
        body={"deadline": "2027-01-31"},
    ),
    Case("POST", "/api/v1/hazards/2/start", _expect(403, A=200, U=200, M=404)),
    Case("POST", "/api/v1/hazards/2/work-order", _expect(403, A=201, R=201, U=201, M=404)),
    Case("POST", "/api/v1/hazards/2/evidence", _expect(403, A=201, U=201, M=404), body={"text": "已换绳"}),
    Case("POST", "/api/v1/hazards/3/reject", _expect(403, A=200, R=200, M=404), body={"note": "缺检测数据"}),
    Case("POST", "/api/v1/hazards/4/verify", _expect(403, A=200, R=200, M=404), body={"note": ""}),
    Case("POST", "/api/v1/hazards/1/close", _expect(403, A=200, R=200, U=404), body={"reason": "重复上报"}),
    # risk grading (issue 14): scores recomputed after the cities above; the centre reads all, unit staff
    # their own elevators (UU-B does not use 11SHA000001: 404)
    Case("GET", "/api/v1/risk/elevators", _expect(200, O=403, I=403, G=403, N=403)),
    Case("GET", "/api/v1/risk/elevators/11SHA000001", _expect(200, U=404, O=403, I=403, G=403, N=403)),
    # the domains' own sections (tests/unit/accounts/matrix_*.py), before the password and sign-out cases
    *(case for section in sections() for case in section.CASES),
    # passwords: an admin resets another user's; anyone signed in may change their own (a wrong current
    # password here, so the role's token stays valid for the cases after it: 422 means the route let it in)
    Case(
        "POST",
        "/api/v1/users/inspector/password",
        _expect(403, A=204),
        body={"new_password": "a-fresh-long-secret"},
    ),
    Case(
        "POST",
        "/api/v1/auth/password",
        _expect(422),
        body={"current_password": "not-the-password", "new_password": "a-fresh-long-secret"},
    ),
    # last: sign-out revokes the role's token
    Case("POST", "/api/v1/auth/logout", _expect(204)),
]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _maintenance_city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """The maintenance cases' records (see the comment over them), made through the service."""
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="maint_b", password=PASSWORD, role=Role.MAINTENANCE, unit="MU-B"),
        clock,
    )
    certify(session, "maint_b", "MU-B", clock)
    terms = maintenance.ContractTerms(
        "11SHA000001", "MU-A", date(2026, 1, 1), date(2026, 12, 31), price_fen=1
    )
    maintenance.create_contract(session, SYSTEM_ACTOR, terms, clock)
    opened = [
        maintenance.open_corrective(
            session, SYSTEM_ACTOR, code, WorkOrderSource.FAULT, f"F-{n}", "", clock, settings
        )
        for n, code in enumerate(("11SHA000001", "11SHB000004", "11SHA000002", "11SHA000002"), start=1)
    ]
    assert [o.work_order.id for o in opened] == [1, 2, 3, 4]
    maintenance.assign(session, SYSTEM_ACTOR, 1, "maint_a", clock)
    maintenance.assign(session, SYSTEM_ACTOR, 2, "maint_b", clock)
    unit_b = unit_by_code(session, "MU-B")
    worker_b = Actor("maint_b", Role.MAINTENANCE, unit_b.id if unit_b else None)
    maintenance.check_in(session, worker_b, 2, 31.2, 121.4, "100004", clock)
    maintenance.check_out(session, worker_b, 2, 31.2, 121.4, clock)
    maintenance.sign(session, worker_b, 2, clock)
    unit_a = unit_by_code(session, "MU-A")
    worker_a = Actor("maint_a", Role.MAINTENANCE, unit_a.id if unit_a else None)
    _, staged = maintenance.add_attachment(
        session, worker_a, 1, io.BytesIO(PNG), "image/png", "p.png", clock, settings
    )
    maintenance.commit_attachment(session, staged)


def _inspection_city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """The inspection cases' records (see the comment over them), made through the service."""
    made = [
        inspection.schedule_next(session, SYSTEM_ACTOR, code, "IB-1", "inspector", clock, settings)[0]
        for code in ("11SHA000001", "11SHB000004")
    ]
    assert [m.id for m in made] == [1, 2]
    inspector = Actor("inspector", Role.INSPECTOR)
    finding = inspection.Finding("曳引绳磨损超标", Severity.MAJOR, date(2026, 12, 1))
    inspection.record_result(
        session, inspector, 2, clock.now() - timedelta(days=2), Conclusion.FAIL, "DJ-2", [finding], clock
    )
    inspection.sign(session, inspector, 2, clock, settings)


def _hazard_city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """The hazard cases' records (see the comment over them), made through the service."""
    made = [
        hazards.report(
            session, SYSTEM_ACTOR, code, HazardSource.INSPECTION, f"H-{n}", level, "门锁失效", clock, settings
        ).hazard.id
        for n, (code, level) in enumerate(
            [
                ("11SHA000001", HazardLevel.GENERAL),
                ("11SHB000004", HazardLevel.MAJOR),
                ("11SHB000003", HazardLevel.GENERAL),
                ("11SHB000003", HazardLevel.GENERAL),
            ],
            start=1,
        )
    ]
    assert made == [1, 2, 3, 4]
    for hazard_id in (3, 4):
        hazards.submit_evidence(session, SYSTEM_ACTOR, hazard_id, "已整改", clock)


def _login_form(role: Role) -> dict[str, str]:
    username = USERS[role][0] if role in USERS else "nobody"
    return {"username": username, "password": PASSWORD}


def _import_file(role: Role) -> dict[str, tuple[str, bytes, str]]:
    n = list(Role).index(role)
    csv = (
        "registration_code,rescue_code,kind,place_type,district,maintenance_unit\n"
        f"11SHY80000{n},80000{n},traction,residential,黄浦区,MU-A\n"
    )
    return {"file": ("agency.csv", csv.encode("utf-8"), "text/csv")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The embedded pipeline runs, so the telemetry endpoint accepts (in-process bus, no archive). The
    public's rate limit is off: the anonymous role sends every case from one address within seconds
    (tests/unit/core/test_ratelimit.py tests the limit)."""
    return Settings(
        var_dir=tmp_path / "var",
        secret_key="test-secret-" + "x" * 40,
        pipeline=True,
        archive=False,
        public_requests_per_min=0,
    )


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_matrix(
    role: Role, client: TestClient, session: Session, clock: FixedClock, settings: Settings
) -> None:
    seed(session, clock)
    _maintenance_city(session, clock, settings)
    _inspection_city(session, clock, settings)
    _hazard_city(session, clock, settings)
    risk.recompute(session, clock, settings, RiskSettings())
    rescue.add_crew(
        session, SYSTEM_ACTOR, "A1", "MU-A", "一组", GeoPoint(31.22, 121.46), clock, username="maint_a"
    )
    rescue.report(
        session, SYSTEM_ACTOR, rescue.Report("11SHA000001", Source.PHONE), clock, rescue.RescueSettings()
    )
    for section in sections():
        if hasattr(section, "city"):
            section.city(session, clock, settings)
    new = create_api_key(session, SYSTEM_ACTOR, ApiKeyCreate(username="gateway", name="matrix"), clock)
    new.record.prefix = MATRIX_KEY
    session.commit()
    headers = auth(client, role)
    # the embedded workers start with the app (the rescue worker loads its surge planner, seconds under
    # load): the matrix is about who may call what, so it starts once they are ready
    wait_until(
        lambda: client.get("/readyz").status_code == 200, timeout=90, what="the embedded workers ready"
    )
    wrong: list[str] = []
    for case in CASES:
        body = case.body_for(role) if case.body_for else case.body
        files = case.files_for(role) if case.files_for else None
        form = case.form_for(role) if case.form_for else None
        r = client.request(case.method, case.path, headers=headers, json=body, files=files, data=form)
        if r.status_code != case.expect[role]:
            wrong.append(
                f"{case.method} {case.path}: expected {case.expect[role]}, got {r.status_code} {r.text[:160]}"
            )
    assert not wrong, f"role {role.value}:\n" + "\n".join(wrong)


def test_every_api_route_is_in_the_matrix(client: TestClient) -> None:
    """A new route must be added to the matrix; this fails when one is missing (read from OpenAPI)."""
    covered = {(c.method, _template(c.path)) for c in CASES}
    published = {
        (method.upper(), path)
        for path, ops in client.get("/openapi.json").json()["paths"].items()
        if path.startswith("/api/")
        for method in ops
    }
    assert len(published) >= 15, published
    missing = sorted(f"{m} {p}" for m, p in published - covered)
    assert not missing, "routes missing from the role matrix: " + ", ".join(missing)


def _template(path: str) -> str:
    """Map a concrete path to its route template for the coverage check."""
    parts = path.split("?")[0].split("/")
    if path.startswith("/api/v1/elevators/") and len(parts) >= 5:
        parts[4] = "{registration_code}"
    if path.startswith("/api/v1/units/") and len(parts) >= 5:
        parts[4] = "{code}"
    if path.startswith("/api/v1/public/elevators/"):
        parts[5] = "{code}"
    if path.startswith("/api/v1/rescue/incidents/"):
        parts[5] = "{incident_id}"
        if len(parts) > 7 and parts[6] == "dispatches":
            parts[7] = "{dispatch_id}"
    if path.startswith("/api/v1/rescue/crews/") and len(parts) == 6:
        parts[5] = "{crew_id}"
    if path.startswith("/api/v1/users/") and len(parts) >= 5:
        parts[4] = "{username}"
    if path.startswith("/api/v1/api-keys/"):
        parts[4] = "{prefix}"
    if path.startswith("/api/v1/inspection/inspections/"):
        parts[5] = "{inspection_id}"
    if path.startswith("/api/v1/hazards/") and parts[4].isdigit():
        parts[4] = "{hazard_id}"
    if path.startswith("/api/v1/inspection/elevators/"):
        parts[5] = "{code}"
    if path.startswith("/api/v1/risk/elevators/"):
        parts[5] = "{code}"
    for collection, name in (
        ("contracts", "contract_id"),
        ("work-orders", "work_order_id"),
        ("attachments", "attachment_id"),
        ("flags", "flag_id"),
    ):
        if path.startswith(f"/api/v1/maintenance/{collection}/"):
            parts[5] = "{" + name + "}"
    for section in sections():
        if hasattr(section, "template"):
            section.template(parts)
    return "/".join(parts)
