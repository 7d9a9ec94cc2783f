"""The analytics migrations, each applied and reversed on SQLite and PostgreSQL (expands: the release
before keeps running against them). 0026 adds the registry's nullable ``mobile_signal`` column, keeping the
elevators' rows; 0027 adds the faults' start-time index the city's figures count by; 0028 the roll-up of
settled months; 0029 two covering indexes on the registry; 0030 the coverage figures' covering index and
the map's view's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Table, inspect, text

from liftwatch.analytics.models import AnalyticsCell
from liftwatch.core.db import make_engine
from liftwatch.core.migrate import alembic_config, upgrade
from liftwatch.registry.models import Elevator
from liftwatch.registry.queries import CELL_KEYS
from tests.conftest import fresh_pg_database, require_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    require_postgres()
    with fresh_pg_database("liftwatch_m2627") as pg:
        yield pg


def _columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("elevators")}
    finally:
        engine.dispose()


def _count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM elevators")).scalar_one())
    finally:
        engine.dispose()


def test_0026_applies_and_reverses(url: str) -> None:
    upgrade(url, "0025")
    assert "mobile_signal" not in _columns(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO elevators (registration_code, equipment_code, rescue_code, kind, manufacturer,"
                " model, serial_number, district, street, address, building, place_type, status,"
                " iot_terminal_id, no_property_management, no_maintenance_contract, no_repair_fund,"
                " created_at, updated_at) VALUES ('11SHA000001', '', '100001', 'traction', '', '', '',"
                " '静安区', '', '', '', 'residential', 'in_use', '', false, false, false,"
                " '2026-11-23 09:00:00+00:00', '2026-11-23 09:00:00+00:00')"
            )
        )
    engine.dispose()
    upgrade(url)
    assert "mobile_signal" in _columns(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT mobile_signal FROM elevators")).scalar_one() is None  # not checked
    engine.dispose()
    command.downgrade(alembic_config(url), "0025")
    assert "mobile_signal" not in _columns(url) and _count(url) == 1
    upgrade(url)
    assert "mobile_signal" in _columns(url) and _count(url) == 1


def _indexes(url: str, table: str = "faults") -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        return {
            str(i["name"]): [str(c) for c in i["column_names"]] for i in inspect(engine).get_indexes(table)
        }
    finally:
        engine.dispose()


def _faults_since(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stmt = text("SELECT count(*) FROM faults WHERE started_at >= :at")
            return int(conn.execute(stmt, {"at": datetime(2026, 11, 1, tzinfo=UTC)}).scalar_one())
    finally:
        engine.dispose()


def test_0027_applies_and_reverses(url: str) -> None:
    upgrade(url, "0026")
    assert "ix_faults_started_type" not in _indexes(url)
    upgrade(url)
    assert _indexes(url)["ix_faults_started_type"] == ["started_at", "fault_type", "registration_code"]
    command.downgrade(alembic_config(url), "0026")
    assert "ix_faults_started_type" not in _indexes(url)
    upgrade(url, "0027")
    assert "ix_faults_started_type" in _indexes(url) and _faults_since(url) == 0


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


#: The model's count columns: the migration must create each of them.
COUNTS = [c.name for c in AnalyticsCell.__table__.columns if c.name not in (*CELL_KEYS, "id", "month")]


def test_0028_applies_and_reverses(url: str) -> None:
    """The roll-up's two tables; the month's row and a cell take the counts the service writes."""
    upgrade(url, "0027")
    assert not {"analytics_months", "analytics_cells"} & _tables(url)
    upgrade(url)
    assert {"analytics_months", "analytics_cells"} <= _tables(url)
    engine = make_engine(url)
    try:
        unique = inspect(engine).get_unique_constraints("analytics_cells")
        assert [c["column_names"] for c in unique] == [
            ["month", "district", "street", "place_type", "maintenance_unit", "age_band"]
        ]
        counts = ", ".join(COUNTS)
        zeros = ", ".join("0" for _ in COUNTS)
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO analytics_cells (month, district, street, place_type, maintenance_unit, "
                    f"age_band, {counts}) VALUES ('2026-10', 'd', 's', 'mall', '', '0-5', {zeros})"
                )
            )
    finally:
        engine.dispose()
    command.downgrade(alembic_config(url), "0027")
    assert not {"analytics_months", "analytics_cells"} & _tables(url)
    upgrade(url)
    assert {"analytics_months", "analytics_cells"} <= _tables(url)


def test_0029_applies_and_reverses(url: str) -> None:
    upgrade(url, "0028")
    assert not {"ix_elevators_in_service", "ix_elevators_area"} & set(_indexes(url, "elevators"))
    upgrade(url)
    indexes = _indexes(url, "elevators")
    assert indexes["ix_elevators_in_service"] == ["status", "district", "street", "iot_terminal_id"]
    assert indexes["ix_elevators_area"] == ["district", "status", "latitude", "longitude"]
    command.downgrade(alembic_config(url), "0028")
    assert not {"ix_elevators_in_service", "ix_elevators_area"} & set(_indexes(url, "elevators"))
    upgrade(url)
    assert "ix_elevators_area" in _indexes(url, "elevators")


def test_0030_applies_and_reverses(url: str) -> None:
    upgrade(url, "0029")
    assert not {"ix_elevators_coverage", "ix_elevators_position"} & set(_indexes(url, "elevators"))
    upgrade(url)
    table = Elevator.__table__
    assert isinstance(table, Table)
    (model,) = (i for i in table.indexes if i.name == "ix_elevators_coverage")
    assert _indexes(url, "elevators")["ix_elevators_coverage"] == [c.name for c in model.columns]
    assert len(model.columns) == 9  # in use by place type, and every column the coverage counts read
    assert _indexes(url, "elevators")["ix_elevators_position"] == ["latitude", "longitude", "status"]
    command.downgrade(alembic_config(url), "0029")
    assert not {"ix_elevators_coverage", "ix_elevators_position"} & set(_indexes(url, "elevators"))
