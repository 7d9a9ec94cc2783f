"""Chaos benchmark: is any trapped person's alarm lost or doubled when the pipeline's parts die?

    .venv/bin/python bench/chaos.py [--terminals 300] [--seconds 180] [--database-url postgresql+psycopg://...]

The pipeline runs as separate processes, as in production: `liftwatch worker --role ingest`, `--role
detect` and `--role rescue`, on a NATS JetStream server of its own, the machine's PostgreSQL (a fresh
database) and a Mosquitto of its own with the generated authentication (`liftwatch.telemetry.brokerauth`:
password file and ACL; every terminal logs in as itself). A simulated city's terminals (one MQTT connection
each) report status every second and, now and then, an entrapment (controller event 11) or an alarm-button
press (QoS 1), each on an elevator of its own (so each must give exactly one 96333 incident). During the run:

    kill -9 the ingest process, restart it; kill -9 the detector, restart it; kill -9 the rescue worker,
    restart it; kill -9 NATS, restart it (its store on disk); stall the detector (SIGSTOP) for 30 s while
    the traffic goes on, sampling the ingest process's memory; freeze NATS (SIGSTOP) for 20 s, so the
    ingest process cannot publish at all: it holds at most --max-buffered messages and sheds QoS 0 status
    (never events), sampling its memory again.

Then it waits for the incidents and compares them with what the terminals sent (the truth). The last line:
{"entrapments": N, "incidents": N, "lost": 0, "doubled": 0, "ingest_peak_mb": M, ...}; ``entrapments`` counts
the injected entrapments and alarm presses, ``ingest_peak_mb`` is the ingest's peak resident memory during the
stall, ``ingest_base_mb`` the same before it (their ratio is the growth a stall costs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.nats_server import OwnNats, free_port

from liftwatch.core.clock import SystemClock
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.migrate import upgrade
from liftwatch.sim.city import generate_city
from liftwatch.telemetry.brokerauth import (
    BrokerLayout,
    ServiceAccount,
    issue_credentials,
    write_broker_config,
)
from liftwatch.telemetry.mqttwire import CONNACK, PUBACK, Parser, connect_packet, publish_packet

VENV_BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- services


def fresh_database(admin_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"liftwatch_chaos_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def start_mosquitto(conf_dir: Path, port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    conf = conf_dir / "mosquitto.conf"
    # the generated files belong to whoever runs the bench; a root broker would switch to 'mosquitto'
    conf.write_text(conf.read_text() + "user root\npersistence_location " + str(conf_dir) + "/\n")
    proc = subprocess.Popen(
        [binary, "-c", str(conf_dir / "mosquitto.conf")],
        cwd=conf_dir,  # persistence file
        stdout=subprocess.DEVNULL,
        stderr=open(conf_dir / "mosquitto.log", "wb"),  # noqa: SIM115
    )
    wait_port(port)
    return proc


def wait_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class Worker:
    """One `liftwatch worker --role ROLE` process, restartable."""

    def __init__(self, role: str, env: dict[str, str], port: int, logs: Path) -> None:
        self.role, self.env, self.port, self.logs = role, env, port, logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        args = [str(VENV_BIN / "liftwatch"), "worker", "--role", self.role, "--metrics-port", str(self.port)]
        if self.role == "ingest":
            args += ["--client-id", "chaos-ingest-1"]  # stable: a restart resumes the broker session
        self.proc = subprocess.Popen(
            args,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.logs / f"{self.role}.{self.starts}.log", "wb"),  # noqa: SIM115
        )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.proc.kill()
        self.proc.wait(10)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float = 90) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.role} exited with {self.proc.returncode}; see {self.logs}")
            if self.ready():
                return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"{self.role} not ready after {timeout} s")

    def rss_mb(self) -> float:
        assert self.proc is not None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---------------------------------------------------------------- terminals


class Terminal(asyncio.Protocol):
    """One terminal's MQTT connection: status QoS 0, events QoS 1 resent until the broker's PUBACK."""

    def __init__(self, code: str, password: str) -> None:
        self.code, self.password = code, password
        self.seq = 0
        self.transport: asyncio.Transport | None = None
        self.connected = asyncio.Event()
        self.unacked: dict[int, bytes] = {}
        self.acked: set[int] = set()
        self._pid = 0
        self.parser = Parser(lambda *_: None, self._other)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(connect_packet(self.code, 60, True, 0, username=self.code, password=self.password))

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)

    def _other(self, kind: int, body: bytes) -> None:
        if kind == CONNACK:
            if len(body) >= 2 and body[1] != 0:
                raise RuntimeError(f"terminal {self.code}: CONNACK {body[1]}")
            self.connected.set()
        elif kind == PUBACK:
            pid = struct.unpack("!H", body[:2])[0]
            if self.unacked.pop(pid, None) is not None:
                self.acked.add(pid)

    def message(self, **fields: Any) -> bytes:
        self.seq += 1
        body = {"msg_id": f"{self.code}-{self.seq}", "seq": self.seq, "ts": int(time.time() * 1000)}
        body.update(fields)
        return msgspec.json.encode(body)

    def status(self, rng: random.Random) -> None:
        payload = self.message(
            mode=1, running=rng.random() < 0.3, door_zone=True, door_closed=True, passenger=False
        )
        assert self.transport is not None
        self.transport.write(publish_packet(f"liftwatch/v1/{self.code}/status", payload))

    def event(self, code: str) -> int:
        self._pid = self._pid % 65535 + 1
        packet = publish_packet(f"liftwatch/v1/{self.code}/event", self.message(code=code), 1, self._pid)
        self.unacked[self._pid] = packet
        assert self.transport is not None
        self.transport.write(packet)
        return self._pid


async def run_city(
    port: int,
    creds: dict[str, str],
    targets: list[str],
    seconds: float,
    rate: float,
    truth: list[tuple[str, str]],
    stop: asyncio.Event,
) -> int:
    """Every terminal: ``rate`` statuses a second. ``targets``: elevators that get one entrapment or alarm
    each, spread over the run (the last 40 s are quiet, so the kills can settle)."""
    loop = asyncio.get_running_loop()
    terminals: dict[str, Terminal] = {}
    for code, password in creds.items():
        _, term = await loop.create_connection(lambda c=code, p=password: Terminal(c, p), "127.0.0.1", port)
        terminals[code] = term
    await asyncio.gather(*(t.connected.wait() for t in terminals.values()))
    log(f"{len(terminals)} terminals connected (each with its own user)")
    rng = random.Random(7)
    sent = 0
    started = loop.time()
    quiet = max(10.0, seconds - 40)
    due = [(started + 5 + i * (quiet - 5) / max(1, len(targets)), code) for i, code in enumerate(targets)]
    pending: list[tuple[str, str, Terminal, int]] = []
    codes = list(terminals)
    while loop.time() - started < seconds and not stop.is_set():
        tick = loop.time()
        for code in codes:
            terminals[code].status(rng)
            sent += 1
        while due and due[0][0] <= loop.time():
            _, code = due.pop(0)
            kind = "11" if rng.random() < 0.5 else "alarm"
            pid = terminals[code].event(kind)
            pending.append((code, kind, terminals[code], pid))
            sent += 1
        for code, kind, term, pid in list(pending):
            if pid in term.acked:  # the broker has it: it must become an incident
                truth.append((code, "entrapment" if kind == "11" else "alarm_button"))
                pending.remove((code, kind, term, pid))
        await asyncio.sleep(max(0.0, 1.0 / rate - (loop.time() - tick)))
    deadline = loop.time() + 10
    while pending and loop.time() < deadline:
        for code, kind, term, pid in list(pending):
            if pid in term.acked:
                truth.append((code, "entrapment" if kind == "11" else "alarm_button"))
                pending.remove((code, kind, term, pid))
        await asyncio.sleep(0.1)
    if pending:
        log(f"{len(pending)} events never acknowledged by the broker (not counted)")
    for term in terminals.values():
        if term.transport is not None:
            term.transport.close()
    return sent


# ---------------------------------------------------------------- the run


def metric(port: int, name: str) -> float:
    """The sum of a Prometheus metric's samples on a worker's /metrics."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            lines = r.read().decode().splitlines()
    except OSError:
        return -1.0
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name))


def incidents(url: str) -> list[tuple[str, str]]:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT registration_code, source FROM incidents")).all()
    eng.dispose()
    return [(r[0], r[1]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--terminals", type=int, default=300)
    parser.add_argument("--targets", type=int, default=120, help="entrapments and alarm presses to inject")
    parser.add_argument("--seconds", type=float, default=180.0, help="how long the terminals report")
    parser.add_argument("--rate", type=float, default=5.0, help="statuses per terminal per second")
    parser.add_argument(
        "--max-buffered", type=int, default=20_000, help="LIFTWATCH_INGEST_MAX_BUFFERED of the ingest process"
    )
    parser.add_argument("--database-admin-url", default=PG_ADMIN)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and database")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="liftwatch-chaos-"))
    url, dbname = fresh_database(args.database_admin_url)
    nats = OwnNats(work / "jetstream")
    mqtt_port = free_port()
    workers: list[Worker] = []
    broker: subprocess.Popen[bytes] | None = None
    try:
        log(f"work folder {work}, database {dbname}")
        upgrade(url)
        engine = make_engine(url)
        generate_city(engine, max(args.terminals, 500), seed=3, progress=False)
        factory = make_session_factory(engine)
        with factory() as session:
            codes = sorted(
                c
                for (c,) in session.execute(
                    text(
                        "SELECT registration_code FROM elevators WHERE iot_terminal_id <> '' "
                        "AND status = 'in_use' ORDER BY registration_code"
                    )
                )
            )[: args.terminals]
            issued = issue_credentials(session, SystemClock(), codes)
            ingest_account = ServiceAccount("chaos-ingest", uuid.uuid4().hex)
            layout = BrokerLayout(
                mqtt_ingest=ingest_account,
                group="liftwatch-ingest",
                listener_port=mqtt_port,
                listener_address="127.0.0.1",
                conf_dir=str(work / "broker"),
            )
            session.commit()
            write_broker_config(session, work / "broker", layout)
        engine.dispose()
        creds = {i.registration_code: i.password for i in issued}
        broker = start_mosquitto(work / "broker", mqtt_port)
        nats.start()
        log(f"Mosquitto (authenticated) on {mqtt_port}, NATS on {nats.port}, {len(creds)} terminals")
        env = dict(
            os.environ,
            LIFTWATCH_DATABASE_URL=url,
            LIFTWATCH_VAR_DIR=str(work / "var"),
            LIFTWATCH_BUS_URL=nats.url,
            LIFTWATCH_MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}",
            LIFTWATCH_MQTT_USERNAME=ingest_account.username,
            LIFTWATCH_MQTT_PASSWORD=ingest_account.password,
            LIFTWATCH_PARTITIONS="4",
            LIFTWATCH_ARCHIVE="false",
            LIFTWATCH_RESCUE_SURGE_THRESHOLD="100000",
            LIFTWATCH_INGEST_MAX_BUFFERED=str(args.max_buffered),
        )
        ingest = Worker("ingest", env, free_port(), work)
        detect = Worker("detect", env, free_port(), work)
        rescue = Worker("rescue", env, free_port(), work)
        workers = [ingest, detect, rescue]
        for w in workers:
            w.start()
        for w in workers:
            log(f"{w.role} ready in {w.wait_ready():.1f} s")

        rng = random.Random(11)
        targets = rng.sample(list(creds), min(args.targets, len(creds)))
        truth: list[tuple[str, str]] = []
        figures: dict[str, float] = {}

        async def chaos(stop: asyncio.Event) -> None:
            s = args.seconds

            async def at(t: float) -> None:
                await asyncio.sleep(max(0.0, t - (loop.time() - t0)))

            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for when, w in ((0.12 * s, ingest), (0.24 * s, detect), (0.36 * s, rescue)):
                await at(when)
                log(f"kill -9 {w.role}")
                w.kill9()
                await asyncio.sleep(3)
                w.start()
                log(f"{w.role} restarted, ready in {await asyncio.to_thread(w.wait_ready):.1f} s")
            await at(0.45 * s)
            log("kill -9 NATS")
            await asyncio.to_thread(nats.kill)
            await asyncio.sleep(3)
            await asyncio.to_thread(nats.start)
            log("NATS restarted")
            await at(0.55 * s)
            base = max(ingest.rss_mb() for _ in range(3))
            log(f"stalling the detector for 30 s (ingest {base:.0f} MB)")
            assert detect.proc is not None
            detect.proc.send_signal(signal.SIGSTOP)
            peak = base
            stall_end = loop.time() + 30
            while loop.time() < stall_end:
                peak = max(peak, ingest.rss_mb())
                await asyncio.sleep(0.5)
            detect.proc.send_signal(signal.SIGCONT)
            figures.update(ingest_base_mb=round(base, 1), ingest_peak_mb=round(peak, 1))
            log(f"detector resumed; ingest peak {peak:.0f} MB")
            await at(0.75 * s)
            log(
                "freezing NATS for 20 s: the ingest cannot publish, holds at most --max-buffered, "
                "sheds status"
            )
            nats.freeze()
            peak = ingest.rss_mb()
            freeze_end = loop.time() + 20
            while loop.time() < freeze_end:
                peak = max(peak, ingest.rss_mb())
                await asyncio.sleep(0.5)
            nats.thaw()
            figures.update(
                ingest_peak_freeze_mb=round(peak, 1),
                shed=metric(ingest.port, "liftwatch_telemetry_shed_total"),
            )
            log(f"NATS thawed; ingest peak {peak:.0f} MB, {figures['shed']:.0f} statuses shed")

        async def run() -> int:
            stop = asyncio.Event()
            city = asyncio.create_task(
                run_city(mqtt_port, creds, targets, args.seconds, args.rate, truth, stop)
            )
            await chaos(stop)
            return await city

        sent = asyncio.run(run())
        log(f"terminals sent {sent} messages; {len(truth)} entrapments and alarms acknowledged by the broker")
        expected = {code for code, _ in truth}
        deadline = time.monotonic() + 120
        got: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            got = incidents(url)
            if expected <= {c for c, _ in got}:
                break
            time.sleep(1)
        time.sleep(5)  # anything late and doubled shows now
        got = incidents(url)
        per_code: dict[str, int] = {}
        for code, _ in got:
            per_code[code] = per_code.get(code, 0) + 1
        lost = sorted(expected - set(per_code))
        doubled = sum(n - 1 for n in per_code.values() if n > 1)
        stray = sorted(set(per_code) - expected)
        if lost:
            log(f"lost: {lost[:20]}")
        if stray:
            log(f"incidents on elevators that sent no alarm: {stray[:20]}")
        out = {
            "entrapments": len(truth),
            "incidents": len(got),
            "lost": len(lost),
            "doubled": doubled,
            "ingest_peak_mb": figures.get("ingest_peak_mb", 0.0),
            "ingest_base_mb": figures.get("ingest_base_mb", 0.0),
            "ingest_peak_freeze_mb": figures.get("ingest_peak_freeze_mb", 0.0),
            "shed": int(figures.get("shed", 0)),
            "stray": len(stray),
            "terminals": len(creds),
            "messages": sent,
        }
        print(json.dumps(out), flush=True)
        return 0 if not lost and not doubled else 1
    finally:
        for w in workers:
            w.stop()
        if broker is not None:
            broker.terminate()
            broker.wait(10)
        nats.kill()
        if not args.keep:
            drop_database(args.database_admin_url, dbname)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
