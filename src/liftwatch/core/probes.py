"""The worker processes' HTTP side: Prometheus ``/metrics``, liveness ``/healthz`` and readiness
``/readyz`` (200 when the database and the bus answer, every part of the process is making progress and no
detector partition is too far behind; 503 with the reasons otherwise), for a supervisor or an orchestrator
to act on; and the rules behind readiness (``BlockingCheck``, ``LagWatch``). Plain asyncio: a worker has
no web framework."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
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


class BlockingCheck:
    """A blocking readiness check (a ``SELECT 1``) run in a thread with a deadline, so the event loop never
    waits on it, and never two at once: a check that hangs (a database that stopped answering) is not
    stacked up behind itself; it keeps the verdict false until it returns."""

    def __init__(self, fn: Callable[[], object], timeout_s: float = 2.0) -> None:
        self._fn = fn
        self.timeout_s = timeout_s
        self._running: asyncio.Future[object] | None = None
        self.ok = False
        self.error = "not checked yet"

    async def run(self) -> bool:
        if self._running is not None and not self._running.done():
            self.ok, self.error = False, f"the last check has not answered for over {self.timeout_s:g} s"
            return False
        self._running = self._in_own_thread()
        try:
            await asyncio.wait_for(asyncio.shield(self._running), timeout=self.timeout_s)
        except TimeoutError:
            self.ok, self.error = False, f"no answer within {self.timeout_s:g} s"
        except Exception as exc:
            self.ok, self.error = False, f"{type(exc).__name__}: {exc}"[:300]
        else:
            self.ok, self.error = True, ""
        return self.ok

    def _in_own_thread(self) -> asyncio.Future[object]:
        """The check on a thread of its own, not the loop's shared pool: while the workers' long steps
        (a risk recomputation, the surge planner loading) fill that pool, a ``SELECT 1`` queued behind
        them would miss its deadline and call a healthy database down. A daemon thread, so that a check
        hung on a dead database never holds up the process's exit."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[object] = loop.create_future()

        def settle(result: object, exc: BaseException | None) -> None:
            if done.cancelled():
                return
            if exc is not None:
                done.set_exception(exc)
            else:
                done.set_result(result)

        def target() -> None:
            try:
                result = self._fn()
            except BaseException as exc:  # handed to the waiting loop, which reports it
                with contextlib.suppress(RuntimeError):  # the loop closed while the check hung
                    loop.call_soon_threadsafe(settle, None, exc)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(settle, result, None)

        threading.Thread(target=target, name="readiness-check", daemon=True).start()
        return done


class LagWatch:
    """Whether a stream consumer (a detector partition) is too far behind to call its process ready.

    Its lag is the wall clock minus the newest receive time it processed (the
    ``liftwatch_detector_lag_seconds`` metric). Alone that grows in an idle city, where nothing is waiting,
    so the rule also looks at what the stream says is waiting for it (``pending``, from the stream's own
    counters):
    - nothing waiting: not lagging, whatever the lag (an idle city, or all caught up);
    - something waiting: the lag counts, bounded by the time since the consumer was last seen with nothing
      waiting (whatever waits arrived after that: the first message after an idle hour is not an hour
      late), and raised to the time since its loop last completed a step (a loop stuck on something
      keeps its last lag figure, which would otherwise never grow).
    Lagging when that exceeds ``limit_s`` (LIFTWATCH_READY_MAX_LAG_S). Times are monotonic seconds."""

    def __init__(self, limit_s: float, now: float) -> None:
        self.limit_s = limit_s
        self.pending = 0
        self.caught_up_at = now
        self.observed = False

    def observe(self, pending: int, now: float) -> None:
        self.pending = pending
        self.observed = True
        if pending == 0:
            self.caught_up_at = now

    def lag_s(self, processed_lag_s: float | None, since_step_s: float, now: float) -> float:
        """The lag that counts for readiness (0 with nothing waiting)."""
        if self.pending == 0:
            return 0.0
        waited = now - self.caught_up_at
        lag = waited if processed_lag_s is None else min(max(processed_lag_s, since_step_s), waited)
        return max(0.0, lag)

    def lagging(self, processed_lag_s: float | None, since_step_s: float, now: float) -> bool:
        return self.lag_s(processed_lag_s, since_step_s, now) > self.limit_s
