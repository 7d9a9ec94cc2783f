"""The role matrix's complaints section (issue 14, item 6): intake and the verdict by the centre (admins,
regulators, 96333/12345 operators), the answer by the responsible unit, unit staff reading only complaints
assigned to their unit or about their elevators (404 outside), inspectors, gateways and insurers 403; the
status by receipt is public.

Set up by ``city`` (every complaint through the service): 1 on 11SHA000001 (noise: MU-A answers), 2 on
11SHB000003 (fees: UU-B answers), 3 on 11SHB000004 answered (MU-B), 4 on 11SHB000003 answered (UU-B), 5 on
11SHA000002 received only, 6 on 11SHB000003 verified founded (receipt TSMATRIX06)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.complaints import service
from liftwatch.complaints.workflow import Category, Channel, Verdict
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from tests.unit.accounts.matrix import Case, expect

_INTAKE = {
    "channel": "hotline_12345",
    "external_ref": "12345-M-1",
    "category": "out_of_service",
    "text": "电梯停运三天无人处理",
    "code": "11SHA000001",
    "complainant_name": "赵六",
    "complainant_phone": "13800000000",
}
_NO = expect(403, A=200, R=200, O=200, M=404, U=403)  # a centre move on a complaint UU-B can see

CASES: list[Case] = [
    Case("POST", "/api/v1/complaints", expect(403, A=201, R=201, O=201), body=_INTAKE),
    Case("GET", "/api/v1/complaints", expect(403, A=200, R=200, O=200, M=200, U=200)),
    Case("GET", "/api/v1/complaints/receipt/TSMATRIX06", expect(200, public=200)),
    Case("GET", "/api/v1/complaints/1", expect(403, A=200, R=200, O=200, M=200, U=404)),
    Case("POST", "/api/v1/complaints/1/answer", expect(403, A=200, M=200, U=404), body={"answer": "已修复"}),
    Case("POST", "/api/v1/complaints/2/answer", expect(403, A=200, U=200, M=404), body={"answer": "已退费"}),
    Case("POST", "/api/v1/complaints/5/assign", expect(403, A=200, R=200, O=200, U=404), body={}),
    Case("POST", "/api/v1/complaints/3/return", _NO, body={"note": "答复不完整"}),
    Case("POST", "/api/v1/complaints/4/verify", _NO, body={"verdict": "founded", "note": "属实"}),
    Case("POST", "/api/v1/complaints/6/hazard", expect(403, A=201, R=201, M=404), body={"level": "general"}),
    Case("POST", "/api/v1/complaints/6/close", _NO, body={"reason": ""}),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    def intake(ref: str, code: str, category: Category, assign: bool = True) -> int:
        data = service.Intake(
            Channel.HOTLINE_12345, ref, category, "投诉内容足够长", code=code, assign=assign
        )
        return service.intake(session, SYSTEM_ACTOR, data, clock).complaint.id

    intake("M-1", "11SHA000001", Category.NOISE)
    intake("M-2", "11SHB000003", Category.FEES)
    three = intake("M-3", "11SHB000004", Category.NOISE)
    four = intake("M-4", "11SHB000003", Category.FEES)
    intake("M-5", "11SHA000002", Category.NOISE, assign=False)
    six = intake("M-6", "11SHB000003", Category.UNSAFE)
    for n in (three, four, six):
        service.answer(session, SYSTEM_ACTOR, n, "已处理", clock)
    service.verify(session, SYSTEM_ACTOR, six, Verdict.FOUNDED, "属实", clock, settings)
    service.get_complaint(session, SYSTEM_ACTOR, six).receipt = "TSMATRIX06"
    session.commit()


def template(parts: list[str]) -> None:
    if parts[1:4] == ["api", "v1", "complaints"] and len(parts) > 4:
        if parts[4].isdigit():
            parts[4] = "{complaint_id}"
        elif parts[4] == "receipt":
            parts[5] = "{receipt}"
