"""MQTT ingestion: an MQTT 5 subscriber on our own minimal codec (telemetry/mqttwire.py) driven by the
asyncio loop, on a shared subscription so several ingest processes split a city's traffic.

QoS 1 messages (events) are acknowledged to the broker only after the batch holding them is stored on
the bus: if the process dies first, the broker delivers them again (the session outlives the connection
for ``session_expiry_s``, so a restarted process with the same client id gets them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from urllib.parse import urlsplit

from liftwatch.telemetry.ingest import Ingestor
from liftwatch.telemetry.mqttwire import WireSubscriber
from liftwatch.telemetry.protocol import Rejected

log = logging.getLogger(__name__)

TOPIC_FILTER = "liftwatch/v1/+/+"


def parse_mqtt_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"MQTT URL '{url}': expected mqtt://host:port")
    return parts.hostname or "127.0.0.1", parts.port or 1883


class MqttIngest:
    def __init__(
        self,
        ingestor: Ingestor,
        url: str,
        group: str = "liftwatch-ingest",
        client_id: str | None = None,
        session_expiry_s: int = 3600,
    ) -> None:
        self.ingestor = ingestor
        self.host, self.port = parse_mqtt_url(url)
        self.topic = f"$share/{group}/{TOPIC_FILTER}" if group else TOPIC_FILTER
        self.client_id = client_id or f"liftwatch-ingest-{uuid.uuid4().hex[:8]}"
        self.session_expiry_s = session_expiry_s
        self.received = 0
        self._proto: WireSubscriber | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = asyncio.Event()

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.get_running_loop().create_task(self._keepalive())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(
            lambda: WireSubscriber(
                self.client_id, self.topic, self._on_publish, self.session_expiry_s, clean_start=False
            ),
            self.host,
            self.port,
        )
        await asyncio.wait_for(proto.subscribed.wait(), timeout=10)
        if proto.error:
            raise ConnectionError(f"MQTT {self.host}:{self.port}: {proto.error}")
        self._proto = proto
        self.connected.set()

    async def _keepalive(self) -> None:
        """Ping every 15 s; reconnect (every 2 s) when the broker goes away."""
        while not self._stopping:
            proto = self._proto
            if proto is not None and not proto.closed.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(proto.closed.wait(), timeout=15)
                if not proto.closed.is_set():
                    proto.ping()
                    continue
            if self._stopping:
                return
            self.connected.clear()
            log.warning("MQTT connection lost; reconnecting")
            await asyncio.sleep(2)
            try:
                await self._connect()
            except (OSError, TimeoutError, ConnectionError) as exc:
                log.warning("MQTT reconnect failed: %s", exc)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._proto is not None:
            self._proto.close()

    def abort(self) -> None:
        """Drop the connection without a DISCONNECT, as a crash would (unacknowledged QoS 1 stays queued)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.abort()

    def _on_publish(self, topic_bytes: bytes, payload: bytes, qos: int, packet_id: int) -> None:
        self.received += 1
        received_ms = time.time_ns() // 1_000_000
        ingestor = self.ingestor
        try:
            topic = topic_bytes.decode()
        except UnicodeDecodeError:
            ingestor.reject(
                "mqtt",
                repr(topic_bytes[:200]),
                Rejected("bad_topic", "topic is not UTF-8"),
                payload,
                received_ms,
            )
        else:
            ingestor.accept_mqtt(topic, payload, received_ms)
        if qos:
            proto = self._proto
            if proto is not None:
                ingestor.after_publish(lambda: proto.ack(packet_id))
