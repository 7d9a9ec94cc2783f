"""Maintenance contracts (维保合同): at most one valid contract per elevator on any date, ending one early,
the elevators without a valid contract (the three-no flag), who files them and who reads them. SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import service
from liftwatch.maintenance.workflow import WorkOrderSource
from tests.factories import auth
from tests.unit.maintenance.workorder_city import contract, people_fixture  # noqa: F401 - fixture

JAN1, DEC31 = date(2026, 1, 1), date(2026, 12, 31)


def test_an_elevator_has_at_most_one_valid_contract_on_a_date(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    first = service.create_contract(session, people["admin"], contract(), clock)
    for start, end in (
        (date(2026, 12, 31), date(2027, 12, 31)),
        (date(2025, 6, 1), JAN1),
        (date(2026, 3, 1), date(2026, 4, 1)),
    ):
        with pytest.raises(Conflict) as clash:
            service.create_contract(session, people["admin"], contract(start=start, end=end), clock)
        assert f"contract {first.id}" in clash.value.message
    nxt = service.create_contract(
        session,
        people["regulator"],
        contract(unit="MU-B", start=date(2027, 1, 1), end=date(2027, 12, 31)),
        clock,
    )
    session.commit()
    assert service.valid_contract(session, "11SHA000001", DEC31).id == first.id  # type: ignore[union-attr]
    assert service.valid_contract(session, "11SHA000001", date(2027, 1, 1)).id == nxt.id  # type: ignore[union-attr]
    assert service.valid_contract(session, "11SHA000001", date(2025, 12, 31)) is None


def test_ending_a_contract_early_frees_the_elevator_from_the_next_day(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    c = service.create_contract(session, people["maint_a"], contract(), clock)
    with pytest.raises(InvalidInput) as outside:
        service.end_contract(session, people["admin"], c.id, date(2027, 2, 1), "解约", clock)
    assert outside.value.errors[0].field == "on"
    with pytest.raises(InvalidInput) as why:
        service.end_contract(session, people["admin"], c.id, date(2026, 6, 30), "  ", clock)
    assert why.value.errors[0].field == "reason"
    service.end_contract(session, people["admin"], c.id, date(2026, 6, 30), "使用单位解约", clock)
    with pytest.raises(Conflict):
        service.end_contract(session, people["admin"], c.id, date(2026, 6, 1), "again", clock)
    assert service.valid_contract(session, "11SHA000001", date(2026, 6, 30)) is not None
    assert service.valid_contract(session, "11SHA000001", date(2026, 7, 1)) is None
    service.create_contract(session, people["admin"], contract(unit="MU-B", start=date(2026, 7, 1)), clock)
    session.commit()
    # a work order opened on the new contract's days goes to the new unit
    clock.advance(timedelta(days=250))  # 2027-07-31: past both; falls back to the registry's unit
    out = service.open_corrective(
        session, people["admin"], "11SHA000001", WorkOrderSource.MANUAL, None, "", clock, Settings()
    )
    assert out.work_order.unit_code == "MU-A"


def test_a_work_order_goes_to_the_unit_of_the_valid_contract(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    service.create_contract(session, people["admin"], contract(unit="MU-B"), clock)
    out = service.open_corrective(
        session, people["admin"], "11SHA000001", WorkOrderSource.MANUAL, None, "", clock, Settings()
    )
    assert out.work_order.unit_code == "MU-B"
    assert service.get_work_order(session, people["maint_b"], out.work_order.id).id == out.work_order.id


def test_elevators_without_a_valid_contract(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    service.create_contract(session, people["admin"], contract(), clock)
    service.create_contract(
        session, people["admin"], contract("11SHB000003", "MU-B", end=date(2026, 6, 30)), clock
    )
    session.commit()
    on = date(2026, 11, 23)
    assert service.elevators_without_contract(session, people["regulator"], on) == [
        "11SHA000002",
        "11SHB000003",
        "11SHB000004",
    ]
    assert service.elevators_without_contract(session, people["regulator"], date(2026, 6, 1)) == [
        "11SHA000002",
        "11SHB000004",
    ]
    assert service.elevators_without_contract(session, people["maint_a"], on) == ["11SHA000002"]
    assert service.elevators_without_contract(session, people["owner_b"], on) == [
        "11SHB000003",
        "11SHB000004",
    ]
    with pytest.raises(Forbidden):
        service.elevators_without_contract(session, people["gateway"], on)


def test_who_files_and_reads_contracts(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    with pytest.raises(Forbidden):
        service.create_contract(session, people["owner_a"], contract(), clock)
    with pytest.raises(NotFound):  # MU-B's staff do not see MU-A's elevator
        service.create_contract(session, people["maint_b"], contract(unit="MU-B"), clock)
    with pytest.raises(InvalidInput) as other_unit:
        service.create_contract(session, people["maint_a"], contract(unit="MU-B"), clock)
    assert other_unit.value.errors[0].field == "unit_code"
    bad = [
        (contract(unit="UU-A"), "unit_code"),  # not a maintenance unit
        (contract(start=DEC31, end=JAN1), "end_date"),
        (replace(contract(), responsible="maint_b"), "responsible"),  # not MU-A's staff
        (replace(contract(), price_fen=-1), "price_fen"),
    ]
    for terms, field in bad:
        with pytest.raises(InvalidInput) as e:
            service.create_contract(session, people["admin"], terms, clock)
        assert e.value.errors[0].field == field
    c = service.create_contract(session, people["maint_a"], contract(), clock)
    session.commit()
    for who in ("admin", "regulator", "operator", "inspector", "maint_a", "owner_a"):
        assert service.get_contract(session, people[who], c.id).id == c.id
    for who in ("maint_b", "owner_b"):
        with pytest.raises(NotFound):
            service.get_contract(session, people[who], c.id)
    assert [x.id for x in service.list_contracts(session, people["owner_a"], valid_on=JAN1)] == [c.id]
    assert service.list_contracts(session, people["owner_a"], valid_on=date(2027, 1, 1)) == []


def test_the_contract_routes(client: TestClient, session: Session, people: dict[str, Actor]) -> None:
    headers = auth(client, Role.ADMIN)
    body = {
        "registration_code": "11SHA000001",
        "unit_code": "MU-A",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "model": "on_demand",
        "price_fen": 1_500_000,
    }
    r = client.post("/api/v1/maintenance/contracts", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert (r.json()["model"], r.json()["price_fen"]) == ("on_demand", 1_500_000)
    clash = client.post("/api/v1/maintenance/contracts", json=body, headers=headers)
    assert clash.status_code == 409
    wrong = client.post("/api/v1/maintenance/contracts", json={**body, "model": "sometimes"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "model"
    r = client.get("/api/v1/maintenance/elevators-without-contract?on=2026-11-23", headers=headers)
    assert r.json() == {
        "on": "2026-11-23",
        "count": 3,
        "registration_codes": ["11SHA000002", "11SHB000003", "11SHB000004"],
    }


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_two_filings_at_once_give_one_contract(
    session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    """PostgreSQL, many writers: the first filing holds the elevator until it commits, so the second,
    overlapping one sees it and is refused (409) instead of slipping in beside it."""
    first = session_factory()
    service.create_contract(first, people["admin"], contract(), clock)  # not committed yet
    outcome: list[str] = []

    def second() -> None:
        with session_factory() as s:
            try:
                service.create_contract(s, people["regulator"], contract(start=date(2026, 6, 1)), clock)
                s.commit()
                outcome.append("filed")
            except Conflict:
                outcome.append("conflict")

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive(), "the second filing must wait for the first"
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert outcome == ["conflict"]
    with session_factory() as s:
        assert len(service.list_contracts(s, people["admin"], "11SHA000001")) == 1
