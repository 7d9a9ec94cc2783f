"""The worker processes' HTTP side: Prometheus ``/metrics``, liveness ``/healthz`` and readiness
``/readyz`` (200 when every part of the process is making progress, 503 with the reasons otherwise), for a
supervisor or an orchestrator to act on. Plain asyncio: a worker has no web framework."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


async def serve_probes(
    host: str, port: int, registry: CollectorRegistry, health: Callable[[], dict[str, Any]]
) -> asyncio.Server:
    """Start the probe server; the caller closes it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed
            parts = request.decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) >= 2 else "/"
            status, ctype, body = _answer(path, registry, health)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        except Exception:  # a probe must never take the worker down
            log.exception("probe request failed")
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


def _answer(
    path: str, registry: CollectorRegistry, health: Callable[[], dict[str, Any]]
) -> tuple[str, str, bytes]:
    if path == "/metrics":
        return "200 OK", CONTENT_TYPE_LATEST, generate_latest(registry)
    if path == "/healthz":
        return "200 OK", "text/plain; charset=utf-8", b"alive\n"
    if path == "/readyz":
        report = health()
        status = "200 OK" if report.get("ready") else "503 Service Unavailable"
        return status, "application/json", json.dumps(report, ensure_ascii=False).encode()
    return "404 Not Found", "text/plain; charset=utf-8", b"not found: /metrics, /healthz, /readyz\n"
