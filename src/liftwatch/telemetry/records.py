"""How validated telemetry travels on the bus: batches of (code, received_ms, type, raw JSON) records,
partitioned by elevator so one worker sees each elevator's messages in order."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import msgspec

from liftwatch.core.bus import stream_name, subject_name
from liftwatch.telemetry.faults import FaultChange, FaultType, Severity
from liftwatch.telemetry.protocol import MessageType

__all__ = [
    "DEFAULT_TOPOLOGY",
    "FaultRecord",
    "FaultType",
    "Record",
    "Severity",
    "Topology",
    "decode_batch",
    "decode_fault",
    "encode_batch",
    "encode_fault",
    "partition_of",
]

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
        return stream_name(self.namespace, STREAM)

    @property
    def prefix(self) -> str:
        return subject_name(self.namespace, SUBJECT_PREFIX)

    @property
    def all_subjects(self) -> str:
        return f"{self.prefix}.>"

    def subject_of(self, partition: int) -> str:
        return f"{self.prefix}.p{partition}"

    @property
    def faults_stream(self) -> str:
        """Fault changes, durable: the rescue intake turns entrapments into incidents from here."""
        return stream_name(self.namespace, "FAULTS")

    @property
    def faults_subjects(self) -> str:
        return subject_name(self.namespace, "faults.>")

    def faults_subject(self, fault_type: str) -> str:
        return subject_name(self.namespace, f"faults.{fault_type}")


DEFAULT_TOPOLOGY = Topology()


def partition_of(code: str, partitions: int) -> int:
    return zlib.crc32(code.encode()) % partitions


def encode_batch(records: list[Record]) -> bytes:
    return _encoder.encode(records)


def decode_batch(data: bytes) -> list[Record]:
    return _decoder.decode(data)


class FaultRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """A fault change as it travels on the FAULTS stream (raised, severity changed, or cleared).

    The one contract between the detector and its readers (the rescue intake today; maintenance and
    supervision next): typed, so a reader never picks a dict apart. Unknown fields are ignored so a newer
    detector may add some; a fault type this version does not know fails to decode and is passed over."""

    fault_id: str  # registration code : fault type : start ms (stable across replays)
    registration_code: str
    fault_type: FaultType
    raised: bool  # False: cleared
    severity: Severity
    at_ms: int
    started_ms: int
    evidence: list[str] = []  # msg ids that raised (or cleared) it

    @classmethod
    def of(cls, change: FaultChange) -> FaultRecord:
        return cls(
            fault_id=change.fault_id,
            registration_code=change.registration_code,
            fault_type=change.fault_type,
            raised=change.raised,
            severity=change.severity,
            at_ms=change.at_ms,
            started_ms=change.started_ms,
            evidence=list(change.evidence),
        )


_fault_encoder = msgspec.json.Encoder()
_fault_decoder = msgspec.json.Decoder(FaultRecord)


def encode_fault(record: FaultRecord) -> bytes:
    return _fault_encoder.encode(record)


def decode_fault(data: bytes) -> FaultRecord:
    """Raises ``msgspec.DecodeError`` (``ValidationError`` included) on a record that is not a fault."""
    return _fault_decoder.decode(data)
