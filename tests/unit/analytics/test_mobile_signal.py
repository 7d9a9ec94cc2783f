"""The registry's in-car mobile signal flag (migration 0026), what the coverage figures count: set through
the API (PATCH, shown back in the elevator's record) and by a CSV import in Chinese (是/否, empty: not
checked); the simulated city sets it for most elevators."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.io import import_file
from liftwatch.sim.plan import _mobile_signal
from tests.factories import auth, seed

pytestmark = pytest.mark.sqlite_only  # routes and the import: the service is tested on both backends


def test_set_through_the_api(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    regulator = auth(client, Role.REGULATOR)
    url = "/api/v1/elevators/11SHA000002"
    assert client.get(url, headers=regulator).json()["mobile_signal"] is None  # not checked yet
    r = client.patch(url, json={"mobile_signal": False}, headers=regulator)
    assert r.status_code == 200, r.text
    assert r.json()["mobile_signal"] is False
    assert client.patch(url, json={"mobile_signal": "maybe"}, headers=regulator).status_code == 422


def test_set_by_a_csv_import(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    seed(session, clock)
    path = tmp_path / "ledger.csv"
    path.write_text(
        "使用登记证编号,救援识别码,设备类别,场所类型,区,轿厢移动信号\n"
        "31SH0001,200001,曳引驱动电梯,residential,静安区,是\n"
        "31SH0002,200002,曳引驱动电梯,office,静安区,否\n"
        "31SH0003,200003,曳引驱动电梯,office,静安区,\n",
        encoding="utf-8",
    )
    report = import_file(session, Actor("reg", Role.REGULATOR), path, clock)
    session.commit()
    assert report.imported == 3, report.errors
    found = registry_queries.elevators_by_codes(session, ["31SH0001", "31SH0002", "31SH0003"])
    assert [e.mobile_signal for e in found] == [True, False, None]


def test_the_simulated_city_sets_it_for_most_elevators() -> None:
    values = [_mobile_signal(f"31SH{i:06d}") for i in range(2000)]
    assert values.count(True) / len(values) == pytest.approx(0.90, abs=0.03)
    assert 0 < values.count(None) < values.count(False) < values.count(True)
