"""The role matrix's section of main parts and recalls: part 1 is 11SHA000001's traction machine (MU-A and
UU-A's elevator: maint_a's, not owner_b's), part 2 11SHB000004's; recall 1 reaches both."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind
from tests.unit.accounts.matrix import Case, expect

_BRAKE = {
    "kind": "brake",
    "manufacturer": "通力",
    "model": "BK-3",
    "serial": "B-77",
    "installed_on": "2026-01-05",
    "design_life_years": 20,
}
_RECALL = {
    "reference": "R-MATRIX-2",
    "kind": "traction_machine",
    "manufacturer": "通力",
    "model": "MX-10",
    "serial_first": "KM-1",
    "serial_last": "KM-9",
    "reason": "制动器线圈",
    "due_on": "2027-01-31",
}

CASES: list[Case] = [
    Case("GET", "/api/v1/elevators/11SHA000001/parts", expect(200, U=404, N=404, G=403)),
    Case("POST", "/api/v1/elevators/11SHA000001/parts", expect(403, A=201, M=201, U=404, N=404), body=_BRAKE),
    Case(
        "POST",
        "/api/v1/parts/1/replace",
        expect(403, A=201, M=201, U=404, N=404),
        body={**_BRAKE, "kind": "traction_machine", "serial": "KM-50", "reason": "主机异响"},
    ),
    Case("GET", "/api/v1/parts/worn", expect(403, A=200, R=200, I=200, M=200, U=200)),
    Case("POST", "/api/v1/recalls/preview", expect(403, A=200, R=200), body=_RECALL),
    Case("POST", "/api/v1/recalls", expect(403, A=201, R=201), body=_RECALL),
    Case("GET", "/api/v1/recalls", expect(403, A=200, R=200, I=200, M=200, U=200)),
    Case("GET", "/api/v1/recalls/1", expect(403, A=200, R=200, I=200, M=200, U=200)),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """Parts 1 and 2, recall 1 (see the module's docstring)."""
    for code, serial in (("11SHA000001", "KM-3"), ("11SHB000004", "KM-4")):
        new = service.NewPart(PartKind.TRACTION_MACHINE, "通力", "MX-10", serial, date(2015, 1, 1), 20)
        service.record_part(session, SYSTEM_ACTOR, code, new, clock, settings)
    recall = service.NewRecall(
        "R-MATRIX-1", PartKind.TRACTION_MACHINE, "通力", "MX-10", "KM-1", "KM-9", "制动器", date(2027, 1, 31)
    )
    assert service.issue_recall(session, SYSTEM_ACTOR, recall, clock, settings).recall.id == 1  # type: ignore[union-attr]
    session.commit()


def template(parts: list[str]) -> None:
    """Route names: /api/v1/parts/{part_id}/replace, /api/v1/recalls/{recall_id}."""
    if len(parts) > 4 and parts[4].isdigit():
        if parts[3] == "parts":
            parts[4] = "{part_id}"
        elif parts[3] == "recalls":
            parts[4] = "{recall_id}"
