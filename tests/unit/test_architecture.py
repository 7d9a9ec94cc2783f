"""The house keeps its plan: the import contracts in pyproject.toml hold, and they catch a new violation.

`make lint` and `make test` run `lint-imports` too; these tests show that the contracts are not a formality:
a copy of the package with one forbidden import added fails them, naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    out = _lint(ROOT, ROOT / "src")
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_detector_imports_only_its_own_pure_modules_and_msgspec() -> None:
    """Stricter than the forbidden list in the contracts: everything the detector reaches, directly or not,
    is one of its own pure modules, msgspec, Cython's type declarations (``cython``: read by the compiler,
    no-ops when the module runs uncompiled) or the standard library."""
    import grimp

    graph = grimp.build_graph("liftwatch", include_external_packages=True)
    reached = graph.find_upstream_modules("liftwatch.telemetry.detector")
    ours = {m for m in reached if m.startswith("liftwatch.")}
    assert ours <= {"liftwatch.telemetry.faults", "liftwatch.telemetry.protocol", "liftwatch.telemetry"}, ours
    external = {m.split(".")[0] for m in reached if not m.startswith("liftwatch")}
    assert external - set(sys.stdlib_module_names) <= {"msgspec", "cython"}, external


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        # core knows no domain's words
        (
            "core/clock.py",
            "from liftwatch.registry.domain import UnitType",
            "liftwatch.core is not allowed to import liftwatch.registry",
        ),
        # the registry never imports telemetry or rescue
        (
            "registry/service.py",
            "from liftwatch.rescue import domain",
            "liftwatch.registry is not allowed to import liftwatch.rescue",
        ),
        # no domain imports the web
        (
            "telemetry/service.py",
            "import liftwatch.web.templating",
            "liftwatch.telemetry is not allowed to import liftwatch.web",
        ),
        # the web reaches a domain through its service, never its tables
        (
            "web/registry.py",
            "from liftwatch.registry.models import Elevator",
            "Illegal imports of protected package liftwatch.registry.models",
        ),
        # the detector stays pure
        (
            "telemetry/detector.py",
            "import sqlalchemy",
            "liftwatch.telemetry.detector is not allowed to import sqlalchemy",
        ),
    ],
)
def test_a_forbidden_import_breaks_the_contracts(
    tmp_path: Path, module: str, line: str, expected: str
) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "liftwatch", src / "liftwatch", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = src / "liftwatch" / module
    text = target.read_text(encoding="utf-8")
    # after the module's docstring and `from __future__`, so the file still parses
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(
        head + sep + line + "  # noqa\n" + rest if sep else line + "\n" + text, encoding="utf-8"
    )

    out = _lint(tmp_path, src)

    assert out.returncode != 0, out.stdout
    assert expected in " ".join(out.stdout.split()), out.stdout
