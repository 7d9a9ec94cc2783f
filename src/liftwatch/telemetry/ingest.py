"""Ingestion: raw terminal messages in (MQTT, HTTP, NATS), validated batches out onto the bus.

Every message is either accepted onto the ``TELEMETRY`` stream or dead-lettered with a reason; nothing is
dropped silently. Accepted messages are batched per partition (elevators hash to partitions) so a city's
traffic costs a few bus publishes a second, not one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field

from liftwatch.core.bus import Bus
from liftwatch.core.metrics import Metrics
from liftwatch.telemetry import records
from liftwatch.telemetry.protocol import (
    MessageType,
    Rejected,
    decode,
    decode_any,
    parse_topic,
)
from liftwatch.telemetry.service import DeadLetterRecord

log = logging.getLogger(__name__)

_KIND_OF_TAG = {
    b"status": MessageType.STATUS,
    b"event": MessageType.EVENT,
    b"heartbeat": MessageType.HEARTBEAT,
}


@dataclass
class IngestStats:
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    by_kind: list[int] = field(default_factory=lambda: [0, 0, 0])  # per records.KINDS, for metrics


class KnownElevators:
    """The registration codes telemetry is accepted for (refreshed from the registry by the caller)."""

    def __init__(self, codes: Iterable[str] = ()) -> None:
        self.codes: set[str] = set(codes)
        self.missed = False  # an unknown code was seen: the owner should refresh soon

    def __contains__(self, code: object) -> bool:
        if code in self.codes:
            return True
        self.missed = True
        return False


class Ingestor:
    """Validate, partition, batch and publish. ``accept_*`` are synchronous and cheap (the hot path);
    ``flush()`` publishes what has been buffered and then runs the registered after-publish callbacks
    (an MQTT QoS 1 message is acknowledged to the broker only then: durable before acknowledged)."""

    def __init__(
        self,
        bus: Bus,
        partitions: int,
        known: KnownElevators,
        metrics: Metrics | None = None,
        batch_max: int = 2000,
        dead_letter_sink: Callable[[list[DeadLetterRecord]], None] | None = None,
        topology: records.Topology = records.DEFAULT_TOPOLOGY,
    ) -> None:
        self.bus = bus
        self.topology = topology
        self.partitions = partitions
        self.known = known
        self.metrics = metrics
        self.batch_max = batch_max
        self._buffers: list[list[records.Record]] = [[] for _ in range(partitions)]
        self._after: list[Callable[[], object]] = []
        self._dead: list[DeadLetterRecord] = []
        self._dead_sink = dead_letter_sink
        self.stats = IngestStats()
        self._lock = asyncio.Lock()

    # -------------------------------------------------------- hot path

    def accept_mqtt(self, topic: str, payload: bytes, received_ms: int, source: str = "mqtt") -> bool:
        try:
            code, kind = parse_topic(topic)
            decode(payload, kind)
            if code not in self.known:
                raise Rejected("unknown_elevator", f"no elevator registered as '{code[:40]}'")
        except Rejected as rej:
            self.reject(source, topic, rej, payload, received_ms)
            return False
        except Exception as exc:  # never crash on input; keep it with the reason
            log.exception("unexpected error validating a message on %s", topic[:200])
            self.reject(source, topic, Rejected("internal", repr(exc)[:500]), payload, received_ms)
            return False
        self._buffer(code, received_ms, kind, payload)
        return True

    def accept_gateway_item(
        self, item: bytes, received_ms: int, source: str = "http", allowed: Container[str] | None = None
    ) -> Rejected | None:
        """One message of a gateway batch (JSON object with ``type`` and ``registration_code``). ``allowed``:
        the codes this gateway may report for (None: any registered elevator)."""
        try:
            env = decode_any(item)
            if env.registration_code not in self.known:
                raise Rejected(
                    "unknown_elevator", f"no elevator registered as '{env.registration_code[:40]}'"
                )
            if allowed is not None and env.registration_code not in allowed:
                code = env.registration_code[:40]
                raise Rejected(
                    "not_this_gateway", f"'{code}': this gateway's unit neither maintains nor uses it"
                )
        except Rejected as rej:
            self.reject(source, "", rej, item, received_ms)
            return rej
        except Exception as exc:  # never crash on input; keep it with the reason
            log.exception("unexpected error validating a gateway message")
            internal = Rejected("internal", repr(exc)[:500])
            self.reject(source, "", internal, item, received_ms)
            return internal
        kind = MessageType(type(env.message).__struct_config__.tag)  # type: ignore[arg-type]
        self._buffer(env.registration_code, received_ms, kind, item)
        return None

    def _buffer(self, code: str, received_ms: int, kind: MessageType, payload: bytes) -> None:
        buf = self._buffers[records.partition_of(code, self.partitions)]
        k = records.KIND_INDEX[kind]
        buf.append((code, received_ms, k, payload))
        stats = self.stats
        stats.accepted += 1
        stats.by_kind[k] += 1  # exported to Prometheus at flush: a labelled inc() per message costs µs

    def reject(self, source: str, topic: str, rej: Rejected, payload: bytes, received_ms: int) -> None:
        self._dead.append(DeadLetterRecord(received_ms, source, topic, rej.reason, rej.detail, payload))
        self.stats.rejected[rej.reason] = self.stats.rejected.get(rej.reason, 0) + 1
        if self.metrics is not None:
            self.metrics.rejects.labels(source, rej.reason).inc()

    def after_publish(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once what is buffered now has been published (e.g. an MQTT PUBACK)."""
        self._after.append(callback)

    def buffered(self) -> int:
        return sum(len(b) for b in self._buffers)

    # -------------------------------------------------------- publishing

    async def flush(self) -> int:
        """Publish every buffer (in slices of ``batch_max``), store dead letters, run callbacks."""
        async with self._lock:
            buffers, self._buffers = self._buffers, [[] for _ in range(self.partitions)]
            after, self._after = self._after, []
            dead, self._dead = self._dead, []
            n = 0
            for p, buf in enumerate(buffers):
                for i in range(0, len(buf), self.batch_max):
                    chunk = buf[i : i + self.batch_max]
                    await self.bus.publish(self.topology.subject_of(p), records.encode_batch(chunk))
                    self.stats.batches += 1
                    n += len(chunk)
            if self.metrics is not None:
                for k, count in enumerate(self.stats.by_kind):
                    if count:
                        self.metrics.messages.labels("ingest", records.KINDS[k].value).inc(count)
                self.stats.by_kind = [0, 0, 0]
            if dead and self._dead_sink is not None:
                await asyncio.to_thread(self._dead_sink, dead)
            for cb in after:
                try:
                    cb()
                except Exception:  # an acknowledgement that fails is redelivered by the broker
                    log.exception("after-publish callback failed")
            return n

    async def run(self, linger_s: float = 0.02, stop: asyncio.Event | None = None) -> None:
        """Flush every ``linger_s`` until ``stop`` is set (then flush once more)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=linger_s)
            if self.buffered() or self._dead or self._after:
                await self.flush()
        await self.flush()
