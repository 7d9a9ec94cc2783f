"""The cost routes with data: an entry booked once (201, then 200 with the first), its reversal, the
contract fees, the summary, the publication (201, then 200 with the same snapshot), the public read with
the published figures and no username, and a half-year that is not one (422 naming the field)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.core.clock import FixedClock
from tests.factories import auth, seed
from tests.unit.costs.city import B4, cost_city

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


LEDGER = "/api/v1/costs/ledgers/UU-B"


def test_the_ledger_through_the_api(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    cost_city(session, clock)
    owner = auth(client, Role.USE_UNIT)  # owner_b of UU-B
    entry = {"kind": "advertising_income", "amount_fen": 120_000, "on": "2026-06-30", "elevator": "100004"}
    first = client.post(f"{LEDGER}/entries", json={**entry, "receipt": "GG-9"}, headers=owner)
    assert first.status_code == 201, first.text
    body = first.json()["entry"]
    assert (body["amount_fen"], body["registration_code"], body["period"]) == (120_000, B4, "2026-H1")
    again = client.post(
        f"{LEDGER}/entries", json={**entry, "receipt": "GG-9", "amount_fen": 1}, headers=owner
    )
    assert again.status_code == 200 and again.json()["entry"]["id"] == body["id"]
    wrong = client.post(f"{LEDGER}/entries", json={**entry, "receipt": "GG-10", "kind": "x"}, headers=owner)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"].endswith("kind")
    rev = client.post(f"{LEDGER}/entries/{body['id']}/reverse", json={"note": "录错"}, headers=owner)
    assert rev.status_code == 201 and rev.json()["entry"]["amount_fen"] == -120_000
    booked = client.post(f"{LEDGER}/book-contracts", json={"period": "2026-h1"}, headers=owner)
    assert booked.status_code == 200 and [e["amount_fen"] for e in booked.json()["created"]] == [-182_000]
    bad = client.post(f"{LEDGER}/book-contracts", json={"period": "2026-H3"}, headers=owner)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("period")
    summary = client.get(f"{LEDGER}/summary", params={"period": "2026-H1"}, headers=owner).json()
    assert (summary["expense_fen"], summary["advertising_fen"], summary["published_id"]) == (182_000, 0, None)
    assert summary["not_published_entries"] == 0
    publish = {"period": "2026-H1", "advertising_use": "none"}
    done = client.post(f"{LEDGER}/publications", json=publish, headers=owner)
    assert done.status_code == 201, done.text
    snapshot = done.json()["publication"]["snapshot"]
    twice = client.post(
        f"{LEDGER}/publications", json={**publish, "advertising_use": "owners"}, headers=owner
    )
    assert twice.status_code == 200 and twice.json()["publication"]["snapshot"] == snapshot
    public = client.get("/api/v1/costs/public", params={"q": "徐汇置业"})
    assert public.status_code == 200
    (ledger,) = public.json()
    assert ledger["unit_name"] == "徐汇置业物业服务公司"
    (period,) = ledger["periods"]
    assert (period["period"], period["expense_fen"], period["advertising_use"]) == (
        "2026-H1",
        182_000,
        "none",
    )
    assert [(e["registration_code"], e["maintenance_fen"]) for e in period["elevators"]] == [(B4, 182_000)]
    assert "owner_b" not in public.text
    regulator = auth(client, Role.REGULATOR)
    late = client.get("/api/v1/costs/overdue", headers=regulator).json()
    assert late["period"] == "2026-H1" and [u["unit_code"] for u in late["units"]] == ["UU-A"]
