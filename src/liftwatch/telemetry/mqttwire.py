"""A minimal MQTT 5 client codec: just what a high-rate ingest subscriber and a load publisher need
(CONNECT, SUBSCRIBE, PUBLISH QoS 0/1, PUBACK, PINGREQ), parsing whole socket reads at once.

paho-mqtt parses one packet per call through several Python layers (about 10 µs a message); at a city's
rate that, not the broker, is the limit. This codec parses a buffer of many packets in one loop.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = (
    1,
    2,
    3,
    4,
    8,
    9,
    12,
    13,
    14,
)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([(kind << 4) | flags]) + _varint(len(body)) + body


def connect_packet(
    client_id: str, keepalive: int = 30, clean_start: bool = True, session_expiry_s: int = 0
) -> bytes:
    props = b""
    if session_expiry_s:
        props = b"\x11" + struct.pack("!I", session_expiry_s)
    flags = 0x02 if clean_start else 0x00
    body = _str("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive) + _varint(len(props)) + props
    body += _str(client_id)
    return _packet(CONNECT, 0, body)


def subscribe_packet(packet_id: int, topic: str, qos: int = 1) -> bytes:
    body = struct.pack("!H", packet_id) + b"\x00" + _str(topic) + bytes([qos])
    return _packet(SUBSCRIBE, 2, body)


def publish_packet(topic: str, payload: bytes, qos: int = 0, packet_id: int = 0) -> bytes:
    body = _str(topic)
    if qos:
        body += struct.pack("!H", packet_id)
    body += b"\x00" + payload  # no properties
    return _packet(PUBLISH, qos << 1, body)


def puback_packet(packet_id: int) -> bytes:
    return _packet(PUBACK, 0, struct.pack("!H", packet_id))


PINGREQ_PACKET = bytes([PINGREQ << 4, 0])


@dataclass(slots=True)
class Publish:
    topic: bytes
    payload: bytes
    qos: int
    packet_id: int


class Parser:
    """Feed it socket reads; it calls ``on_publish(topic, payload, qos, packet_id)`` for each PUBLISH and
    ``on_other(kind, body)`` for everything else. Incomplete packets wait for the next read."""

    def __init__(
        self,
        on_publish: Callable[[bytes, bytes, int, int], None],
        on_other: Callable[[int, bytes], None] | None = None,
    ) -> None:
        self._buf = b""
        self.on_publish = on_publish
        self.on_other = on_other

    def feed(self, data: bytes) -> int:
        buf = self._buf + data if self._buf else data
        n = len(buf)
        i = 0
        count = 0
        on_publish = self.on_publish
        while i + 2 <= n:
            first = buf[i]
            # remaining length: 1-4 bytes
            mult = 1
            length = 0
            j = i + 1
            while True:
                if j >= n:
                    self._buf = buf[i:]
                    return count
                b = buf[j]
                length += (b & 0x7F) * mult
                j += 1
                if not b & 0x80:
                    break
                mult *= 128
                if mult > 128**3:
                    raise ValueError("malformed remaining length")
            end = j + length
            if end > n:
                break
            kind = first >> 4
            if kind == PUBLISH:
                qos = (first >> 1) & 3
                tlen = (buf[j] << 8) | buf[j + 1]
                k = j + 2 + tlen
                topic = buf[j + 2 : k]
                pid = 0
                if qos:
                    pid = (buf[k] << 8) | buf[k + 1]
                    k += 2
                # properties: varint length (usually 0)
                plen = buf[k]
                if plen < 0x80:
                    k += 1 + plen
                else:
                    plen = 0
                    mult = 1
                    while True:
                        b = buf[k]
                        k += 1
                        plen += (b & 0x7F) * mult
                        if not b & 0x80:
                            break
                        mult *= 128
                    k += plen
                on_publish(topic, buf[k:end], qos, pid)
                count += 1
            elif self.on_other is not None:
                self.on_other(kind, buf[j:end])
            i = end
        self._buf = buf[i:] if i < n else b""
        return count


class WireSubscriber(asyncio.Protocol):
    """An asyncio MQTT 5 subscriber over this codec. ``on_publish`` runs in the event loop."""

    def __init__(
        self,
        client_id: str,
        topic: str,
        on_publish: Callable[[bytes, bytes, int, int], None],
        session_expiry_s: int = 0,
        clean_start: bool = True,
    ) -> None:
        self.client_id = client_id
        self.topic = topic
        self.session_expiry_s = session_expiry_s
        self.clean_start = clean_start
        self.transport: asyncio.Transport | None = None
        self.parser = Parser(on_publish, self._on_other)
        self.subscribed = asyncio.Event()
        self.closed = asyncio.Event()
        self.error: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(connect_packet(self.client_id, 30, self.clean_start, self.session_expiry_s))

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)

    def _on_other(self, kind: int, body: bytes) -> None:
        assert self.transport is not None
        if kind == CONNACK:
            if len(body) >= 2 and body[1] != 0:
                self.error = f"CONNACK reason code {body[1]}"
                self.transport.close()
                return
            self.transport.write(subscribe_packet(1, self.topic, 1))
        elif kind == SUBACK:
            if len(body) >= 4 and body[-1] >= 0x80:
                self.error = f"SUBACK reason code {body[-1]}"
            self.subscribed.set()
        elif kind == DISCONNECT:
            self.transport.close()

    def ack(self, packet_id: int) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(puback_packet(packet_id))

    def ping(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(PINGREQ_PACKET)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.write(bytes([DISCONNECT << 4, 0]))
            self.transport.close()
