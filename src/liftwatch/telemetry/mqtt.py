"""MQTT ingestion: a paho-mqtt v5 client driven by the asyncio loop (no extra thread), on a shared
subscription so several ingest processes split a city's traffic.

QoS 1 messages (events) are acknowledged to the broker only after the batch holding them is stored on
the bus (manual acks): if the process dies first, the broker delivers them again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from liftwatch.telemetry.ingest import Ingestor
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
        self._expiry = session_expiry_s
        self.connected = asyncio.Event()
        self.received = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._misc: asyncio.Task[None] | None = None
        c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_socket_open = self._on_socket_open
        c.on_socket_close = self._on_socket_close
        c.on_socket_register_write = self._on_register_write
        c.on_socket_unregister_write = self._on_unregister_write
        c.max_inflight_messages_set(1000)
        self.client = c

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._expiry  # QoS 1 messages wait for us across a restart
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        self.client.disconnect()
        if self._misc is not None:
            self._misc.cancel()

    # paho callbacks -------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.received += 1
        received_ms = time.time_ns() // 1_000_000
        payload: bytes = msg.payload if isinstance(msg.payload, bytes) else bytes(msg.payload)
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self.ingestor.reject(
                "mqtt",
                repr(msg._topic[:200]),
                Rejected("bad_topic", "topic is not UTF-8"),
                payload,
                received_ms,
            )
            topic = None
        if topic is not None:
            self.ingestor.accept_mqtt(topic, payload, received_ms)
        if msg.qos > 0:
            mid, qos = msg.mid, msg.qos
            self.ingestor.after_publish(lambda: client.ack(mid, qos))

    def _on_socket_open(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.add_reader(sock, lambda: client.loop_read(1000))
        self._misc = self._loop.create_task(self._misc_loop())

    def _on_socket_close(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.remove_reader(sock)
        if self._misc is not None:
            self._misc.cancel()

    def _on_register_write(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.add_writer(sock, client.loop_write)

    def _on_unregister_write(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.remove_writer(sock)

    async def _misc_loop(self) -> None:
        while self.client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:
            await asyncio.sleep(1)
        # disconnected: paho reconnects when asked; retry every few seconds
        while True:
            await asyncio.sleep(2)
            try:
                self.client.reconnect()
                return
            except OSError as exc:
                log.warning("MQTT reconnect failed: %s", exc)
