"""Every setting in one generated table, and the copy in docs/OPERATIONS.md kept equal to it; every
settings group reads the same .env file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

import liftwatch
from liftwatch.cli import app as cli
from liftwatch.cli import settings_groups
from liftwatch.core import settings_table
from liftwatch.core.config import Settings
from liftwatch.rescue.service import RescueSettings
from liftwatch.telemetry.service import detector_settings_from_env

ROOT = Path(__file__).resolve().parents[3]
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"
PACKAGE = Path(liftwatch.__file__).parent


def _rows() -> dict[str, settings_table.Row]:
    return {row.env: row for group in settings_groups() for row in group.rows}


def test_the_operations_table_is_the_generated_one() -> None:
    documented = settings_table.between_markers(OPERATIONS.read_text())
    assert documented is not None, f"{OPERATIONS} lacks {settings_table.BEGIN} ... {settings_table.END}"
    assert documented == settings_table.markdown(settings_groups()), (
        "docs/OPERATIONS.md's settings table is out of date: run "
        "`liftwatch settings --update docs/OPERATIONS.md` and commit the result"
    )


def test_every_settings_class_of_the_package_is_in_the_table() -> None:
    """A new BaseSettings class anywhere in the package must be added to cli.settings_groups."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and b.id == "BaseSettings")
                or (isinstance(b, ast.Attribute) and b.attr == "BaseSettings")
                for b in node.bases
            ):
                found.add(node.name)
    assert found == {"Settings", "RescueSettings"}, (
        "add the new settings class to liftwatch.cli.settings_groups"
    )
    prefixes = {row.env.rsplit("_", 1)[0] for row in _rows().values()}
    assert any(p.startswith("LIFTWATCH_RESCUE_") for p in prefixes)
    assert any(p.startswith("LIFTWATCH_DETECTOR_") for p in prefixes)


def test_every_core_and_rescue_setting_is_described() -> None:
    core = {f"LIFTWATCH_{name.upper()}" for name in Settings.model_fields}
    rescue = {f"LIFTWATCH_RESCUE_{name.upper()}" for name in RescueSettings.model_fields} - {
        "LIFTWATCH_RESCUE_TIMEZONE"  # LIFTWATCH_TIMEZONE's
    }
    rows = _rows()
    assert core | rescue <= set(rows)
    assert "LIFTWATCH_RESCUE_TIMEZONE" not in rows
    undescribed = sorted(env for env in core | rescue if not rows[env].description)
    assert not undescribed, f"add Field(description=...) to {undescribed}"
    for named in ("ARCHIVE", "MAP_TILE_URL", "SIMULATE_FAULT_SCALE", "PAGE_SIZE_MAX", "SECRET_KEY"):
        assert rows[f"LIFTWATCH_{named}"].description


def test_defaults_are_written_as_in_the_environment() -> None:
    rows = _rows()
    assert rows["LIFTWATCH_VAR_DIR"].default == "var"
    assert rows["LIFTWATCH_PIPELINE"].default == "true"
    assert rows["LIFTWATCH_COOKIE_SECURE"].default == "false"
    assert rows["LIFTWATCH_DATABASE_URL"].default == ""
    assert rows["LIFTWATCH_TOKEN_MINUTES"].default == "720"
    assert rows["LIFTWATCH_RESCUE_ACK_LIMIT_S"].default == "300"
    assert rows["LIFTWATCH_RESCUE_OTHER_DISTRICTS"].default == ""
    assert rows["LIFTWATCH_DETECTOR_ENTRAPMENT_OUTSIDE_ZONE_MS"].default == "30000"
    assert rows["LIFTWATCH_DETECTOR_ENTRAPMENT_OUTSIDE_ZONE_MS"].description == "困人 outside the door zone"


def test_markdown_cells_escape_pipes() -> None:
    group = settings_table.Group("G", (settings_table.Row("LIFTWATCH_X", "", "a | b"),))
    assert settings_table.markdown([group]) == (
        "**G**\n\n| variable | default | meaning |\n|---|---|---|\n| `LIFTWATCH_X` | empty | a \\| b |\n"
    )


def test_the_command_prints_and_updates_the_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["settings", "--markdown"])
    assert result.exit_code == 0
    assert result.stdout == settings_table.markdown(settings_groups())
    plain = CliRunner().invoke(cli, ["settings"])
    assert plain.exit_code == 0 and "LIFTWATCH_SECRET_KEY=\n" in plain.stdout
    doc = tmp_path / "OPS.md"
    doc.write_text(f"# Ops\nbefore\n{settings_table.BEGIN}\nold table\n{settings_table.END}\nafter\n")
    assert CliRunner().invoke(cli, ["settings", "--update", str(doc)]).exit_code == 0
    text = doc.read_text()
    assert "old table" not in text and text.startswith("# Ops\nbefore\n") and text.endswith("after\n")
    assert settings_table.between_markers(text) == settings_table.markdown(settings_groups())
    (tmp_path / "plain.md").write_text("no markers\n")
    assert CliRunner().invoke(cli, ["settings", "--update", str(tmp_path / "plain.md")]).exit_code == 1


def test_every_settings_group_reads_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "LIFTWATCH_TOKEN_MINUTES=15\n"
        "LIFTWATCH_RESCUE_ACK_LIMIT_S=120\n"
        "LIFTWATCH_DETECTOR_CONFIRM_MS=2500\n"
        "LIFTWATCH_DETECTOR_GAP_WAIT_MS=1500\n"
    )
    monkeypatch.chdir(tmp_path)
    for name in ("LIFTWATCH_TOKEN_MINUTES", "LIFTWATCH_RESCUE_ACK_LIMIT_S", "LIFTWATCH_DETECTOR_CONFIRM_MS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIFTWATCH_DETECTOR_GAP_WAIT_MS", "900")  # the environment wins over the file
    settings = Settings()
    assert settings.token_minutes == 15
    assert RescueSettings.for_city(settings).ack_limit_s == 120
    detector = detector_settings_from_env()
    assert detector.confirm_ms == 2500
    assert detector.gap_wait_ms == 900


def test_a_bad_detector_value_in_the_env_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("LIFTWATCH_DETECTOR_CONFIRM_MS=-5\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIFTWATCH_DETECTOR_CONFIRM_MS", raising=False)
    with pytest.raises(ValueError, match="LIFTWATCH_DETECTOR_CONFIRM_MS='-5'"):
        detector_settings_from_env()
