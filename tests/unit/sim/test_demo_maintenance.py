"""The demo's preparation files a contract for every elevator in use, a share on demand, a few expired, and
workers to be responsible for them; a second run adds nothing. The live crews then carry the planned
visits through the maintenance service to the use unit's sign-off, holding the terminals in inspection
and writing the ground truth."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import get_settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.maintenance import schedule
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.domain import MaintenanceModel
from liftwatch.sim.contracts import demo_fleet
from liftwatch.sim.live import TerminalHooks
from liftwatch.sim.live_maintenance import CrewSettings, LiveCrews, Step
from liftwatch.telemetry.protocol import ServiceMode
from tests.conftest import NOW


@pytest.fixture
def demo_url(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A small demo city prepared as `liftwatch demo` does, on the clock of the tests; half of the
    elevators with a terminal on demand."""
    from liftwatch import demo

    var = tmp_path / "var"
    var.mkdir()
    shutil.copy(sqlite_template, var / "liftwatch.db")
    monkeypatch.setenv("LIFTWATCH_VAR_DIR", str(var))
    monkeypatch.setenv("LIFTWATCH_SIMULATE_ON_DEMAND_SHARE", "0.5")
    monkeypatch.setenv("LIFTWATCH_DATABASE_URL", "")
    get_settings.cache_clear()
    monkeypatch.setattr(demo, "SystemClock", lambda: FixedClock(NOW))
    demo.prepare(elevators=60)
    yield get_settings().resolved_database_url
    get_settings.cache_clear()


def test_prepare_files_the_contracts_once(demo_url: str) -> None:
    from liftwatch import demo

    engine = make_engine(demo_url)
    with Session(engine) as session:
        today = (NOW + timedelta(hours=8)).date()
        first = maintenance.list_contracts(session, SYSTEM_ACTOR, limit=10_000)
        fleet = demo_fleet(session, FixedClock(NOW))
        valid = maintenance.list_contracts(session, SYSTEM_ACTOR, valid_on=today, limit=10_000)
        missing = maintenance.elevators_without_contract(session, SYSTEM_ACTOR, today)
    assert {c.registration_code for c in first} == {e.registration_code for e in fleet}
    assert len(first) - len(valid) == 5  # expired last month: no contract today
    assert set(missing) >= {c.registration_code for c in first} - {c.registration_code for c in valid}
    monitored = {e.registration_code for e in fleet if e.monitored}
    on_demand = {c.registration_code for c in valid if c.model == MaintenanceModel.ON_DEMAND.value}
    assert on_demand and on_demand <= monitored
    for c in valid:  # a year from within the last 15 days; the responsible worker is of the unit
        assert today - timedelta(days=15) <= c.start_date <= today < c.end_date
        assert c.responsible.startswith(f"{c.unit_code}-W") and c.price_fen > 0
    demo.prepare(elevators=60)
    with make_session_factory(engine)() as session:
        assert len(maintenance.list_contracts(session, SYSTEM_ACTOR, limit=10_000)) == len(first)
    engine.dispose()


class Recorder(TerminalHooks):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, ServiceMode | None, int, int]] = []

    def hold_mode(self, registration_code: str, mode: ServiceMode, start_ms: int, end_ms: int) -> bool:
        self.calls.append((registration_code, mode, start_ms, end_ms))
        return True

    def silence(self, registration_code: str, start_ms: int, end_ms: int) -> bool:
        self.calls.append((registration_code, None, start_ms, end_ms))
        return True


def test_the_crews_visit_sign_and_write_the_truth(demo_url: str, tmp_path: Path) -> None:
    engine = make_engine(demo_url)
    factory = make_session_factory(engine)
    clock = FixedClock(NOW)
    opened = schedule.open_due_orders(factory, clock, get_settings()).opened
    assert opened
    hooks = Recorder()
    truth = tmp_path / "truth.jsonl"
    crews = LiveCrews(factory, clock, hooks, CrewSettings(60, fake_share=0.0, confirm_share=1.0), truth)
    for _ in range(150):  # two and a half hours, a minute a step
        crews.step()
        clock.advance(timedelta(minutes=1))
    lines = [json.loads(line) for line in truth.read_text().splitlines()]
    assert len(lines) >= 2 and all(line["kind"] == "real" for line in lines)
    with factory() as session:
        for line in lines:
            order = maintenance.get_work_order(session, SYSTEM_ACTOR, line["work_order_id"])
            assert order.state in ("completed", "confirmed") and order.assignee == line["worker"]
            (record,) = maintenance.records_of(session, order)
            assert record.id == line["record_id"] and record.worker_signed_at is not None
            assert record.check_in_at.isoformat()[:19] == line["check_in"][:19]
        assert any(
            maintenance.get_work_order(session, SYSTEM_ACTOR, line["work_order_id"]).state == "confirmed"
            for line in lines
        )
    held = {code for code, mode, _, _ in hooks.calls if mode is ServiceMode.INSPECTION}
    assert {line["registration_code"] for line in lines if line["monitored"]} <= held
    # the demo restarts while workers are on site: their plans are gone, so those visits are cancelled
    on_site = [v.order.work_order_id for v in crews.visits if v.step is Step.ON_SITE]
    assert on_site
    LiveCrews(factory, clock, Recorder(), CrewSettings()).load()
    with factory() as session:
        for wo in on_site:
            assert maintenance.get_work_order(session, SYSTEM_ACTOR, wo).state == "cancelled"
    engine.dispose()
