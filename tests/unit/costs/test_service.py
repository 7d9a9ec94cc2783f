"""The ledger through the service with a controlled clock (NOW is 2026-11-23): contract fees booked once per
half-year, entries idempotent on their source, corrections only by reversing entries, the frozen
publication (a later correction lands in the next half-year), scope, the regulator's overview and the
public read. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.costs import service
from liftwatch.costs.domain import AdvertisingUse, EntryKind, HalfYear
from liftwatch.costs.models import CostEntry, CostPublication, FrozenRecord
from tests.unit.costs.city import A1, A2, B4, SETTINGS, cost_city
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

H1, H2 = HalfYear(2026, 1), HalfYear(2026, 2)


def _ad(session: Session, who: Actor, clock: FixedClock, receipt: str, fen: int, on: date) -> CostEntry:
    data = service.NewEntry(
        EntryKind.ADVERTISING_INCOME, fen, on, receipt=receipt, note="分众传媒 2026 年合同"
    )
    out = service.record(session, who, "UU-A", data, clock, SETTINGS)
    session.commit()
    return out.entry


def test_contract_fees_are_booked_once_per_half_year(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    owner = people["owner_a"]
    booked = service.book_contracts(session, owner, "UU-A", H1, clock, SETTINGS)
    session.commit()
    got = {(e.registration_code, e.amount_fen, e.residential, e.period, e.on) for e in booked.created}
    assert got == {
        (A1, -595_068, True, "2026-H1", date(2026, 1, 1)),
        (A2, -300_822, False, "2026-H1", date(2026, 3, 1)),  # an office: kept, never published
    }
    again = service.book_contracts(session, owner, "UU-A", H1, clock, SETTINGS)
    assert (again.created, again.existing) == ([], 2)
    # the command line's run over every use unit books UU-B's and finds UU-A's done
    every = service.book_contracts(session, people["admin"], None, H1, clock, SETTINGS)
    session.commit()
    assert [(e.use_unit, e.amount_fen) for e in every.created] == [("UU-B", -182_000)]
    assert every.existing == 2
    with pytest.raises(InvalidInput) as err:
        service.book_contracts(session, owner, "UU-A", HalfYear(2027, 1), clock, SETTINGS)
    assert err.value.errors[0].field == "period"
    with pytest.raises(Forbidden):
        service.book_contracts(session, owner, None, H1, clock, SETTINGS)


def test_entries_are_idempotent_on_their_source_and_checked(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    order = cost_city(session, clock)
    owner = people["owner_a"]
    first = _ad(session, owner, clock, "FP-001", 300_000, date(2026, 5, 1))
    assert (first.amount_fen, first.period, first.registration_code) == (300_000, "2026-H1", None)
    replay = service.record(
        session,
        owner,
        "UU-A",
        service.NewEntry(EntryKind.ADVERTISING_INCOME, 999, date(2026, 6, 1), receipt="FP-001"),
        clock,
        SETTINGS,
    )
    assert not replay.created and replay.entry.id == first.id and replay.entry.amount_fen == 300_000
    repair = service.record(
        session,
        owner,
        "UU-A",
        service.NewEntry(EntryKind.REPAIR, 80_000, date(2026, 11, 20), work_order_id=order),
        clock,
        SETTINGS,
    )
    assert repair.created and repair.entry.amount_fen == -80_000
    assert (repair.entry.registration_code, repair.entry.source_ref) == (A1, f"wo:{order}")

    def refused(data: service.NewEntry, unit: str = "UU-A") -> set[str]:
        with pytest.raises(InvalidInput) as err:
            service.record(session, owner, unit, data, clock, SETTINGS)
        return {e.field for e in err.value.errors}

    ad = EntryKind.ADVERTISING_INCOME
    assert refused(service.NewEntry(ad, 1, date(2026, 11, 24), receipt="x")) == {"on"}  # tomorrow
    assert refused(service.NewEntry(ad, 1, date(2026, 11, 1))) == {"source_ref"}
    assert refused(service.NewEntry(ad, 1, date(2026, 11, 1), work_order_id=order, receipt="y")) == {
        "source_ref",
        "work_order_id",
    }
    assert refused(service.NewEntry(ad, 1, date(2026, 11, 1), elevator=B4, receipt="z")) == {"elevator"}
    assert refused(service.NewEntry(EntryKind.REPAIR, 1, date(2026, 11, 1), work_order_id=9999)) == {
        "work_order_id"
    }
    # the rescue code names the elevator too
    by_rescue = service.NewEntry(ad, 2_000, date(2026, 11, 1), elevator="100001", receipt="FP-002")
    assert service.record(session, owner, "UU-A", by_rescue, clock, SETTINGS).entry.registration_code == A1


def test_a_booked_entry_is_corrected_only_by_its_reversal(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    owner = people["owner_a"]
    wrong = _ad(session, owner, clock, "FP-009", 30_000, date(2026, 10, 1))
    wrong.amount_fen = 3_000
    with pytest.raises(FrozenRecord):
        session.flush()
    session.rollback()
    with pytest.raises(FrozenRecord):
        session.delete(session.get(CostEntry, wrong.id))
        session.flush()
    session.rollback()
    rev = service.reverse(session, owner, "UU-A", wrong.id, "金额录错", clock, SETTINGS)
    session.commit()
    assert rev.created and rev.entry.amount_fen == -30_000 and rev.entry.reverses_id == wrong.id
    assert rev.entry.period == "2026-H2" and rev.entry.kind == "advertising_income"
    again = service.reverse(session, owner, "UU-A", wrong.id, "again", clock, SETTINGS)
    assert not again.created and again.entry.id == rev.entry.id
    with pytest.raises(Conflict):
        service.reverse(session, owner, "UU-A", rev.entry.id, "x", clock, SETTINGS)
    with pytest.raises(InvalidInput):
        service.reverse(session, owner, "UU-A", wrong.id + 100, "", clock, SETTINGS)  # the note first
    assert service.summary(session, owner, "UU-A", H2).summary.advertising_fen == 0


def test_a_publication_is_frozen_and_a_later_correction_lands_in_the_next_half_year(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    owner = people["owner_a"]
    service.book_contracts(session, owner, "UU-A", H1, clock, SETTINGS)
    ad = _ad(session, owner, clock, "FP-001", 300_000, date(2026, 5, 1))
    with pytest.raises(Conflict):  # H2 has not ended
        service.publish(session, owner, "UU-A", H2, AdvertisingUse.REPAIR_FUND, clock, SETTINGS)
    out = service.publish(session, owner, "UU-A", H1, AdvertisingUse.REPAIR_FUND, clock, SETTINGS)
    session.commit()
    snap = out.publication.snapshot
    assert out.created and snap["period"] == "2026-H1" and snap["advertising_use"] == "repair_fund"
    assert (snap["income_fen"], snap["expense_fen"], snap["balance_fen"]) == (300_000, 595_068, -295_068)
    assert [(e["registration_code"], e["maintenance_fen"]) for e in snap["elevators"]] == [(A1, 595_068)]
    assert snap["totals"]["maintenance_fee"] == -595_068  # A2 (an office) is not in it
    frozen = dict(snap)
    # after publication: an entry dated in H1 and the reversal of an H1 entry go to H2
    late = _ad(session, owner, clock, "FP-003", 10_000, date(2026, 6, 15))
    rev = service.reverse(session, owner, "UU-A", ad.id, "合同作废", clock, SETTINGS)
    session.commit()
    assert (late.period, rev.entry.period) == ("2026-H2", "2026-H2")
    assert service.book_contracts(session, owner, "UU-A", H1, clock, SETTINGS).existing == 2
    session.expire_all()
    stored = session.get(CostPublication, out.publication.id)
    assert stored is not None and stored.snapshot == frozen
    assert service.summary(session, owner, "UU-A", H2).summary.advertising_fen == 10_000 - 300_000
    again = service.publish(session, owner, "UU-A", H1, AdvertisingUse.NONE, clock, SETTINGS)
    assert not again.created and again.publication.snapshot["advertising_use"] == "repair_fund"
    stored.unit_name = "x"
    with pytest.raises(FrozenRecord):
        session.flush()


def test_scope(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    cost_city(session, clock)
    entry = service.NewEntry(EntryKind.OTHER_INCOME, 100, date(2026, 11, 1), receipt="R-1")
    with pytest.raises(NotFound):  # another unit's ledger is not found
        service.list_entries(session, people["owner_b"], "UU-A")
    with pytest.raises(NotFound):
        service.record(session, people["owner_b"], "UU-A", entry, clock, SETTINGS)
    with pytest.raises(NotFound):  # not a use unit
        service.list_entries(session, people["admin"], "MU-A")
    for name in ("maint_a", "operator", "inspector", "gateway"):
        with pytest.raises(Forbidden):
            service.list_entries(session, people[name], "UU-A")
    assert service.list_entries(session, people["regulator"], "UU-A") == []
    with pytest.raises(Forbidden):  # regulators read, book nothing
        service.record(session, people["regulator"], "UU-A", entry, clock, SETTINGS)
    assert service.record(session, people["admin"], "UU-A", entry, clock, SETTINGS).created
    assert len(service.list_entries(session, people["owner_a"], "UU-A")) == 1
    reversal = service.reverse(session, people["admin"], "UU-A", 1, "录错", clock, SETTINGS).entry
    with pytest.raises(NotFound):
        service.reverse(session, people["owner_b"], "UU-B", reversal.reverses_id or 0, "x", clock, SETTINGS)


def test_the_regulators_overview_and_the_public_read(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    owner = people["owner_a"]
    service.book_contracts(session, people["admin"], None, H1, clock, SETTINGS)
    _ad(session, owner, clock, "FP-001", 300_000, date(2026, 5, 1))
    service.publish(session, owner, "UU-A", H1, AdvertisingUse.REPAIR_FUND, clock, SETTINGS)
    session.commit()
    reg = people["regulator"]
    rows = service.overview(session, reg, H1, clock, SETTINGS, 30)
    assert [(r.unit_code, r.published_at is not None, r.overdue, r.residential) for r in rows] == [
        ("UU-B", False, True, 1),
        ("UU-A", True, False, 1),
    ]
    assert [r.unit_code for r in service.overview(session, reg, H1, clock, SETTINGS, 30, "徐汇区")] == [
        "UU-B"
    ]
    # 146 days after H1 ended: not overdue with a 200-day limit
    assert not any(r.overdue for r in service.overview(session, reg, H1, clock, SETTINGS, 200))
    period, late = service.overdue(session, reg, clock, SETTINGS, 30)
    assert period == H1 and [r.unit_code for r in late] == ["UU-B"]
    for name in ("owner_a", "maint_a", "operator"):
        with pytest.raises(Forbidden):
            service.overview(session, people[name], H1, clock, SETTINGS, 30)
    for q in ("100001", A1, "静安物业", ""):
        found = service.public_search(session, q)
        assert [f.unit_name for f in found] == ["静安物业管理有限公司"], q
        assert found[0].periods[0]["elevators"][0]["maintenance_fen"] == 595_068
    assert service.public_search(session, "100004") == []  # UU-B published nothing
    assert "owner_a" not in repr(service.public_search(session, "静安"))
