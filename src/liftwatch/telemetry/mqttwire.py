"""A minimal MQTT 5 client codec: just what a high-rate ingest subscriber and a load publisher need
(CONNECT with credentials, SUBSCRIBE, UNSUBSCRIBE, PUBLISH QoS 0/1, PUBACK, PINGREQ, DISCONNECT with a
session expiry), parsing whole socket reads at once.

paho-mqtt parses one packet per call through several Python layers (about 10 µs a message); at a city's
rate that, not the broker, is the limit. This codec parses a buffer of many packets in one loop.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 1, 2, 3, 4, 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14

#: MQTT 5 reason codes a broker answers a CONNECT or SUBSCRIBE with (spec 2.4), so a refusal says why.
REASONS = {
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x83: "implementation specific error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8C: "bad authentication method",
    0x8E: "session taken over (another connection uses this client id)",
    0x8F: "topic filter invalid",
    0x90: "topic name invalid",
    0x91: "packet identifier in use",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x99: "payload format invalid",
    0x9A: "retain not supported",
    0x9B: "QoS not supported",
    0x9C: "use another server",
    0x9D: "server moved",
    0x9E: "shared subscriptions not supported",
    0x9F: "connection rate exceeded",
    0xA2: "wildcard subscriptions not supported",
}


def reason_text(code: int) -> str:
    """``0x86`` -> ``'bad user name or password (0x86)'``."""
    return f"{REASONS.get(code, 'reason')} (0x{code:02X})"


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
    client_id: str,
    keepalive: int = 30,
    clean_start: bool = True,
    session_expiry_s: int = 0,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """CONNECT (MQTT 5); ``username``/``password`` for a broker with ``allow_anonymous false``."""
    props = b""
    if session_expiry_s:
        props = b"\x11" + struct.pack("!I", session_expiry_s)
    flags = 0x02 if clean_start else 0x00
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = _str("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive) + _varint(len(props)) + props
    body += _str(client_id)
    if username is not None:
        body += _str(username)
    if password is not None:
        pw = password.encode()
        body += struct.pack("!H", len(pw)) + pw
    return _packet(CONNECT, 0, body)


def subscribe_packet(packet_id: int, topic: str, qos: int = 1) -> bytes:
    body = struct.pack("!H", packet_id) + b"\x00" + _str(topic) + bytes([qos])
    return _packet(SUBSCRIBE, 2, body)


def unsubscribe_packet(packet_id: int, topic: str) -> bytes:
    body = struct.pack("!H", packet_id) + b"\x00" + _str(topic)
    return _packet(UNSUBSCRIBE, 2, body)


def disconnect_packet(session_expiry_s: int | None = None) -> bytes:
    """DISCONNECT, normal. ``session_expiry_s=0`` ends the session with the connection: the broker stops
    routing shared-subscription traffic to it (a persistent session would keep taking its share)."""
    if session_expiry_s is None:
        return bytes([DISCONNECT << 4, 0])
    props = b"\x11" + struct.pack("!I", session_expiry_s)
    return _packet(DISCONNECT, 0, b"\x00" + _varint(len(props)) + props)


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
    """An asyncio MQTT 5 subscriber over this codec. ``on_publish`` runs in the event loop.

    ``ready`` is set once the subscription stands (SUBACK) or the attempt failed (``error`` says why,
    e.g. a CONNACK refusal); ``subscribed`` only on success. ``inflight`` counts QoS 1 messages
    received on this connection and not yet acknowledged (the owner increments it; ``ack`` decrements),
    so a graceful stop can tell when everything it took has been acknowledged."""

    def __init__(
        self,
        client_id: str,
        topic: str,
        on_publish: Callable[[bytes, bytes, int, int], None],
        session_expiry_s: int = 0,
        clean_start: bool = True,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.topic = topic
        self.session_expiry_s = session_expiry_s
        self.clean_start = clean_start
        self.username = username
        self.password = password
        self.transport: asyncio.Transport | None = None
        self.parser = Parser(on_publish, self._on_other)
        self.subscribed = asyncio.Event()
        self.ready = asyncio.Event()
        self.unsubscribed = asyncio.Event()
        self.closed = asyncio.Event()
        self.error: str | None = None
        self.refused: int | None = None  # reason code of a refused CONNECT or SUBSCRIBE
        self.inflight = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            connect_packet(
                self.client_id,
                30,
                self.clean_start,
                self.session_expiry_s,
                self.username,
                self.password,
            )
        )

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)

    def _on_other(self, kind: int, body: bytes) -> None:
        assert self.transport is not None
        if kind == CONNACK:
            if len(body) >= 2 and body[1] != 0:
                self.refused = body[1]
                self.error = f"connection refused: {reason_text(body[1])}"
                self.ready.set()
                self.transport.close()
                return
            self.transport.write(subscribe_packet(1, self.topic, 1))
        elif kind == SUBACK:
            if len(body) >= 4 and body[-1] >= 0x80:
                self.refused = body[-1]
                self.error = f"subscription to '{self.topic}' refused: {reason_text(body[-1])}"
            else:
                self.subscribed.set()
            self.ready.set()
        elif kind == UNSUBACK:
            self.unsubscribed.set()
        elif kind == DISCONNECT:
            if len(body) >= 1 and body[0] >= 0x80:
                self.error = f"disconnected by the broker: {reason_text(body[0])}"
            self.transport.close()

    def ack(self, packet_id: int) -> None:
        """PUBACK on this connection (the one the message came on: packet ids belong to it)."""
        self.inflight -= 1
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(puback_packet(packet_id))

    def ping(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(PINGREQ_PACKET)

    def unsubscribe(self) -> None:
        """Leave the (shared) subscription; ``unsubscribed`` is set when the broker confirms."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(unsubscribe_packet(2, self.topic))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.error is None and not self.ready.is_set():
            self.error = f"connection closed before the subscription: {exc or 'by the broker'}"
        self.ready.set()
        self.closed.set()

    def close(self, session_expiry_s: int | None = None) -> None:
        """DISCONNECT and close; ``session_expiry_s=0`` also ends the session on the broker."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(disconnect_packet(session_expiry_s))
            self.transport.close()
