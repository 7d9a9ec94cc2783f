"""One host's processes from one Procfile: ``liftwatch supervise`` runs them, and the compose file and the
systemd units are generated from the same lines, so the three never disagree about a command.

The Procfile is the Heroku/foreman format: ``name: command`` a line, ``#`` comments, leading
``VAR=value`` words setting that process's environment (as a shell would). Commands are split as a shell
splits words, but no shell runs them: no expansion, no pipes.

Pure parts (the parser, the restart policy, the line formatting, the generators) are separate from the
``Supervisor`` that spawns processes, so the rules are unit-tested without processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shlex
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


class ProcfileError(ValueError):
    """A Procfile line that cannot be run; the message names the file and line."""


@dataclass(frozen=True)
class ProcessSpec:
    """One Procfile line: the process's name, its own environment and its argument vector."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def line(self) -> str:
        """The Procfile line that gives this spec back."""
        words = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()] + [shlex.quote(a) for a in self.argv]
        return f"{self.name}: {' '.join(words)}"

    def option(self, name: str) -> str | None:
        """The value of ``--name value`` or ``--name=value`` in the command (the last one given)."""
        found = None
        for i, arg in enumerate(self.argv):
            if arg == name and i + 1 < len(self.argv):
                found = self.argv[i + 1]
            elif arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
        return found

    def with_option(self, name: str, value: str) -> ProcessSpec:
        """The same process with ``--name`` set to ``value`` (replaced where given, else appended)."""
        argv = list(self.argv)
        for i, arg in enumerate(argv):
            if arg == name and i + 1 < len(argv):
                argv[i + 1] = value
                return replace(self, argv=tuple(argv))
            if arg.startswith(name + "="):
                argv[i] = f"{name}={value}"
                return replace(self, argv=tuple(argv))
        return replace(self, argv=(*argv, name, value))

    @property
    def probe_port(self) -> int | None:
        """The port serving /healthz and /readyz: ``serve --port`` (8000) or ``worker --metrics-port``."""
        if "serve" in self.argv:
            return int(self.option("--port") or 8000)
        if "worker" in self.argv:
            port = self.option("--metrics-port")
            return int(port) if port else None
        return None


def parse_procfile(text: str, source: str = "Procfile") -> list[ProcessSpec]:
    """The processes of a Procfile, in its order. Refuses (``ProcfileError``, naming the line) a line
    without ``name:``, a bad or repeated name, an empty command, unbalanced quotes, an empty file."""
    specs: list[ProcessSpec] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        name, sep, command = line.partition(":")
        name = name.strip()
        if not sep:
            raise ProcfileError(f"{where}: expected 'name: command', got {line!r}")
        if not _NAME.match(name):
            raise ProcfileError(f"{where}: {name!r} is not a process name (letters, digits, '-', '_')")
        if name in seen:
            raise ProcfileError(f"{where}: process {name!r} is named twice")
        try:
            words = shlex.split(command, comments=True)
        except ValueError as exc:
            raise ProcfileError(f"{where}: {exc}") from None
        env: dict[str, str] = {}
        while words and (m := _ASSIGNMENT.match(words[0])):
            env[m.group(1)] = m.group(2)
            words.pop(0)
        if not words:
            raise ProcfileError(f"{where}: process {name!r} has no command")
        seen.add(name)
        specs.append(ProcessSpec(name, tuple(words), env))
    if not specs:
        raise ProcfileError(f"{source}: no processes")
    return specs


def render_procfile(specs: Sequence[ProcessSpec]) -> str:
    """A Procfile of ``specs`` (what ``parse_procfile`` reads back to the same specs)."""
    return "".join(spec.line + "\n" for spec in specs)


def resolve_argv(argv: Sequence[str], bindir: Path) -> list[str]:
    """``liftwatch`` (or ``python``) at the start of a command is the supervisor's own installation, so a
    Procfile runs the same version from a virtual environment that is not on PATH."""
    first = argv[0]
    if first in ("liftwatch", "python", "python3"):
        own = bindir / ("liftwatch" if first == "liftwatch" else Path(sys.executable).name)
        if own.exists():
            return [str(own), *argv[1:]]
    return list(argv)


# ------------------------------------------------------------------------------------- restart policy


@dataclass(frozen=True)
class RestartPolicy:
    """When a process that exited is started again.

    A non-zero exit (or death by a signal) is restarted after a backoff that doubles from ``backoff_s``
    to ``backoff_max_s`` while the runs stay shorter than ``fast_s``; a run at least that long resets it.
    ``max_fast_failures`` fast failures in a row is a crash loop: the supervisor gives up (stops the others
    and exits 1), since restarting a process that cannot start only hides the reason. An exit with status 0
    that nobody asked for is the process's own choice: it is not restarted."""

    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    fast_s: float = 10.0
    max_fast_failures: int = 5

    def decide(self, fast_failures: int, returncode: int, ran_for_s: float) -> RestartDecision:
        """What to do after an exit with ``returncode`` after ``ran_for_s``, given the fast failures in a
        row before it."""
        if returncode == 0:
            return RestartDecision("done", 0.0, 0)
        fast = fast_failures + 1 if ran_for_s < self.fast_s else 0
        if fast >= self.max_fast_failures:
            return RestartDecision("give_up", 0.0, fast)
        delay = min(self.backoff_s * 2 ** max(fast - 1, 0), self.backoff_max_s)
        return RestartDecision("restart", delay, fast)


@dataclass(frozen=True)
class RestartDecision:
    action: str  # restart, done or give_up
    delay_s: float
    fast_failures: int  # the count to carry to the next exit


def describe_exit(returncode: int) -> str:
    """``status 1`` or ``signal SIGKILL`` (asyncio's negative return codes)."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


def format_line(name: str, line: str, width: int) -> str:
    """A child's output line for the supervisor's log: a JSON object line (LIFTWATCH_LOG_FORMAT=json)
    stays one JSON object, with ``"process": name`` first; any other line gets ``name | `` in front."""
    stripped = line.rstrip("\r\n")
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and "process" not in obj:
            inner = stripped[1:].lstrip()
            return '{"process": ' + json.dumps(name) + (", " + inner if inner != "}" else "}")
    return f"{name.ljust(width)} | {stripped}"


# ------------------------------------------------------------------------------------------- generators

COMPOSE_HEADER = """\
# Generated from deploy/Procfile by `liftwatch supervise --compose > deploy/compose.yaml`: edit the
# Procfile, not this file (tests/unit/core/test_supervise.py fails while the two differ).
# Settings (passwords, LIFTWATCH_SECRET_KEY) come from deploy/liftwatch.env; docs/OPERATIONS.md,
# "Running on one host (supervised)".
"""

# the services the processes need, as compose services (an image each; the broker's files from
# `liftwatch broker config`)
INFRASTRUCTURE = """\
  postgres:
    image: "postgres:16"
    environment:
      POSTGRES_USER: "liftwatch"
      POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
      POSTGRES_DB: "liftwatch"
    volumes:
      - "pgdata:/var/lib/postgresql/data"
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "liftwatch"]
      interval: 5s
    restart: always
  nats:
    image: "nats:2.10"
    command: ["-c", "/etc/nats/nats.conf"]
    volumes:
      - "natsdata:/data"
      - "./nats.conf:/etc/nats/nats.conf:ro"
      - "./broker/nats-auth.conf:/etc/nats/nats-auth.conf:ro"
    restart: always
  mosquitto:
    image: "eclipse-mosquitto:2"
    ports:
      - "8883:8883"
    volumes:
      - "./broker:/mosquitto/config:ro"
      - "mosquittodata:/mosquitto/data"
    restart: always
  migrate:
    <<: *liftwatch
    command: ["liftwatch", "db", "upgrade"]
    restart: "no"
    depends_on:
      postgres:
        condition: service_healthy
"""

VOLUMES = """\
volumes:
  pgdata:
  natsdata:
  mosquittodata:
  var:
"""


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def compose_file(specs: Sequence[ProcessSpec]) -> str:
    """deploy/compose.yaml: one service per Procfile process, running exactly its command and environment
    in the image of deploy/Dockerfile, after PostgreSQL, NATS, Mosquitto and the schema migration; a
    health check on each process's /readyz; the web's port published."""
    out = [COMPOSE_HEADER, "x-liftwatch: &liftwatch\n"]
    out.append('  image: "liftwatch:latest"\n')
    out.append("  build:\n    context: ..\n    dockerfile: deploy/Dockerfile\n")
    out.append("  env_file:\n    - liftwatch.env\n")
    out.append(
        '  volumes:\n    - "var:/var/lib/liftwatch"\n    - "./broker/certs/ca.pem:/etc/liftwatch/ca.pem:ro"\n'
    )
    out.append("  restart: always\n")
    out.append("  stop_grace_period: 30s\n\n")
    out.append("services:\n")
    out.append(INFRASTRUCTURE)
    for spec in specs:
        out.append(f"  {spec.name}:\n")
        out.append("    <<: *liftwatch\n")
        out.append(f"    command: [{', '.join(_q(a) for a in spec.argv)}]\n")
        if spec.env:
            out.append("    environment:\n")
            out.extend(f"      {k}: {_q(v)}\n" for k, v in spec.env.items())
        port = spec.probe_port
        if port is not None:
            check = (
                f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/readyz', timeout=3)"
            )
            out.append(f'    healthcheck:\n      test: ["CMD", "python", "-c", {_q(check)}]\n')
            out.append("      interval: 10s\n      start_period: 60s\n")
        if "serve" in spec.argv and port is not None:
            out.append(f'    ports:\n      - "{port}:{port}"\n')
        out.append("    depends_on:\n")
        out.append("      migrate:\n        condition: service_completed_successfully\n")
        out.append("      nats:\n        condition: service_started\n")
        out.append("      mosquitto:\n        condition: service_started\n")
    out.append("\n")
    out.append(VOLUMES)
    return "".join(out)


def systemd_units(specs: Sequence[ProcessSpec], prefix: str = "/opt/liftwatch/bin/") -> str:
    """One systemd unit per Procfile process (``liftwatch-<name>.service``), with the restart and stop
    behaviour the supervisor has: Restart=always with a backoff, SIGTERM then 30 s before SIGKILL."""
    out: list[str] = []
    for spec in specs:
        argv = resolve_argv(spec.argv, Path(prefix))
        if argv[0] == spec.argv[0] and spec.argv[0] == "liftwatch":
            argv[0] = prefix + "liftwatch"
        out.append(f"# /etc/systemd/system/liftwatch-{spec.name}.service\n")
        out.append("[Unit]\n")
        out.append(f"Description=liftwatch {spec.name}\n")
        out.append("After=network-online.target postgresql.service nats-server.service mosquitto.service\n")
        out.append("Wants=network-online.target\n")
        out.append("StartLimitIntervalSec=60\nStartLimitBurst=5\n\n")
        out.append("[Service]\n")
        out.append("User=liftwatch\n")
        out.append("WorkingDirectory=/var/lib/liftwatch\n")
        out.append("EnvironmentFile=/etc/liftwatch/liftwatch.env\n")
        out.extend(f"Environment={shlex.quote(f'{k}={v}')}\n" for k, v in spec.env.items())
        out.append(f"ExecStart={' '.join(shlex.quote(a) for a in argv)}\n")
        out.append("Restart=always\nRestartSec=2\n")
        out.append("KillSignal=SIGTERM\nTimeoutStopSec=30\n\n")
        out.append("[Install]\nWantedBy=multi-user.target\n\n")
    return "".join(out).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------------ supervisor


@dataclass
class _Child:
    spec: ProcessSpec
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    fast_failures: int = 0
    restarts: int = 0
    done: bool = False  # exited 0 on its own, or given up
    last_code: int | None = None


class Supervisor:
    """Runs every process of a Procfile until SIGINT or SIGTERM (or a crash loop): each in its own process
    group, its output lines into ``out`` with its name, restarted by ``policy`` after a failure; on stop,
    SIGTERM to every one, ``grace_s`` to exit, then SIGKILL. ``run`` returns the supervisor's exit status:
    0 when every process stopped cleanly (status 0, or ended by the SIGTERM as systemd also counts it), 1
    after a crash loop or when one did not stop cleanly."""

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        policy: RestartPolicy | None = None,
        grace_s: float = 30.0,
        out: TextIO | None = None,
        bindir: Path | None = None,
        env: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = [_Child(spec) for spec in specs]
        self.policy = policy or RestartPolicy()
        self.grace_s = grace_s
        self.out = out or sys.stderr
        self.bindir = bindir or Path(sys.executable).parent
        self.env = dict(os.environ if env is None else env)
        self.monotonic = monotonic
        self.width = max(len(s.name) for s in specs)
        self.stop = asyncio.Event()
        self.gave_up: str | None = None
        self.killed: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        log.info(
            "supervising %d processes: %s",
            len(self.children),
            ", ".join(c.spec.name for c in self.children),
            extra={"processes": [c.spec.line for c in self.children], "grace_s": self.grace_s},
        )
        self._tasks = [asyncio.create_task(self._keep(child)) for child in self.children]
        waiter = asyncio.ensure_future(self.stop.wait())
        everyone = asyncio.gather(*self._tasks)
        either: set[asyncio.Future[Any]] = {waiter, everyone}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        code = await self._shutdown()
        with contextlib.suppress(asyncio.CancelledError):
            await everyone
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        return code

    def _on_signal(self, sig: signal.Signals) -> None:
        if not self.stop.is_set():
            log.info("%s: stopping every process (SIGTERM, then SIGKILL after %g s)", sig.name, self.grace_s)
        self.stop.set()

    async def _spawn(self, child: _Child) -> None:
        argv = resolve_argv(child.spec.argv, self.bindir)
        child.proc = await asyncio.create_subprocess_exec(
            *argv,
            env={**self.env, **child.spec.env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: a terminal's Ctrl-C reaches the supervisor only
        )
        child.started = self.monotonic()
        log.info("%s started (pid %d): %s", child.spec.name, child.proc.pid, " ".join(argv))

    async def _pump(self, child: _Child) -> None:
        assert child.proc is not None and child.proc.stdout is not None
        while True:
            try:
                raw = await child.proc.stdout.readline()
            except ValueError:  # a line longer than the stream's limit: take what there is
                raw = await child.proc.stdout.read(65536)
            if not raw:
                return
            self.out.write(format_line(child.spec.name, raw.decode("utf-8", "replace"), self.width) + "\n")
            self.out.flush()

    async def _keep(self, child: _Child) -> None:
        """Start the process, and again after each failure as the policy says, until stopped."""
        name = child.spec.name
        while not self.stop.is_set():
            try:
                await self._spawn(child)
            except OSError as exc:
                log.error("%s cannot start: %s", name, exc)
                returncode, ran = 127, 0.0
            else:
                assert child.proc is not None
                if self.stop.is_set():  # started while the others were being stopped
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.proc.pid, signal.SIGTERM)
                await self._pump(child)
                returncode = await child.proc.wait()
                ran = self.monotonic() - child.started
            child.last_code = returncode
            if self.stop.is_set():
                return
            decision = self.policy.decide(child.fast_failures, returncode, ran)
            child.fast_failures = decision.fast_failures
            if decision.action == "done":
                log.info("%s exited with status 0 after %.1f s; not restarted", name, ran)
                child.done = True
                return
            if decision.action == "give_up":
                self.gave_up = name
                log.error(
                    "%s keeps failing: %d exits in a row within %g s of starting (the last with %s); giving "
                    "up and stopping every process",
                    name,
                    decision.fast_failures,
                    self.policy.fast_s,
                    describe_exit(returncode),
                )
                child.done = True
                self.stop.set()
                return
            child.restarts += 1
            log.warning(
                "%s exited with %s after %.1f s; restarting in %g s (restart %d)",
                name,
                describe_exit(returncode),
                ran,
                decision.delay_s,
                child.restarts,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), decision.delay_s)

    async def _shutdown(self) -> int:
        """SIGTERM to every running process group, ``grace_s`` to exit, SIGKILL for the rest."""
        running = [c for c in self.children if c.proc is not None and c.proc.returncode is None]
        for child in running:
            assert child.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGTERM)
        if running:
            _, pending = await asyncio.wait(
                [asyncio.create_task(c.proc.wait()) for c in running if c.proc is not None],
                timeout=self.grace_s,
            )
            for child in running:
                assert child.proc is not None
                if child.proc.returncode is None:
                    self.killed.add(child.spec.name)
                    log.error("%s did not stop within %g s: SIGKILL", child.spec.name, self.grace_s)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.proc.pid, signal.SIGKILL)
            if pending:
                await asyncio.wait(pending)
        # the pumps finish reading what the processes wrote last
        await asyncio.wait(self._tasks, timeout=5)
        clean = True
        for child in running:
            assert child.proc is not None
            code = child.proc.returncode
            assert code is not None
            child.last_code = code
            if code == 0:
                log.info("%s stopped with status 0", child.spec.name)
            elif code == -signal.SIGTERM and child.spec.name not in self.killed:
                # what uvicorn (`liftwatch serve`) does after its graceful shutdown: it raises the signal
                # again; systemd counts this as a clean stop too
                log.info("%s stopped by the SIGTERM it was sent, a clean stop", child.spec.name)
            else:
                clean = False
                log.warning("%s stopped with %s", child.spec.name, describe_exit(code))
        if self.gave_up is not None:
            return 1
        log.info("every process stopped" + ("" if clean else ", not all of them cleanly"))
        return 0 if clean else 1


def load_procfile(path: Path) -> list[ProcessSpec]:
    """``parse_procfile`` of a file."""
    return parse_procfile(path.read_text(encoding="utf-8"), str(path))
