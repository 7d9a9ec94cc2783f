"""How validated telemetry travels on the bus: batches of (code, received_ms, type, raw JSON) records,
partitioned by elevator so one worker sees each elevator's messages in order."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import msgspec

from liftwatch.telemetry.protocol import MessageType

STREAM = "TELEMETRY"
SUBJECT_PREFIX = "telemetry"
KINDS: tuple[MessageType, ...] = (MessageType.STATUS, MessageType.EVENT, MessageType.HEARTBEAT)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}

Record = tuple[str, int, int, bytes]  # registration code, received ms, KINDS index, raw JSON

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[str, int, int, bytes]])


@dataclass(frozen=True)
class Topology:
    """Names on the bus. A namespace lets several platforms (or test runs) share one NATS server."""

    namespace: str = ""

    @property
    def stream(self) -> str:
        return f"{self.namespace.upper()}{STREAM}"

    @property
    def prefix(self) -> str:
        return f"{self.namespace.lower()}{SUBJECT_PREFIX}"

    @property
    def all_subjects(self) -> str:
        return f"{self.prefix}.>"

    def subject_of(self, partition: int) -> str:
        return f"{self.prefix}.p{partition}"

    @property
    def faults_stream(self) -> str:
        """Fault changes, durable: the rescue intake turns entrapments into incidents from here."""
        return f"{self.namespace.upper()}FAULTS"

    @property
    def faults_subjects(self) -> str:
        return f"{self.namespace.lower()}faults.>"

    def faults_subject(self, fault_type: str) -> str:
        return f"{self.namespace.lower()}faults.{fault_type}"


DEFAULT_TOPOLOGY = Topology()


def partition_of(code: str, partitions: int) -> int:
    return zlib.crc32(code.encode()) % partitions


def encode_batch(records: list[Record]) -> bytes:
    return _encoder.encode(records)


def decode_batch(data: bytes) -> list[Record]:
    return _decoder.decode(data)
