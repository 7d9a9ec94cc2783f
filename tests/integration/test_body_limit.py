"""A real uvicorn process refuses an anonymous 300 MB body with 413 while its memory barely moves.

Before the limit, a 300 MB body was parsed before authentication (840 MB of memory). The client here
streams its body from a generator over a raw socket and stops once the server has answered, as a client
that reads the early answer does; the server's peak resident memory (VmHWM) is read from /proc.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liftwatch.core.migrate import upgrade
from tests.e2e.conftest import free_port

MB = 1024 * 1024
CHUNK = 64 * 1024
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


def _memory_kib(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """uvicorn serving create_app() over a migrated SQLite file; yields (port, pid)."""
    var = tmp_path_factory.mktemp("bodylimit")
    upgrade(f"sqlite:///{var / 'liftwatch.db'}")
    port = free_port()
    env = {
        **os.environ,
        "LIFTWATCH_VAR_DIR": str(var),
        "LIFTWATCH_PIPELINE": "false",
        "LIFTWATCH_ARCHIVE": "false",
        "LIFTWATCH_SECRET_KEY": "body-limit-" + "x" * 40,
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "liftwatch.app:create_app"]
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"uvicorn did not start: {err}") from None
                time.sleep(0.1)
        _request(port, "GET", "/healthz")  # warm up: imports, first request
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _body(total: int, start: bytes = b"[") -> Iterator[bytes]:
    """``total`` bytes: ``start``, then filler that keeps the parser reading (a JSON array, a file)."""
    yield start
    filler = b"0," * (CHUNK // 2)
    sent = len(start)
    while sent < total:
        piece = filler[: total - sent]
        sent += len(piece)
        yield piece


MULTIPART_START = (
    b"--xyz\r\n"
    b'Content-Disposition: form-data; name="file"; filename="agency.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n"
)


def _request(
    port: int,
    method: str,
    path: str,
    body: Iterator[bytes] = iter(()),
    headers: dict[str, str] | None = None,
    chunked: bool = False,
) -> tuple[int, dict[str, str], bytes, int]:
    """Send the request, streaming ``body`` until the server answers; (status, headers, body, bytes
    of the body sent)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break  # the answer is here: stop sending
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        data = b""
        while True:
            try:
                got = sock.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            data += got
    finally:
        sock.close()
    raw_head, _, payload = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    parsed = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, parsed, payload, sent


def _assert_small_growth(pid: int, before: dict[str, int], what: str) -> int:
    after = _memory_kib(pid)
    growth_mb = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(
        f"{what}: peak RSS {before['VmHWM'] / 1024:.1f} -> {after['VmHWM'] / 1024:.1f} MiB "
        f"(+{growth_mb:.1f}), RSS now {after['VmRSS'] / 1024:.1f} MiB"
    )
    assert growth_mb < 50, f"{what}: the server's peak memory grew {growth_mb:.1f} MB"
    return int(growth_mb)


def test_an_anonymous_300_mb_body_is_refused_with_little_memory(server: tuple[int, int]) -> None:
    port, pid = server
    before = _memory_kib(pid)
    status, headers, payload, sent = _request(
        port,
        "POST",
        "/api/v1/elevators",
        _body(300 * MB),
        {"Content-Type": "application/json", "Content-Length": str(300 * MB)},
    )
    assert status == 413, payload[:300]
    assert headers["content-type"] == "application/json"
    assert json.loads(payload)["errors"][0]["field"] == "body"
    assert sent < 300 * MB
    _assert_small_growth(pid, before, "300 MB with Content-Length")


def test_a_chunked_300_mb_body_is_cut_off_with_little_memory(server: tuple[int, int]) -> None:
    port, pid = server
    before = _memory_kib(pid)
    status, _, payload, sent = _request(
        port,
        "POST",
        "/api/v1/registry/import",
        _body(300 * MB, MULTIPART_START),
        {"Content-Type": "multipart/form-data; boundary=xyz"},
        chunked=True,
    )
    assert status == 413, payload[:300]
    assert "20 MiB" in json.loads(payload)["detail"]
    assert 20 * MB <= sent < 300 * MB
    _assert_small_growth(pid, before, "300 MB chunked to the import")


def test_normal_requests_still_work(server: tuple[int, int]) -> None:
    port, _ = server
    assert _request(port, "GET", "/healthz")[0] == 200
    form = b"username=nobody&password=wrong"
    status, _, payload, _ = _request(
        port,
        "POST",
        "/api/v1/auth/token",
        iter([form]),
        {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(form))},
    )
    assert status == 401, payload
    batch = b"[]"
    status, _, payload, _ = _request(
        port,
        "POST",
        "/api/v1/telemetry",
        iter([batch]),
        {"Content-Type": "application/json", "Content-Length": "2"},
    )
    assert status == 401, payload  # past the size check, refused for want of credentials
