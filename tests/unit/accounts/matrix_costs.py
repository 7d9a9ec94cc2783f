"""The role matrix's section of cost disclosure (费用公开): the ledger of UU-B (the matrix's use unit,
owner_b) and of UU-A (another unit's: 404 for owner_b), the contract booking, the publication, the
regulator's overview and overdue list, and the public read. Entry 1 is UU-B's, booked by ``city``."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.costs import service
from liftwatch.costs.domain import EntryKind
from tests.unit.accounts.matrix import Case, expect

_ENTRY = {"kind": "other_income", "amount_fen": 100, "on": "2026-11-01", "receipt": "M-1"}
_OWN = "/api/v1/costs/ledgers/UU-B"
_OTHER = "/api/v1/costs/ledgers/UU-A"

CASES: list[Case] = [
    Case("GET", "/api/v1/costs/public?q=100004", expect(200, public=200)),
    Case("GET", f"{_OWN}/entries", expect(403, A=200, R=200, U=200)),
    Case("GET", f"{_OTHER}/entries?period=2026-H2", expect(403, A=200, R=200, U=404)),
    Case("POST", f"{_OWN}/entries", expect(403, A=201, U=201), body=_ENTRY),
    Case("POST", f"{_OTHER}/entries", expect(403, A=201, U=404), body=_ENTRY),
    Case("POST", f"{_OWN}/entries/1/reverse", expect(403, A=201, U=201), body={"note": "录错"}),
    Case("POST", f"{_OWN}/book-contracts", expect(403, A=200, U=200), body={"period": "2026-H2"}),
    Case("POST", "/api/v1/costs/book-contracts", expect(403, A=200), body={"period": "2026-H2"}),
    Case("GET", f"{_OWN}/summary?period=2026-H1", expect(403, A=200, R=200, U=200)),
    Case(
        "POST",
        f"{_OWN}/publications",
        expect(403, A=201, U=201),
        body={"period": "2026-H1", "advertising_use": "none"},
    ),
    Case("GET", f"{_OWN}/publications", expect(403, A=200, R=200, U=200)),
    Case("GET", "/api/v1/costs/overview?period=2026-H1", expect(403, A=200, R=200)),
    Case("GET", "/api/v1/costs/overdue", expect(403, A=200, R=200)),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """Entry 1: an expense of UU-B, booked by the system."""
    data = service.NewEntry(EntryKind.OTHER_EXPENSE, 500, date(2026, 10, 1), receipt="MX-1")
    assert service.record(session, SYSTEM_ACTOR, "UU-B", data, clock, settings).entry.id == 1
    session.commit()


def template(parts: list[str]) -> None:
    """Route names of the ledger paths: /api/v1/costs/ledgers/{unit_code}/entries/{entry_id}/reverse."""
    if parts[3:5] == ["costs", "ledgers"] and len(parts) > 5:
        parts[5] = "{unit_code}"
        if len(parts) > 7 and parts[6] == "entries":
            parts[7] = "{entry_id}"
