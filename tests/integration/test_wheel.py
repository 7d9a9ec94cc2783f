"""The installable package: a wheel built from this checkout, installed (not editable) into a new virtual
environment, migrates a new SQLite file and serves every page with its scripts and styles.

The wheel is built without build isolation (setuptools and Babel come from the dev lock) and its
dependencies are installed by uv with requirements.lock as constraints, so a warm uv cache makes this a
matter of seconds. Everything runs with the working directory outside the checkout and without PYTHONPATH,
so nothing can be imported from src/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "liftwatch"
PASSWORD = "wheel-Test-pass-4821"
# every page whose template adds its own scripts or styles, besides the login page
PAGES = ["/elevators", "/units", "/monitor", "/console", "/admin/api-keys"]


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI must be able to build and install the wheel)")
    pytest.skip(what)


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path  # the working directory: outside the checkout
    env: dict[str, str]

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel, make a new virtual environment and install the wheel and its dependencies."""
    if not (ROOT / "node_modules" / "htmx.org").is_dir():
        _missing("node_modules missing: run `make setup` (npm ci) before building the wheel")
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        _missing("uv not found (it is in the dev dependencies: run `make setup`)")
    assert uv is not None
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, ROOT],
        ROOT,
    )
    (wheel,) = dist.glob("liftwatch-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp)
    _run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            venv / "bin" / "python",
            "-c",
            ROOT / "requirements.lock",
            wheel,
        ],
        tmp,
    )
    work = tmp / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFTWATCH_", "PYTHON", "VIRTUAL_ENV"))}
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "LIFTWATCH_VAR_DIR": str(work / "var"),
        "LIFTWATCH_SECRET_KEY": "wheel-test-" + "k" * 40,
    }
    return Installed(wheel=wheel, venv=venv, work=work, env=env)


def test_the_wheel_carries_every_migration_the_front_end_and_the_catalogues(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    versions = sorted(p.name for p in (PACKAGE / "migrations" / "versions").glob("*.py"))
    assert versions, "no migrations found in src/liftwatch/migrations/versions"
    for name in versions:
        assert f"liftwatch/migrations/versions/{name}" in names
    assert {"liftwatch/migrations/env.py", "liftwatch/migrations/script.py.mako"} <= names
    vendor = {n for n in names if n.startswith("liftwatch/web/static/vendor/")}
    assert {
        "liftwatch/web/static/vendor/htmx.min.js",
        "liftwatch/web/static/vendor/leaflet/leaflet.js",
        "liftwatch/web/static/vendor/leaflet/leaflet.css",
        "liftwatch/web/static/vendor/leaflet/images/marker-icon.png",
    } <= vendor
    assert not any(n.endswith(".map") or "node_modules" in n for n in names)
    for po in PACKAGE.glob("locale/**/*.po"):
        assert f"liftwatch/{po.relative_to(PACKAGE).with_suffix('.mo').as_posix()}" in names
    assert not any(n.startswith(("tests/", "src/")) for n in names)
    # the compiled detector (setup.py), beside its source, and not the C file Cython wrote
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    assert {f"liftwatch/telemetry/detector{suffix}", "liftwatch/telemetry/detector.py"} <= names
    assert "liftwatch/telemetry/detector.c" not in names


def test_the_installed_wheel_runs_the_compiled_detector(installed: Installed) -> None:
    code = "import liftwatch.telemetry.detector as d; print(d.__file__)"
    out = subprocess.run(
        [installed.bin("python"), "-c", code],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().endswith(sysconfig.get_config_var("EXT_SUFFIX")), out.stdout


class _Assets(HTMLParser):
    """The ``<script src>`` and ``<link rel="stylesheet" href>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(str(a["src"]))
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.urls.append(str(a["href"]))


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_assets_parser_finds_scripts_and_styles() -> None:
    html = (
        '<link rel="stylesheet" href="/a.css"><link rel="icon" href="/i.png">'
        '<script src="/b.js" defer></script><script>inline()</script>'
    )
    assert _assets(html) == ["/a.css", "/b.js"]


@dataclass(frozen=True)
class Server:
    url: str
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def server(installed: Installed) -> Iterator[Server]:
    """``liftwatch serve`` from the new environment over a new, migrated SQLite file."""
    liftwatch = installed.bin("liftwatch")
    _run([liftwatch, "db", "upgrade"], installed.work, installed.env)
    assert (installed.work / "var" / "liftwatch.db").is_file()
    create: list[str | Path] = [liftwatch, "users", "create", "--username", "wheeladmin", "--role", "admin"]
    _run([*create, "--password", PASSWORD], installed.work, installed.env)
    port = free_port()
    log = installed.work / "serve.log"
    with log.open("wb") as out_file:
        proc = subprocess.Popen(
            [str(liftwatch), "serve", "--port", str(port)],
            cwd=installed.work,
            env=installed.env,
            stdout=out_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"liftwatch serve did not become ready:\n{log.read_text()[-4000:]}")
            time.sleep(0.1)
        yield Server(base, log)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_installed_wheel_migrates_serves_and_every_page_loads_its_assets(
    installed: Installed, server: Server
) -> None:
    where = _run(
        [
            installed.bin("python"),
            "-c",
            "import liftwatch.core.migrate as m; print(m.__file__, m.SCRIPT_LOCATION)",
        ],
        installed.work,
        installed.env,
    )
    site = installed.venv / "lib"
    for path in where.split():
        assert Path(path).is_relative_to(site), f"{path} is not inside the new environment"

    with httpx.Client(base_url=server.url, timeout=10) as client:
        login = client.get("/login")
        assert login.status_code == 200
        urls = set(_assets(login.text))
        match = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert match, "the login form has no CSRF token"
        signed_in = client.post(
            "/login",
            data={
                "username": "wheeladmin",
                "password": PASSWORD,
                "csrf_token": match[1],
                "next": "/elevators",
            },
            headers={"Origin": server.url},
        )
        assert signed_in.status_code == 303, signed_in.text[:500]
        for page in PAGES:
            r = client.get(page)
            assert r.status_code == 200, f"{page}: {r.status_code}\n{server.log_tail()}"
            urls |= set(_assets(r.text))
        assert {"/static/vendor/htmx.min.js", "/static/vendor/leaflet/leaflet.js"} <= urls
        for url in sorted(urls):
            r = client.get(url)
            assert r.status_code == 200, f"{url}: {r.status_code}"
            assert r.content, f"{url} is empty"
        # Leaflet's stylesheet names its images relative to itself
        for image in ("layers.png", "marker-icon.png"):
            assert client.get(f"/static/vendor/leaflet/images/{image}").status_code == 200
