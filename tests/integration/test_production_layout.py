"""Issue 12's acceptance: the production layout on one host, started by `liftwatch supervise` with the
deployment's own Procfile (deploy/Procfile; only its ports moved to free ones), against a fresh PostgreSQL
database, a NATS and an authenticated Mosquitto of the test's own, with crews created by `liftwatch crews
add`. The simulator feeds the broker with credentials for a minute; then every process is ready, every
entrapment the simulator injected (its --truth file) that was due within the minute is an incident with a
crew dispatched, there is no clock_skew fault, the log holds each worker's start configuration, and SIGTERM
stops every worker with status 0 (the web: by the SIGTERM, after its graceful shutdown, as uvicorn ends).

The entrapment hold times are shortened for every process alike (LIFTWATCH_DETECTOR_*, as a deployment
may set them), so that entrapments injected within the minute are due within it; the simulator injects only
entrapment scenarios (`--faults entrapment`), several but not a storm (a --fault-scale the simulator is
asked for first: how many start depends on the city's hour), and the arrival limits are long, so that each
incident takes one crew of its own unit (see the environment below). About 110 s, 60 of them feeding."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from liftwatch.core.supervise import load_procfile, render_procfile
from liftwatch.sim.city import generate_city
from liftwatch.sim.telemetry import FaultRates, TelemetrySimulator, calibrate, fleet_from_database
from liftwatch.telemetry.brokerauth import mosquitto_hash
from liftwatch.telemetry.faults import DetectorSettings, FaultType
from tests.conftest import IN_CI, fresh_pg_database, require_postgres
from tests.integration.nats_server import OwnNats, free_port, require_nats_binary
from tests.waiting import wait_until

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.mqtt]
CLI = str(Path(sys.executable).parent / "liftwatch")
PROCFILE = Path(__file__).parents[2] / "deploy" / "Procfile"
INGEST_USER, INGEST_PASSWORD = "liftwatch-ingest", "ingest-pass-3b9d"
SIM_USER, SIM_PASSWORD = "simulator", "sim-pass-8c1e"
IN_ZONE_MS, OUTSIDE_ZONE_MS = 20_000, 10_000
FEED_S = 60  # the minute
ELEVATORS_PER_CREW = 14
SIM_ELEVATORS, SIM_RATE, SIM_SEED = 300, 300, 2
FAULT_SCALES = (2e6, 1e6, 5e5, 2.5e5)  # entrapments alone; real life is 1
MAX_ENTRAPMENTS = 18  # in the minute: fewer than the crews (20) and surge mode's 20 open incidents


def _mosquitto(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A Mosquitto of the test's own that takes no anonymous client: the ingest's service account and the
    simulator's account, in a password file of Mosquitto's own hashes."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        if IN_CI:
            pytest.fail("mosquitto must be installed in CI")
        pytest.skip("mosquitto not installed")
    port = free_port()
    passwd = tmp_path / "mosquitto.passwd"
    passwd.write_text(
        f"{INGEST_USER}:{mosquitto_hash(INGEST_PASSWORD)}\n{SIM_USER}:{mosquitto_hash(SIM_PASSWORD)}\n"
    )
    passwd.chmod(0o600)
    log = tmp_path / "mosquitto.log"
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"per_listener_settings false\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwd}\nmax_queued_messages 0\npersistence false\n"
        f"log_dest file {log}\nuser root\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], cwd=tmp_path)
    wait_until(lambda: proc.poll() is not None or _listening(port), 10, f"mosquitto listens on {port}")
    assert proc.poll() is None, log.read_text()[-2000:]
    return proc, port


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _ready(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _records(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _crew_posts(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(crew id, unit, latitude, longitude): crews for each maintenance unit, one per ``ELEVATORS_PER_CREW``
    of its elevators with a terminal (at least two; no crew is freed during the test, so a unit needs as
    many as it may have entrapments in the minute), standing by at elevators it maintains."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.code, e.latitude, e.longitude FROM elevators e"
                " JOIN units u ON u.id = e.maintenance_unit_id"
                " WHERE u.unit_type = 'maintenance' AND e.latitude IS NOT NULL AND e.iot_terminal_id != ''"
                " ORDER BY u.code, e.registration_code"
            )
        ).all()
    sites: dict[str, list[tuple[float, float]]] = {}
    for code, lat, lon in rows:
        sites.setdefault(code, []).append((lat, lon))
    posts = []
    for code, spots in sites.items():
        n = max(2, math.ceil(len(spots) / ELEVATORS_PER_CREW))
        for i in range(n):
            lat, lon = spots[i * len(spots) // n]
            posts.append((f"{code[-6:]}-{i + 1}", code, f"{lat:.6f}", f"{lon:.6f}"))
    return posts


def _fault_scale(url: str) -> float:
    """A --fault-scale that gives several entrapments due within the minute but not a storm (more than the
    crews, or surge mode). How many start depends on the city's hour (idle lifts at night start many
    more), so this asks the simulator itself, as the run will be (same fleet, seed, rate, thresholds), for
    a minute from now."""
    fleet = fleet_from_database(url, SIM_ELEVATORS)
    thresholds = DetectorSettings(
        entrapment_in_zone_ms=IN_ZONE_MS, entrapment_outside_zone_ms=OUTSIDE_ZONE_MS
    )
    tz = ZoneInfo("Asia/Shanghai")  # LIFTWATCH_TIMEZONE's default, which the processes run with
    start = int(time.time() * 1000) + 20_000
    only = [FaultType.ENTRAPMENT]
    traffic = calibrate(
        fleet, SIM_RATE, SIM_SEED, start, FaultRates().scaled(2e6).only(only), thresholds, tz
    ).traffic
    for scale in FAULT_SCALES:
        rates = FaultRates().scaled(scale).only(only)
        sim = TelemetrySimulator(fleet, SIM_SEED, start, rates, thresholds, traffic=traffic, tz=tz)
        sim.run(start + FEED_S * 1000)
        trapped = [r for r in sim.truth if r.fault_type is FaultType.ENTRAPMENT]
        if len(trapped) <= MAX_ENTRAPMENTS:
            return scale
    return FAULT_SCALES[-1]


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> str:
    done = subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, timeout=timeout)
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, f"liftwatch {' '.join(args)}: {output[-2000:]}"
    return output


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[str, OwnNats, int]]:
    require_postgres()
    require_nats_binary()
    nats = OwnNats(tmp_path / "js").start()
    mosquitto, mqtt_port = _mosquitto(tmp_path)
    try:
        with fresh_pg_database("liftwatch_layout") as url:
            yield url, nats, mqtt_port
    finally:
        mosquitto.terminate()
        mosquitto.wait(10)
        nats.kill()


def test_the_supervised_production_layout_end_to_end(
    services: tuple[str, OwnNats, int], tmp_path: Path
) -> None:
    url, nats, mqtt_port = services
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFTWATCH_")}
    env.update(
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(tmp_path / "var"),
        LIFTWATCH_SECRET_KEY="layout-test-secret-key-0123456789abcdef",
        LIFTWATCH_BUS_URL=nats.url,
        LIFTWATCH_MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}",
        LIFTWATCH_MQTT_USERNAME=INGEST_USER,
        LIFTWATCH_MQTT_PASSWORD=INGEST_PASSWORD,
        LIFTWATCH_LOG_FORMAT="json",
        LIFTWATCH_DETECTOR_ENTRAPMENT_IN_ZONE_MS=str(IN_ZONE_MS),
        LIFTWATCH_DETECTOR_ENTRAPMENT_OUTSIDE_ZONE_MS=str(OUTSIDE_ZONE_MS),
        # crews stand by at the unit's elevators, but the test city spans Shanghai: with the real 30 min
        # most would be predicted late and a second unit's crew sent too, so that a handful of crews
        # would not cover a minute of a city-wide fault storm
        LIFTWATCH_RESCUE_ARRIVAL_LIMIT_MIN="240",
        LIFTWATCH_RESCUE_ARRIVAL_LIMIT_OTHER_MIN="240",
        LIFTWATCH_RESCUE_SURGE_THRESHOLD="100",  # surge replanning is its own feature, not this test's
    )
    _run(["db", "upgrade"], env, tmp_path)
    engine = create_engine(url)
    generate_city(engine, elevators=300, seed=7)  # the registry, as `liftwatch city generate` seeds it

    # the deployment's Procfile, its ports moved to free ones (other tests run on this machine)
    specs = []
    for spec in load_procfile(PROCFILE):
        option = "--port" if "serve" in spec.argv else "--metrics-port"
        specs.append(spec.with_option(option, str(free_port())))
    procfile = tmp_path / "Procfile"
    procfile.write_text(render_procfile(specs))
    ports = {s.name: s.probe_port for s in specs}
    workers = [s.name for s in specs if "worker" in s.argv]
    assert len(workers) >= 4 and "web" in ports

    log = tmp_path / "supervise.log"
    with open(log, "wb") as out:
        supervisor = subprocess.Popen(
            [CLI, "supervise", "--procfile", str(procfile), "--grace", "20"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # crews of every maintenance unit, by command, while the processes start
        adding = [
            subprocess.Popen(
                [
                    CLI,
                    "crews",
                    "add",
                    "--id",
                    crew_id,
                    "--unit",
                    unit,
                    "--name",
                    crew_id,
                    "--lat",
                    lat,
                    "--lon",
                    lon,
                ],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for crew_id, unit, lat, lon in _crew_posts(engine)
        ]
        scale = _fault_scale(url)  # meanwhile, in this process
        for p in adding:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.decode()

        def all_ready() -> bool:
            assert supervisor.poll() is None, log.read_text()[-3000:]
            return all(_ready(port) == 200 for port in ports.values() if port)

        wait_until(
            all_ready,
            90,
            lambda: f"/readyz of every process: { {n: _ready(p or 0) for n, p in ports.items()} }",
        )

        # a minute of the simulator, through the broker, with credentials
        truth = tmp_path / "truth.jsonl"
        sim_args = ["simulate", "--mqtt", f"mqtt://{SIM_USER}:{SIM_PASSWORD}@127.0.0.1:{mqtt_port}"]
        sim_args += ["--elevators", str(SIM_ELEVATORS), "--rate", str(SIM_RATE), "--duration", str(FEED_S)]
        sim_args += ["--seed", str(SIM_SEED)]
        sim_args += ["--faults", "entrapment", "--fault-scale", str(scale), "--truth", str(truth)]
        sim_output = _run(sim_args, env, tmp_path, timeout=FEED_S + 60)
        # the simulator's own account: the faults it injected, up to its last message (which it names)
        said = re.search(r"faults injected up to the last message \((\S+)\): (.*)", sim_output)
        assert said, sim_output[-2000:]
        fed_until_ms = int(datetime.fromisoformat(said[1].replace("Z", "+00:00")).timestamp() * 1000)
        injected = [json.loads(line) for line in truth.read_text().splitlines()]
        entrapments = [r for r in injected if r["fault_type"] == "entrapment"]
        assert f"entrapment {len(entrapments)}" in said[2]

        def hold(r: dict[str, Any]) -> int:
            return IN_ZONE_MS if r["detail"].get("in_door_zone") else OUTSIDE_ZONE_MS

        # due within the minute: held past the rule's time (with the confirmation's margin) while fed
        due = {r["registration_code"] for r in entrapments if r["start_ms"] + hold(r) + 5_000 <= fed_until_ms}
        assert len(due) >= 3, f"the simulator injected too few entrapments to judge: {entrapments}"

        def dispatched() -> dict[str, str | None]:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT registration_code, crew_id FROM incidents")).all()
            return {code: crew for code, crew in rows if code in due}

        wait_until(
            lambda: len(dispatched()) == len(due) and all(dispatched().values()),
            45,
            lambda: f"an incident with a crew for each of {sorted(due)}: {dispatched()}",
        )
        with engine.connect() as conn:
            skew = conn.execute(text("SELECT count(*) FROM faults WHERE fault_type = 'clock_skew'")).scalar()
        engine.dispose()
        assert skew == 0
        not_ready = {n: _ready(p) for n, p in ports.items() if p and _ready(p) != 200}
        assert not not_ready, f"after the minute, not ready: {not_ready}"

        records = _records(log)
        for name in workers:  # each worker's start configuration, in JSON, with its process's name
            starts = [
                r for r in records if r.get("process") == name and str(r.get("msg")).startswith("starting")
            ]
            assert starts and "roles" in starts[0] and "database" in starts[0], f"no start line from {name}"
    finally:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
        try:
            code = supervisor.wait(timeout=40)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            for r in _records(log):  # its children have process groups of their own: none is left behind
                if (m := re.match(r"\S+ started \(pid (\d+)\)", str(r.get("msg")))) is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(int(m[1]), signal.SIGKILL)
            raise
    assert code == 0, log.read_text()[-3000:]
    records = _records(log)
    messages = [str(r.get("msg")) for r in records if r.get("logger") == "liftwatch.core.supervise"]
    for name in workers:
        assert f"{name} stopped with status 0" in messages, messages[-20:]
    # uvicorn shuts down gracefully, then ends by raising the SIGTERM again (systemd counts it clean too)
    assert "web stopped by the SIGTERM it was sent, a clean stop" in messages, messages[-20:]
    web_lines = [str(r.get("msg")) for r in records if r.get("process") == "web"]
    assert any(m.startswith("Finished server process") for m in web_lines), (
        "the web did not shut down gracefully"
    )
