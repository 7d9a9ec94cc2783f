"""The schema comes from Alembic migrations alone, on SQLite and PostgreSQL, and they match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from typer.testing import CliRunner

import liftwatch
from liftwatch.cli import app as cli
from liftwatch.core.db import make_engine
from liftwatch.core.migrate import COMPAT_TABLE, SCRIPT_LOCATION, alembic_config
from liftwatch.models import Base
from tests.conftest import fresh_pg_database

TABLES = {
    "units",
    "elevators",
    "elevator_events",
    "users",
    "faults",
    "live_status",
    "dead_letters",
    "detector_checkpoints",
    "partition_leases",
    "detector_members",
    "incidents",
    "incident_events",
    "open_incidents",
    "crews",
    "gateway_api_keys",
    "terminal_credentials",
    "revoked_tokens",
    "rescue_timers",
    "notice_outbox",
    "rescue_dispatches",
    "alembic_version",
    "schema_compat",
    "incident_faults",
    "maintenance_contracts",
    "work_orders",
    "work_order_events",
    "work_order_timers",
    "maintenance_notices",
    "maintenance_records",
    "maintenance_attachments",
    "inspections",
    "inspection_nonconformities",
    "inspection_self_tests",
    "service_state_changes",
    "maintenance_flags",
    "hazards",
    "hazard_events",
    "hazard_evidence",
    "hazard_timers",
    "hazard_notices",
    "risk_scores",
    "rating_periods",
    "unit_ratings",
    "complaints",
    "complaint_events",
    "complaint_timers",
    "complaint_notices",
    "insurance_policies",
    "insurance_premium_factors",
    "cost_entries",
    "cost_publications",
    "hazard_fund_requests",
    "hazard_fund_payments",
    "safety_assessments",
    "three_no_measures",
    "analytics_months",
    "analytics_cells",
    "parts",
    "recalls",
    "recall_items",
    "certificates",
    "trainings",
    "drills",
    "retired_rescue_codes",
    "applications",
    "application_reviews",
    "application_timers",
    "application_events",
}


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    with fresh_pg_database("liftwatch_mig") as url:
        yield url


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        # schema_compat describes the schema (written by migrations, no model): env.py leaves it out too
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": lambda name, kind, _: name != COMPAT_TABLE}
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return list(diff)


def _upgrade_with_cli(url: str) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_db_upgrade_creates_the_schema_on_empty_postgres(empty_pg_url: str) -> None:
    engine = make_engine(empty_pg_url)
    assert inspect(engine).get_table_names() == []
    _upgrade_with_cli(empty_pg_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()
    assert _diff(empty_pg_url) == [], "models and migrations differ on PostgreSQL"
    _upgrade_with_cli(empty_pg_url)  # a second run is a no-op


def test_db_upgrade_creates_the_schema_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _upgrade_with_cli(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()
    assert _diff(url) == [], "models and migrations differ on SQLite"


def test_diff_detects_a_drifted_model(tmp_path: Path) -> None:
    """The comparison above can fail: a table missing from the database is reported."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    _upgrade_with_cli(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE users"))
    engine.dispose()
    assert any(op[0] == "add_table" for op in _diff(url) if isinstance(op, tuple))


def test_the_migrations_ship_inside_the_package_as_one_chain() -> None:
    """An installed wheel has no repository around it: the migrations live in the package, and every file
    in versions/ is a revision of one unbranched chain (tests/integration/test_wheel.py checks the wheel)."""
    assert SCRIPT_LOCATION.is_relative_to(Path(liftwatch.__file__).parent)
    files = sorted(p.stem for p in (SCRIPT_LOCATION / "versions").glob("*.py"))
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = list(script.walk_revisions())  # newest first, following down_revision
    assert len(script.get_heads()) == 1
    assert len(revisions) == len(files), "a file in versions/ is not a revision of the chain"
    assert sorted(Path(r.path).stem for r in revisions) == files


def _carry_over_db(url: str) -> None:
    """An incident of the old schema (0009): dispatched to A1 (L1) at 10:00, which acknowledged at 10:02;
    escalated at 10:30 to RS1 (L2), which the old code made the only crew; RS1 arrived at 10:40."""
    from liftwatch.core.migrate import upgrade

    upgrade(url, "0009")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO crews (id, unit, name, phone, username, latitude, longitude, position_at, "
                "on_shift) VALUES ('A1', 'MU-A', 'a', '', 'crew_a1', 31.2, 121.4, :at, :t), "
                "('RS1', 'RS-1', 'rs', '', 'crew_rs', 31.2, 121.4, :at, :t)"
            ),
            {"t": True, "at": "2026-03-01 10:00:00+00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO incidents (id, registration_code, source, status, level, caller_name, "
                "callback_phone, notes, maintenance_unit, responder_unit, crew_id, arrival_limit_min, "
                "alarm_at, dispatched_at, acknowledged_at, arrived_at, all_released, cause_detail, "
                "created_at, updated_at) VALUES (1, '11SHA000001', 'phone', 'arrived', 'L2', '', '', '', "
                "'MU-A', 'RS-1', 'RS1', 30, '2026-03-01 10:00:00+00:00', '2026-03-01 10:30:00+00:00', "
                "'2026-03-01 10:40:00+00:00', '2026-03-01 10:40:00+00:00', :f, '', "
                "'2026-03-01 10:00:00+00:00', '2026-03-01 10:40:00+00:00')"
            ),
            {"f": False},
        )
        for n, (at, actor, kind, details) in enumerate(
            [
                ("10:00", "operator", "raised", "{}"),
                ("10:00", "system", "dispatched", '{"level": "L1", "crew": "A1", "eta_s": 400}'),
                ("10:02", "crew_a1", "acknowledged", "{}"),
                ("10:30", "scheduler", "escalated", '{"to": "L2"}'),
                ("10:30", "scheduler", "dispatched", '{"level": "L2", "crew": "RS1", "eta_s": 500}'),
                ("10:40", "crew_rs", "arrived", "{}"),
            ],
            start=1,
        ):
            conn.execute(
                text(
                    "INSERT INTO incident_events (id, incident_id, at, actor, kind, details) "
                    f"VALUES ({n}, 1, '2026-03-01 {at}:00+00:00', :actor, :kind, :details)"
                ),
                {"actor": actor, "kind": kind, "details": details},
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT level, unit, crew_id, dispatched_at, acknowledged_at, arrived_at, withdrawn_at, "
                "withdraw_reason FROM rescue_dispatches WHERE incident_id = 1 ORDER BY id"
            )
        ).all()
        inc = conn.execute(text("SELECT dispatched_at, acknowledged_at, arrived_at FROM incidents")).one()
    engine.dispose()

    def hm(value: object) -> str | None:
        return None if value is None else str(value)[11:16]

    assert [(r[0], r[1], r[2], *map(hm, r[3:7]), r[7]) for r in rows] == [
        ("L1", "MU-A", "A1", "10:00", "10:02", None, "10:30", "escalated"),
        ("L2", "RS-1", "RS1", "10:30", None, "10:40", None, ""),
    ]
    # the incident's stage times are now the first dispatch, acknowledgement and arrival
    assert [hm(v) for v in inc] == ["10:00", "10:02", "10:40"]
    assert _diff(url) == []


def test_0010_carries_the_dispatches_over_on_sqlite(tmp_path: Path) -> None:
    _carry_over_db(f"sqlite:///{tmp_path / 'carry.db'}")


@pytest.mark.postgres
def test_0010_carries_the_dispatches_over_on_postgres(empty_pg_url: str) -> None:
    _carry_over_db(empty_pg_url)


def _records_compatibility(url: str) -> None:
    """A database of the release before rolling upgrades (0010) gains schema_compat at 0011: every earlier
    revision recorded as a contract (only its own code ran against it), and 0011 itself by env.py, as each
    later migration will be (docs/OPERATIONS.md, "Upgrades")."""
    from liftwatch.core.migrate import COMPAT_SINCE, compat_table, declared_oldest_reader, upgrade

    upgrade(url, "0010")
    engine = make_engine(url)
    assert COMPAT_TABLE not in inspect(engine).get_table_names()
    upgrade(url)
    with engine.connect() as conn:
        rows = {r.revision: (r.down_revision, r.oldest_reader) for r in conn.execute(compat_table.select())}
    engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    expected = {
        rev.revision: (rev.down_revision, declared_oldest_reader(script.revision_map, rev.revision))
        for rev in script.walk_revisions()
    }
    assert rows == expected
    assert rows["0001"] == (None, "0001") and rows[COMPAT_SINCE] == ("0010", COMPAT_SINCE)


def test_0011_records_each_revisions_oldest_reader_on_sqlite(tmp_path: Path) -> None:
    _records_compatibility(f"sqlite:///{tmp_path / 'compat.db'}")


@pytest.mark.postgres
def test_0011_records_each_revisions_oldest_reader_on_postgres(empty_pg_url: str) -> None:
    _records_compatibility(empty_pg_url)


def _fills_incident_faults(url: str) -> None:
    """0012 (an expand migration) fills incident_faults from what 0011 kept: the fault that opened an
    incident (incidents.fault_id) and the faults its "joined" events name, so a fault that joined before
    the upgrade is recognised when it comes again after it."""
    from liftwatch.core.migrate import upgrade

    upgrade(url, "0011")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (id, registration_code, source, status, level, caller_name, "
                "callback_phone, notes, fault_id, maintenance_unit, responder_unit, arrival_limit_min, "
                "alarm_at, all_released, cause_detail, close_reason, created_at, updated_at) VALUES "
                "(1, '11SHA000001', 'iot', 'raised', 'L1', '', '', '', 'f-open', 'MU-A', '', 30, "
                "'2026-03-01 10:00:00+00:00', :f, '', '', '2026-03-01 10:00:00+00:00', "
                "'2026-03-01 10:00:00+00:00')"
            ),
            {"f": False},
        )
        for n, (kind, details) in enumerate(
            [("raised", "{}"), ("joined", '{"fault_id": "f-join"}'), ("joined", '{"fault_id": null}')],
            start=1,
        ):
            conn.execute(
                text(
                    "INSERT INTO incident_events (id, incident_id, at, actor, kind, details) "
                    f"VALUES ({n}, 1, '2026-03-01 10:0{n}:00+00:00', 'system', :kind, :details)"
                ),
                {"kind": kind, "details": details},
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT fault_id, incident_id, at FROM incident_faults ORDER BY at")).all()
        compat = conn.execute(text("SELECT oldest_reader FROM schema_compat WHERE revision = '0012'")).one()
    engine.dispose()
    assert [(r[0], r[1], str(r[2])[11:16]) for r in rows] == [("f-open", 1, "10:00"), ("f-join", 1, "10:02")]
    assert compat == ("0011",)  # expand: the release before keeps running against it
    assert _diff(url) == []


def test_0012_fills_the_incident_faults_on_sqlite(tmp_path: Path) -> None:
    _fills_incident_faults(f"sqlite:///{tmp_path / 'faults.db'}")


@pytest.mark.postgres
def test_0012_fills_the_incident_faults_on_postgres(empty_pg_url: str) -> None:
    _fills_incident_faults(empty_pg_url)
