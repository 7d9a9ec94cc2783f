"""Ingestion: raw terminal messages in (MQTT, HTTP, NATS), validated batches out onto the bus.

Every message is either accepted onto the ``TELEMETRY`` stream or dead-lettered with a reason; nothing is
dropped silently. Accepted messages are batched per partition (elevators hash to partitions) so a city's
traffic costs a few bus publishes a second, not one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field

from liftwatch.core.bus import Bus, Health
from liftwatch.core.metrics import Metrics
from liftwatch.telemetry import records
from liftwatch.telemetry.protocol import (
    MessageType,
    Rejected,
    decode,
    decode_any,
    parse_topic,
)
from liftwatch.telemetry.service import DeadLetterRecord, Replay

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
    shed: int = 0  # QoS 0 status and heartbeats not taken while saturated (never events)
    duplicates: int = 0  # messages in retried batches the stream already held (dropped there, not doubled)
    flush_failures: int = 0
    mean_batch: float = 1.0  # messages in a batch lately (a moving mean over the last few)

    def count_batch(self, count: int) -> None:
        """A batch of ``count`` messages is on the stream."""
        self.batches += 1
        self.mean_batch = (
            float(count) if self.batches == 1 else self.mean_batch + 0.2 * (count - self.mean_batch)
        )

    def messages_behind(self, batches_behind: int) -> int:
        """Terminal messages in ``batches_behind`` stream messages, by the recent mean batch: what the
        stream counts is batches, from one message each in a quiet hour to thousands at the peak, so a
        limit in batches would act a hundred times later at the peak than at night."""
        if batches_behind <= 0:
            return 0
        return int(batches_behind * max(1.0, self.mean_batch))


class KnownElevators:
    """The registration codes telemetry is accepted for (kept current by the workers' registry feed)."""

    def __init__(self, codes: Iterable[str] = ()) -> None:
        self.codes: set[str] = set(codes)

    def __contains__(self, code: object) -> bool:
        return code in self.codes


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
        max_buffered: int = 200_000,
        reject_report_s: float = 60.0,
    ) -> None:
        self.bus = bus
        self.topology = topology
        self.partitions = partitions
        self.known = known
        self.metrics = metrics
        self.batch_max = batch_max
        self._buffers: list[list[records.Record]] = [[] for _ in range(partitions)]
        # Batches cut from the buffers, each with a message id, waiting to be confirmed by the stream.
        # A publish that timed out may still have been stored; its retry carries the same id, so the
        # stream's duplicate window drops it (nothing doubled), and the order stays as it was.
        self._sealed: list[list[tuple[str, bytes, int]]] = [[] for _ in range(partitions)]
        self._ingest_id = uuid.uuid4().hex[:12]
        self._batch_no = 0
        self._after: list[Callable[[], object]] = []
        self._dead: list[DeadLetterRecord] = []
        self._dead_sink = dead_letter_sink
        self.stats = IngestStats()
        self._lock = asyncio.Lock()
        # Backpressure: above ``max_buffered`` messages waiting for the stream, or while the stream's
        # slowest consumer lags (``lagging``, set by the workers' lag probe), QoS 0 status and heartbeats
        # are shed (counted, logged); events are always taken (QoS 1: the broker's in-flight window
        # bounds them, and they are acknowledged only once on the stream).
        self.max_buffered = max_buffered
        self.lagging = False
        self._n_buffered = 0
        self._shed_logged = 0.0
        self.health = Health("ingest")
        # rejects are logged as one summary every ``reject_report_s``, never one line per message
        self.reject_report_s = reject_report_s
        self._rejects_window: dict[str, int] = {}
        self._rejects_since = time.monotonic()

    # -------------------------------------------------------- hot path

    def accept_mqtt(
        self, topic: str, payload: bytes, received_ms: int, source: str = "mqtt", may_shed: bool = True
    ) -> bool:
        """One terminal message from its topic. ``may_shed``: a QoS 0 message that may be shed while
        saturated (a source that keeps what it has not handed over, like a durable stream, says False)."""
        try:
            code, kind = parse_topic(topic)
            decode(payload, kind)
            if code not in self.known:
                raise Rejected("unknown_elevator", f"no elevator registered as '{code[:40]}'")
        except Rejected as rej:
            named = _code_in_topic(topic) if rej.reason == "unknown_elevator" else None
            self.reject(source, topic, rej, payload, received_ms, named)
            return False
        except Exception as exc:  # never crash on input; keep it with the reason
            log.exception("unexpected error validating a message on %s", topic[:200])
            self.reject(source, topic, Rejected("internal", repr(exc)[:500]), payload, received_ms)
            return False
        return self._buffer(code, received_ms, kind, payload, may_shed)

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
            # replayed once the elevator is registered; not for a unit's gateway, whose scope could not
            # be checked for an elevator nobody knew (the letter stays, with its reason)
            replayable = rej.reason == "unknown_elevator" and allowed is None
            named = env.registration_code if replayable else None
            self.reject(source, "", rej, item, received_ms, named)
            return rej
        except Exception as exc:  # never crash on input; keep it with the reason
            log.exception("unexpected error validating a gateway message")
            internal = Rejected("internal", repr(exc)[:500])
            self.reject(source, "", internal, item, received_ms)
            return internal
        kind = MessageType(type(env.message).__struct_config__.tag)  # type: ignore[arg-type]
        # never shed: the gateway was told to retry while saturated, and is told what was taken
        self._buffer(env.registration_code, received_ms, kind, item, may_shed=False)
        return None

    @property
    def saturated(self) -> bool:
        """Shedding QoS 0 traffic: too much waits for the stream, or the stream's consumers lag."""
        return self.lagging or self._n_buffered >= self.max_buffered

    def _buffer(
        self, code: str, received_ms: int, kind: MessageType, payload: bytes, may_shed: bool = True
    ) -> bool:
        if (
            may_shed
            and kind is not MessageType.EVENT
            and (self.lagging or self._n_buffered >= self.max_buffered)
        ):
            self._shed(kind)
            return False
        buf = self._buffers[records.partition_of(code, self.partitions)]
        k = records.KIND_INDEX[kind]
        buf.append((code, received_ms, k, payload))
        self._n_buffered += 1
        stats = self.stats
        stats.accepted += 1
        stats.by_kind[k] += 1  # exported to Prometheus at flush: a labelled inc() per message costs µs
        return True

    def _shed(self, kind: MessageType) -> None:
        self.stats.shed += 1
        if self.metrics is not None:
            self.metrics.shed.labels(kind.value).inc()
        now = time.monotonic()
        if now - self._shed_logged >= 10:
            self._shed_logged = now
            log.warning(
                "ingest saturated (%d waiting for the stream, consumers lagging: %s): shedding QoS 0 "
                "status and heartbeats, %d so far; events are still taken",
                self._n_buffered,
                self.lagging,
                self.stats.shed,
            )

    def reject(
        self,
        source: str,
        topic: str,
        rej: Rejected,
        payload: bytes,
        received_ms: int,
        registration_code: str | None = None,
    ) -> None:
        self._dead.append(
            DeadLetterRecord(received_ms, source, topic, rej.reason, rej.detail, payload, registration_code)
        )
        self.stats.rejected[rej.reason] = self.stats.rejected.get(rej.reason, 0) + 1
        self._rejects_window[rej.reason] = self._rejects_window.get(rej.reason, 0) + 1
        if self.metrics is not None:
            self.metrics.rejects.labels(source, rej.reason).inc()

    def report_rejects(self, force: bool = False) -> None:
        """Log what was rejected since the last summary, by reason, once ``reject_report_s`` has passed
        (or now with ``force``): at info when every reject is an elevator not yet registered (its letters
        are replayed once it is), else at warning. Nothing when nothing was rejected."""
        now = time.monotonic()
        if not force and now - self._rejects_since < self.reject_report_s:
            return
        window, self._rejects_window = self._rejects_window, {}
        seconds, self._rejects_since = now - self._rejects_since, now
        if not window:
            return
        reasons = " ".join(f"{r}={n}" for r, n in sorted(window.items(), key=lambda kv: (-kv[1], kv[0])))
        level = logging.INFO if set(window) == {"unknown_elevator"} else logging.WARNING
        log.log(
            level,
            "rejected %d messages in the last %.0f s, kept as dead letters: %s",
            sum(window.values()),
            seconds,
            reasons,
        )

    def replay(self, letters: Iterable[Replay]) -> int:
        """Feed dead letters through validation again, as they first arrived (an elevator registered
        after its terminal started reporting). Returns how many were accepted."""
        n = 0
        for d in letters:
            if d.topic:
                n += self.accept_mqtt(d.topic, d.payload, d.received_ms, d.source, may_shed=False)
            else:
                n += self.accept_gateway_item(d.payload, d.received_ms, d.source) is None
        return n

    def after_publish(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once what is buffered now has been published (e.g. an MQTT PUBACK)."""
        self._after.append(callback)

    def buffered(self) -> int:
        return self._n_buffered

    # -------------------------------------------------------- publishing

    async def flush(self) -> int:
        """Publish every buffer (in slices of ``batch_max``), store dead letters, run callbacks.

        On a failure (NATS down or slow, the stream full, the database down) what was not published or
        stored is kept in order and tried first next time, the callbacks wait for a later flush (no PUBACK
        for a message that is not on the stream) and the error is raised; nothing is lost or doubled."""
        async with self._lock:
            buffers, self._buffers = self._buffers, [[] for _ in range(self.partitions)]
            after, self._after = self._after, []
            dead, self._dead = self._dead, []
            for p, buf in enumerate(buffers):
                for i in range(0, len(buf), self.batch_max):
                    chunk = buf[i : i + self.batch_max]
                    self._batch_no += 1
                    batch_id = f"{self._ingest_id}-{self._batch_no}"
                    self._sealed[p].append((batch_id, records.encode_batch(chunk), len(chunk)))
            n = 0
            try:
                for p, sealed in enumerate(self._sealed):
                    subject = self.topology.subject_of(p)
                    while sealed:
                        batch_id, data, count = sealed[0]
                        stored = await self.bus.publish(subject, data, msg_id=batch_id)
                        del sealed[0]
                        if stored.duplicate:
                            self.stats.duplicates += count
                            if self.metrics is not None:
                                self.metrics.stream_duplicates.labels("telemetry").inc(count)
                        self._n_buffered -= count
                        self.stats.count_batch(count)
                        n += count
                if dead and self._dead_sink is not None:
                    await asyncio.to_thread(self._dead_sink, dead)
                    dead = []
            except BaseException:
                self.stats.flush_failures += 1
                self._dead[:0] = dead
                self._after[:0] = after
                raise
            finally:
                if self.metrics is not None:
                    for k, count in enumerate(self.stats.by_kind):
                        if count:
                            self.metrics.messages.labels("ingest", records.KINDS[k].value).inc(count)
                    self.stats.by_kind = [0, 0, 0]
            for cb in after:
                try:
                    cb()
                except Exception:  # an acknowledgement that fails is redelivered by the broker
                    log.exception("after-publish callback failed")
            return n

    def _pending(self) -> bool:
        return bool(self._n_buffered or self._dead or self._after)

    async def run(
        self, linger_s: float = 0.02, stop: asyncio.Event | None = None, drain_s: float = 10.0
    ) -> None:
        """Flush every ``linger_s`` until ``stop`` is set, then drain (flush until empty, for at most
        ``drain_s``). A failing flush is retried with backoff (``health`` says so meanwhile); the loop
        never ends on an error."""
        stop = stop or asyncio.Event()
        health = self.health
        while not stop.is_set():
            delay = health.backoff_s() if health.failures else linger_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            if self._pending():
                await self._try_flush()
            self.report_rejects()
        deadline = time.monotonic() + drain_s
        while self._pending() and time.monotonic() < deadline:
            if not await self._try_flush():
                await asyncio.sleep(min(health.backoff_s(0.2, 2.0), max(0.0, deadline - time.monotonic())))
        self.report_rejects(force=True)
        if self._pending():
            log.error(
                "ingest stopped with %d messages and %d dead letters not stored (QoS 1 events among them "
                "were not acknowledged: the broker delivers them again)",
                self._n_buffered,
                len(self._dead),
            )

    async def _try_flush(self) -> bool:
        try:
            await self.flush()
        except Exception as exc:
            self.health.failed(exc)
            log.exception(
                "ingest: flush failed (%d in a row); %d messages held, retrying in %.1f s",
                self.health.failures,
                self._n_buffered,
                self.health.backoff_s(),
            )
            return False
        self.health.ok()
        return True


def _code_in_topic(topic: str) -> str | None:
    parts = topic.split("/")
    return parts[2][:40] if len(parts) == 4 and parts[2] else None
