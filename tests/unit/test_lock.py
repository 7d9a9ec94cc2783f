"""requirements.lock (what `make setup` installs, hash-checked) agrees with pyproject.toml.

pyproject pins our direct dependencies; the lock adds every transitive one with its hashes. A pin changed in
pyproject without `make lock` would make `make setup` install the old version (or fail the hash check):
this test names the dependency instead.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def parse_lock(text: str) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for each entry of a `uv pip compile --generate-hashes` file."""
    entries: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in text.splitlines():
        if match := ENTRY.match(line):
            current = canonicalize_name(match["name"])
            entries[current] = (match["version"], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
        elif not line.startswith((" ", "#")):
            current = None
    return entries


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _pins() -> list[Requirement]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    deps = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(d) for d in deps]


def test_parse_lock_reads_versions_and_hashes() -> None:
    text = (
        "# header\n"
        "Foo_Bar==1.2 ; sys_platform == 'win32' \\\n"
        "    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n"
        "    # via x\n"
        "baz==3.0 \\\n"
        "    --hash=sha256:cc\n"
    )
    assert parse_lock(text) == {"foo-bar": ("1.2", 2), "baz": ("3.0", 1)}


def test_the_lock_pins_what_pyproject_pins_and_hashes_everything() -> None:
    lock = parse_lock((ROOT / "requirements.lock").read_text())
    assert lock, "requirements.lock has no entries"
    unhashed = sorted(name for name, (_, hashes) in lock.items() if hashes == 0)
    assert not unhashed, f"entries without hashes (run `make lock`): {unhashed}"
    stale = []
    for req in _pins():
        (spec,) = req.specifier  # pyproject pins each dependency exactly
        assert spec.operator == "==", f"{req} is not pinned with =="
        have = lock.get(canonicalize_name(req.name), ("missing", 0))[0]
        if have != spec.version:
            stale.append(f"{req.name}: pyproject {spec.version}, lock {have}")
    assert not stale, "requirements.lock is stale (run `make lock`): " + "; ".join(stale)


def test_the_lock_can_build_the_package_without_isolation() -> None:
    """`make setup` and the wheel test build without build isolation, from the locked packages."""
    lock = parse_lock((ROOT / "requirements.lock").read_text())
    build_system = _pyproject()["build-system"]
    assert isinstance(build_system, dict)
    for text in build_system["requires"]:
        req = Requirement(text)
        version = lock.get(canonicalize_name(req.name))
        assert version is not None, f"build requirement {req.name} is not in the lock"
        assert Version(version[0]) in req.specifier, f"locked {req.name} {version[0]} does not satisfy {req}"
