"""Retention: old resolved faults, dead letters and archive days go; open faults, faults an incident names,
newer rows and the elevator file stay; a dry run removes nothing; 0 days keeps forever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings, archive_dir, get_settings
from liftwatch.core.db import make_session_factory
from liftwatch.rescue.models import Incident
from liftwatch.telemetry import retention
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import SEVERITY, FaultChange, FaultType
from liftwatch.telemetry.models import DeadLetter, Fault
from tests.factories import seed

CODE = "11SHA000001"


def _fault(session: Session, fault_id: str, started: datetime, cleared: datetime | None) -> None:
    session.add(
        Fault(
            fault_id=fault_id,
            registration_code=CODE,
            fault_type="entrapment",
            severity="critical",
            started_at=started,
            raised_at=started,
            cleared_at=cleared,
            evidence=[],
            clear_evidence=[],
            detail={},
        )
    )


def _letter(session: Session, received: datetime) -> None:
    session.add(
        DeadLetter(received_at=received, source="mqtt", topic="t", reason="bad_json", detail="", payload=b"x")
    )


def _incident(session: Session, fault_id: str, at: datetime) -> None:
    session.add(
        Incident(
            registration_code=CODE,
            source="iot",
            status="completed",
            level="L1",
            fault_id=fault_id,
            arrival_limit_min=30,
            alarm_at=at,
            created_at=at,
            updated_at=at,
        )
    )


def _seed(session: Session, now: datetime) -> None:
    old = now - timedelta(days=400)
    _fault(session, "old-cleared", old, old + timedelta(hours=1))
    _fault(session, "old-cleared-2", old, old + timedelta(hours=2))
    _fault(session, "old-open", old, None)
    _fault(session, "old-incident", old, old + timedelta(hours=1))
    _fault(session, "new-cleared", now - timedelta(days=10), now - timedelta(days=9))
    _incident(session, "old-incident", old)
    _letter(session, now - timedelta(days=100))
    _letter(session, now - timedelta(days=95))
    _letter(session, now - timedelta(days=5))
    session.commit()


def _archive(root: Path, today: datetime, ages: list[int]) -> None:
    for age in ages:
        part = root / f"date={(today - timedelta(days=age)).date().isoformat()}"
        part.mkdir(parents=True)
        (part / "1-10.parquet").write_bytes(b"PAR1")
    (root / "notes").mkdir(parents=True, exist_ok=True)  # not a day folder: never touched


def _keep(session: Session) -> retention.KeepIds:
    return select(Incident.fault_id).where(Incident.fault_id.is_not(None))


def _fault_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Fault.fault_id)))


def _settings(tmp_path: Path, archive: int, faults: int, letters: int) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        retain_archive_days=archive,
        retain_faults_days=faults,
        retain_dead_letters_days=letters,
    )


def test_prune_removes_only_what_is_old_and_unreferenced(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    now = clock.now()
    _seed(session, now)
    settings = _settings(tmp_path, archive=30, faults=365, letters=90)
    root = archive_dir(settings)
    _archive(root, now, [0, 29, 30, 31, 200])

    report = retention.prune(session, clock, settings, dry_run=False, keep_fault_ids=_keep(session), batch=1)

    assert report.faults == 2
    assert _fault_ids(session) == {"old-open", "old-incident", "new-cleared"}
    assert report.dead_letters == 2
    assert session.scalar(select(func.count()).select_from(DeadLetter)) == 1
    day = lambda age: f"date={(now - timedelta(days=age)).date().isoformat()}"  # noqa: E731
    assert report.archive_partitions == [day(200), day(31)]
    assert sorted(p.name for p in root.iterdir()) == sorted([day(0), day(29), day(30), "notes"])
    assert any("removed 2 resolved faults" in line for line in report.lines())


def test_dry_run_removes_nothing(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    now = clock.now()
    _seed(session, now)
    settings = _settings(tmp_path, archive=30, faults=365, letters=90)
    root = archive_dir(settings)
    _archive(root, now, [0, 31])

    report = retention.prune(session, clock, settings, dry_run=True, keep_fault_ids=_keep(session))

    assert (report.faults, report.dead_letters, len(report.archive_partitions or [])) == (2, 2, 1)
    assert len(_fault_ids(session)) == 5
    assert session.scalar(select(func.count()).select_from(DeadLetter)) == 3
    assert len(list(root.iterdir())) == 3
    assert any("would remove 2 resolved faults" in line for line in report.lines())


def test_zero_keeps_forever_and_only_limits(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    now = clock.now()
    _seed(session, now)
    settings = _settings(tmp_path, archive=0, faults=0, letters=90)
    root = archive_dir(settings)
    _archive(root, now, [3000])

    report = retention.prune(session, clock, settings, dry_run=False, only="faults")
    assert (report.archive_partitions, report.faults, report.dead_letters) == (None, None, None)

    report = retention.prune(session, clock, settings, dry_run=False)
    assert (report.archive_partitions, report.faults, report.dead_letters) == (None, None, 2)
    assert len(_fault_ids(session)) == 5
    assert len(list(root.iterdir())) == 2


def test_without_keep_list_an_incident_fault_would_go(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """The keep list is what protects incident-linked faults (the command always passes it)."""
    _seed(session, clock.now())
    n = retention.prune_faults(session, clock.now() - timedelta(days=365), dry_run=False)
    assert n == 3
    assert _fault_ids(session) == {"old-open", "new-cleared"}


def test_the_elevator_file_keeps_a_pruned_fault(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    """A fault stored the real way (with its elevator-file entries) goes; its file entries stay."""
    seed(session, clock)
    started = int((clock.now() - timedelta(days=400)).timestamp() * 1000)
    sev = SEVERITY[FaultType.DOOR_CLOSE_FAILURE]
    telemetry.apply_fault_changes(
        session,
        [
            FaultChange(CODE, FaultType.DOOR_CLOSE_FAILURE, True, started, started, sev, ("m1",)),
            FaultChange(CODE, FaultType.DOOR_CLOSE_FAILURE, False, started + 60_000, started, sev, ("m2",)),
        ],
    )
    session.commit()
    entries = "SELECT count(*) FROM elevator_events WHERE summary = 'door_close_failure'"
    before = session.scalar(text(entries))
    assert before == 2

    report = retention.prune(session, clock, _settings(tmp_path, 0, 365, 0), dry_run=False)

    assert report.faults == 1
    assert _fault_ids(session) == set()
    assert session.scalar(text(entries)) == before


def test_cli_prune(sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)  # the command runs on the system clock
    with make_session_factory(sqlite_engine)() as session:
        _seed(session, now)
    var = tmp_path / "var"
    monkeypatch.setenv("LIFTWATCH_VAR_DIR", str(var))
    monkeypatch.setenv("LIFTWATCH_RETAIN_ARCHIVE_DAYS", "30")
    monkeypatch.setenv("LIFTWATCH_RETAIN_FAULTS_DAYS", "365")
    monkeypatch.setenv("LIFTWATCH_RETAIN_DEAD_LETTERS_DAYS", "90")
    get_settings.cache_clear()
    try:
        root = archive_dir(get_settings())
        _archive(root, now, [1, 40])
        url = str(sqlite_engine.url)
        runner = CliRunner()

        dry = runner.invoke(cli, ["prune", "--dry-run", "--database-url", url])
        assert dry.exit_code == 0, dry.output
        assert "faults: would remove 2 resolved faults" in dry.output
        assert "dead-letters: would remove 2 dead letters" in dry.output
        assert "archive: would remove 1 archive days" in dry.output

        only = runner.invoke(cli, ["prune", "--only", "dead-letters", "--database-url", url])
        assert only.exit_code == 0, only.output
        assert "dead-letters: removed 2 dead letters" in only.output
        assert len(list(root.iterdir())) == 3

        full = runner.invoke(cli, ["prune", "--database-url", url])
        assert full.exit_code == 0, full.output
        assert "faults: removed 2 resolved faults" in full.output
        assert sorted(p.name for p in root.iterdir()) == [f"date={(now - timedelta(days=1)).date()}", "notes"]
        with make_session_factory(sqlite_engine)() as session:
            assert _fault_ids(session) == {"old-open", "old-incident", "new-cleared"}

        bad = runner.invoke(cli, ["prune", "--only", "everything", "--database-url", url])
        assert bad.exit_code == 1
    finally:
        get_settings.cache_clear()
