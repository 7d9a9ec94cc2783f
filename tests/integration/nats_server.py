"""A NATS JetStream server of a test's own (the machine's nats-server binary on a free port, its store in a
temporary folder), so a test can freeze, kill and restart it without disturbing anything else."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import IN_CI

_T = TypeVar("_T")

NATS_BINARY = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnNats:
    def __init__(self, store: Path, port: int | None = None, config: Path | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> OwnNats:
        args = [NATS_BINARY, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)]
        if self.config is not None:
            args += ["-c", str(self.config)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not start on port {self.port}")

    def freeze(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.proc is not None:
            self.thaw()
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()


def require_nats_binary() -> None:
    if Path(NATS_BINARY).exists():
        return
    if IN_CI:
        pytest.fail(f"nats-server must be installed in CI ({NATS_BINARY})")
    pytest.skip(f"nats-server not found at {NATS_BINARY}")


CLUSTER_CONF = """server_name: {name}
cluster {{
  name: liftwatch-test
  listen: 127.0.0.1:{route_port}
  routes: [{routes}]
}}
"""


class NatsCluster:
    """``size`` nats-server nodes on loopback ports, clustered, each with JetStream and a store of its own:
    streams may have up to ``size`` replicas, and a node can be killed while the others go on. Nodes are
    named n0, n1, ... (the names a stream's ``cluster.leader`` reports)."""

    def __init__(self, root: Path, size: int = 3) -> None:
        route_ports = [free_port() for _ in range(size)]
        routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in route_ports)
        self.nodes: list[OwnNats] = []
        for i, route_port in enumerate(route_ports):
            home = root / f"n{i}"
            home.mkdir(parents=True, exist_ok=True)
            conf = home / "node.conf"
            conf.write_text(CLUSTER_CONF.format(name=f"n{i}", route_port=route_port, routes=routes))
            self.nodes.append(OwnNats(home / "store", config=conf))

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated: LIFTWATCH_BUS_URL for a cluster."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> NatsCluster:
        for node in self.nodes:
            node.start()
        return self

    def node(self, name: str) -> OwnNats:
        return self.nodes[int(name.removeprefix("n"))]

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


async def until_answered(ask: Callable[[], Awaitable[_T]], timeout_s: float = 60, pause_s: float = 1.0) -> _T:
    """A JetStream request, asked again while the cluster gives a NATS error instead of an answer (no meta
    leader yet, or one being re-elected after a node was killed: a timeout, no responder, unavailable)."""
    import asyncio

    import nats.errors

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await ask()
        except nats.errors.Error:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(pause_s)


async def wait_for_jetstream(url: str, timeout_s: float = 30.0) -> None:
    """Until the cluster has elected its JetStream meta leader (a few seconds after its nodes start): before
    that, creating a stream fails."""
    import nats

    from liftwatch.core.bus import nats_servers

    nc = await nats.connect(nats_servers(url), max_reconnect_attempts=5, connect_timeout=5)
    try:
        await until_answered(nc.jetstream(timeout=2).account_info, timeout_s, 0.25)
    finally:
        await nc.close()


async def stream_leader(url: str, stream: str) -> str:
    """The name of the node that leads a replicated stream now."""
    import nats

    from liftwatch.core.bus import nats_servers

    nc = await nats.connect(nats_servers(url), max_reconnect_attempts=5, connect_timeout=5)
    try:
        info = await nc.jetstream(timeout=5).stream_info(stream)
        assert info.cluster is not None and info.cluster.leader, f"stream {stream} has no leader"
        return str(info.cluster.leader)
    finally:
        await nc.close()
