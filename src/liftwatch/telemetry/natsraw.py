"""NATS ingestion: terminals or gateways that speak NATS publish raw payloads to
``liftwatch.raw.{registration_code}.{status|event|heartbeat}``. A JetStream stream (``RAW``) captures them,
so nothing is lost while no ingest process runs; one ingest process consumes it, validates each message
like an MQTT one, and acknowledges the stream only after the batch is on the telemetry stream."""

from __future__ import annotations

import asyncio
import logging
import time

from liftwatch.core.bus import Bus, Consumer, stream_name, subject_name
from liftwatch.telemetry.ingest import Ingestor
from liftwatch.telemetry.protocol import TOPIC_PREFIX, Rejected

log = logging.getLogger(__name__)

RAW_PREFIX = "liftwatch.raw."


def raw_stream_name(namespace: str) -> str:
    return stream_name(namespace, "RAW")


def raw_prefix(namespace: str) -> str:
    """``liftwatch.raw.``, or ``ns.liftwatch.raw.`` with a namespace: where a terminal publishes."""
    return subject_name(namespace, RAW_PREFIX)


def raw_subjects(namespace: str) -> str:
    return f"{raw_prefix(namespace)}>"


def topic_of(subject: str, namespace: str) -> str:
    """``[ns.]liftwatch.raw.{code}.{kind}`` -> ``liftwatch/v1/{code}/{kind}`` (a code may hold dots)."""
    prefix = raw_prefix(namespace)
    if not subject.startswith(prefix):
        raise Rejected("bad_topic", f"subject '{subject[:200]}' is not under {prefix}")
    code, _, kind = subject[len(prefix) :].rpartition(".")
    if not code:
        raise Rejected("bad_topic", f"subject '{subject[:200]}' is not {prefix}<registration_code>.<type>")
    return f"{TOPIC_PREFIX}{code}/{kind}"


class NatsRawIngest:
    def __init__(self, ingestor: Ingestor, bus: Bus, namespace: str = "") -> None:
        self.ingestor = ingestor
        self.bus = bus
        self.namespace = namespace
        self._consumer: Consumer | None = None
        self.received = 0

    async def start(self) -> None:
        stream = raw_stream_name(self.namespace)
        subjects = raw_subjects(self.namespace)
        await self.bus.ensure_stream(stream, [subjects])
        self._consumer = await self.bus.consumer(stream, "ingest-raw", subjects)

    async def run(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None, "start() first"
        while not stop.is_set():
            if self.ingestor.saturated:  # the raw stream holds them: take more once ingestion has room
                await asyncio.sleep(0.2)
                continue
            try:
                batch = await self._consumer.fetch(2000, timeout=0.5)
                if not batch:
                    continue
                received_ms = time.time_ns() // 1_000_000
                for m in batch:
                    self.received += 1
                    try:
                        topic = topic_of(m.subject, self.namespace)
                    except Rejected as rej:
                        self.ingestor.reject("nats", m.subject, rej, m.data, received_ms)
                        continue
                    self.ingestor.accept_mqtt(topic, m.data, received_ms, source="nats", may_shed=False)
                await self.ingestor.flush()  # on the telemetry stream first ...
                await self._consumer.ack_upto(batch[-1])  # ... then acknowledged
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("NATS raw ingest: batch failed; it will be redelivered")
                await asyncio.sleep(1.0)
