"""How validated telemetry travels on the bus: batches of (code, received_ms, type, raw JSON) records,
partitioned by elevator so one worker sees each elevator's messages in order."""

from __future__ import annotations

import zlib

import msgspec

from liftwatch.telemetry.protocol import MessageType

STREAM = "TELEMETRY"
SUBJECT_PREFIX = "telemetry"
KINDS: tuple[MessageType, ...] = (MessageType.STATUS, MessageType.EVENT, MessageType.HEARTBEAT)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}

Record = tuple[str, int, int, bytes]  # registration code, received ms, KINDS index, raw JSON

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[str, int, int, bytes]])


def partition_of(code: str, partitions: int) -> int:
    return zlib.crc32(code.encode()) % partitions


def subject_of(partition: int) -> str:
    return f"{SUBJECT_PREFIX}.p{partition}"


def encode_batch(records: list[Record]) -> bytes:
    return _encoder.encode(records)


def decode_batch(data: bytes) -> list[Record]:
    return _decoder.decode(data)
