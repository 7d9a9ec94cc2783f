"""The role matrix's section of people: certificate 1 is maint_a's (MU-A, tests.factories.seed); UU-B is
owner_b's use unit, MU-A maint_a's maintenance unit."""

from __future__ import annotations

from tests.unit.accounts.matrix import Case, expect

_CERT = {
    "number": "TS2026-M1",
    "category": "T",
    "holder_name": "李师傅",
    "unit_code": "MU-A",
    "issued_on": "2025-01-01",
    "expires_on": "2029-01-01",
}
_TRAINING = {"username": "maint_a", "held_on": "2026-10-10", "hours": 8, "topic": "TSG T5002 维保规则"}
_DRILL = {"unit_code": "UU-B", "held_on": "2026-06-01", "scenario": "entrapment", "participants": 12}
_P = "/api/v1/people"

CASES: list[Case] = [
    Case("GET", f"{_P}/certificates", expect(403, A=200, R=200, I=200, M=200, U=200)),
    Case("POST", f"{_P}/certificates", expect(403, A=201, R=201, M=201, U=404), body=_CERT),
    Case(
        "POST",
        f"{_P}/certificates/1/revoke",
        expect(403, A=200, R=200, M=200, U=404),
        body={"reason": "录错"},
    ),
    Case("GET", f"{_P}/trainings", expect(403, A=200, R=200, I=200, M=200, U=200)),
    Case("POST", f"{_P}/trainings", expect(403, A=201, R=201, M=201, U=404), body=_TRAINING),
    Case("GET", f"{_P}/drills", expect(403, A=200, R=200, I=200, M=200, U=200)),
    Case("POST", f"{_P}/drills", expect(403, A=201, R=201, M=404, U=201), body=_DRILL),
    Case("GET", f"{_P}/drills/missing", expect(403, A=200, R=200, I=200, M=200, U=200)),
]


def template(parts: list[str]) -> None:
    """Route names: /api/v1/people/certificates/{certificate_id}/revoke."""
    if parts[3:5] == ["people", "certificates"] and len(parts) > 5:
        parts[5] = "{certificate_id}"
