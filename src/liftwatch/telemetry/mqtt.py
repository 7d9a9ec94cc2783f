"""MQTT ingestion: an MQTT 5 subscriber on our own minimal codec (telemetry/mqttwire.py) driven by the
asyncio loop, on a shared subscription so several ingest processes split a city's traffic.

QoS 1 messages (events) are acknowledged to the broker only after the batch holding them is stored on
the bus, and on the connection that received them: if the process dies first, the broker delivers them
again (the session outlives the connection for ``session_expiry_s``, so a restarted process with the same
client id gets them, right after CONNACK and before SUBACK).

A graceful stop leaves the shared group for good: unsubscribe, take and acknowledge what the broker still
sends, then DISCONNECT with session expiry 0. Otherwise the broker keeps routing a share of the traffic to
the stopped process's session until it expires.

The whole ``liftwatch/v1/#`` tree is subscribed, so a topic that is not ``liftwatch/v1/<code>/<type>``
arrives and is dead-lettered as ``bad_topic`` instead of never being seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from liftwatch.core.tasks import settle
from liftwatch.telemetry.ingest import Ingestor
from liftwatch.telemetry.mqttwire import WireSubscriber
from liftwatch.telemetry.protocol import Rejected

log = logging.getLogger(__name__)

TOPIC_FILTER = "liftwatch/v1/#"
DEFAULT_SESSION_EXPIRY_S = 300


class MqttRefused(ConnectionError):
    """The broker refused the CONNECT (e.g. bad user name or password) or the subscription."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://[user:pass@]host[:8883]`` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp", "mqtts", "ssl"):
        raise ValueError(f"MQTT URL '{url}': expected mqtt://host:port or mqtts://host:port")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        parts.hostname or "127.0.0.1",
        parts.port or (8883 if tls else 1883),
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password is not None else None,
    )


def parse_mqtt_url(url: str) -> tuple[str, int]:
    address = parse_broker_url(url)
    return address.host, address.port


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Verify the broker's certificate against ``ca_file`` (a private CA) or the system's CAs."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class MqttIngest:
    def __init__(
        self,
        ingestor: Ingestor,
        url: str,
        group: str = "liftwatch-ingest",
        client_id: str | None = None,
        session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | Path | None = None,
        drain_quiet_s: float = 0.5,
        drain_timeout_s: float = 10.0,
    ) -> None:
        self.ingestor = ingestor
        address = parse_broker_url(url)
        self.host, self.port = address.host, address.port
        self.username = username if username is not None else address.username
        self.password = password if password is not None else address.password
        self.ssl: ssl.SSLContext | None = tls_context(ca_file) if address.tls else None
        self.topic = f"$share/{group}/{TOPIC_FILTER}" if group else TOPIC_FILTER
        self.client_id = client_id or f"liftwatch-ingest-{uuid.uuid4().hex[:8]}"
        self.session_expiry_s = session_expiry_s
        self.drain_quiet_s = drain_quiet_s
        self.drain_timeout_s = drain_timeout_s
        self.received = 0
        self._last_received = 0.0  # monotonic time of the newest PUBLISH
        self._proto: WireSubscriber | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Connect and subscribe; raises MqttRefused (naming the reason) when the broker says no."""
        await self._connect()
        self._task = asyncio.get_running_loop().create_task(self._keepalive())

    def _subscriber(self) -> WireSubscriber:
        proto = WireSubscriber(
            self.client_id,
            self.topic,
            # bound to this connection: a message is acknowledged where it came from, also when it is
            # redelivered before the SUBACK (a new connection's first packets after a restart)
            lambda topic, payload, qos, packet_id: self._on_publish(proto, topic, payload, qos, packet_id),
            self.session_expiry_s,
            clean_start=False,
            username=self.username,
            password=self.password,
        )
        return proto

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        where = f"MQTT {self.host}:{self.port}"
        _, proto = await loop.create_connection(
            self._subscriber,
            self.host,
            self.port,
            ssl=self.ssl,
            server_hostname=self.host if self.ssl is not None else None,
        )
        try:
            await asyncio.wait_for(proto.ready.wait(), timeout=10)
        except TimeoutError:
            proto.close()
            raise ConnectionError(f"{where}: no CONNACK/SUBACK within 10 s") from None
        if proto.error:
            proto.close()
            if proto.refused is not None:
                raise MqttRefused(f"{where} as '{self.username or '(anonymous)'}': {proto.error}")
            raise ConnectionError(f"{where}: {proto.error}")
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
            if proto is not None and proto.error:
                # e.g. "session taken over": two processes share a client id and keep evicting each other
                log.error("MQTT connection lost (%s); reconnecting", proto.error)
            else:
                log.warning("MQTT connection lost; reconnecting")
            await asyncio.sleep(2)
            try:
                await self._connect()
            except (OSError, TimeoutError, ConnectionError) as exc:
                log.warning("MQTT reconnect failed: %s", exc)

    async def stop(self) -> None:
        """Leave the group without losing anything: unsubscribe, flush and acknowledge what is in flight
        (and what the broker still had queued for this session), then end the session (expiry 0).

        If something stays unacknowledged (the bus is down), the session is kept instead, so the broker
        redelivers it to this client id when the process comes back."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await settle([self._task], 5.0, "MQTT stop")
        proto = self._proto
        if proto is None or proto.closed.is_set():
            return
        proto.unsubscribe()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proto.unsubscribed.wait(), timeout=5)
        drained = await self._drain(proto)
        if drained:
            proto.close(session_expiry_s=0)
        else:
            log.warning(
                "MQTT stop: %d messages still unacknowledged after %.0f s; keeping the session",
                proto.inflight,
                self.drain_timeout_s,
            )
            proto.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proto.closed.wait(), timeout=5)

    async def _drain(self, proto: WireSubscriber) -> bool:
        """Flush until nothing has arrived for ``drain_quiet_s`` and everything taken is acknowledged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout_s
        while not proto.closed.is_set():
            try:
                await self.ingestor.flush()
            except Exception:  # the bus is down: what is unacknowledged stays with the broker
                log.exception("MQTT stop: flush failed")
                return False
            quiet = time.monotonic() - self._last_received >= self.drain_quiet_s
            if quiet and proto.inflight <= 0:
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return False

    def abort(self) -> None:
        """Drop the connection without a DISCONNECT, as a crash would (unacknowledged QoS 1 stays queued)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.abort()

    def _on_publish(
        self, proto: WireSubscriber, topic_bytes: bytes, payload: bytes, qos: int, packet_id: int
    ) -> None:
        self.received += 1
        self._last_received = time.monotonic()
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
            proto.inflight += 1
            ingestor.after_publish(lambda: proto.ack(packet_id))
