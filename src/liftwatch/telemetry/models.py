"""Telemetry tables: fault records, live status per elevator, dead letters, detector checkpoints, service
state changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Fault(Base):
    """One fault on one elevator, from raise to clear. ``fault_id`` (elevator, type, start) makes a
    redelivered message idempotent: the same fault is never stored twice."""

    __tablename__ = "faults"
    __table_args__ = (
        Index("ix_faults_code_started", "registration_code", "started_at"),
        Index("ix_faults_open", "cleared_at", "fault_type"),
        # the city's figures count a month's faults per group (migration 0027)
        Index("ix_faults_started_type", "started_at", "fault_type", "registration_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fault_id: Mapped[str] = mapped_column(String(120), unique=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    fault_type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    clear_evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LiveStatus(Base):
    """The latest known state of each elevator's terminal (flushed from memory every few seconds)."""

    __tablename__ = "live_status"

    registration_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    mode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    running: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    direction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    door_zone: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    door_closed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    passenger: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    power: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    speed: Mapped[float | None] = mapped_column(Float, nullable=True)
    trips: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    door_cycles: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    run_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    rope_bends: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    open_faults: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetter(Base):
    """A message that was not accepted, kept whole with the reason, so nothing is silently dropped."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_reason_received", "reason", "received_at"),
        Index("ix_dead_letters_code_reason", "registration_code", "reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))  # mqtt, http, nats
    topic: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # the elevator the message names, when it could be read: an unknown_elevator letter is replayed
    # when that elevator is registered
    registration_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DetectorCheckpoint(Base):
    """The detector's state for one stream partition and the stream sequence it includes.

    After a restart the worker loads it and the stream redelivers everything after it."""

    __tablename__ = "detector_checkpoints"

    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stream_seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # which incarnation of the stream ``stream_seq`` counts in: an in-process stream starts again at 1
    # in every process, a JetStream stream when it is recreated; a position in another epoch is void
    stream_epoch: Mapped[str] = mapped_column(String(64), default="", server_default="")


class TerminalCredential(Base):
    """A terminal's broker account: the user name (its elevator's registration code, so the broker's ACL
    can confine it to its own topics with ``%u``) and only hashes of its password (the plaintext is
    shown once at issue). ``password_hash`` is Mosquitto's PBKDF2-SHA512 ``$7$`` form; ``nats_password_hash``
    bcrypt for nats-server. A revoked row keeps the history and is left out of the broker files."""

    __tablename__ = "terminal_credentials"

    registration_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    nats_password_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ServiceStateChange(Base):
    """One change of an elevator's service mode (``kind`` "mode", ``value`` a ServiceMode) or of its
    terminal's online state (``kind`` "online", ``value`` 1 back online, 0 gone silent), timed as the
    detector timed the message (silence: from the last message heard), with the terminal's trip and
    door-cycle counters at that moment when known. Append-only; written with the detector checkpoint that
    acknowledges the messages, and the unique key makes a replay after a restart insert nothing twice."""

    __tablename__ = "service_state_changes"
    __table_args__ = (UniqueConstraint("registration_code", "at", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer)
    previous: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trips: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    door_cycles: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PartitionLease(Base):
    """Which detector process owns a telemetry partition, and until when (docs/ARCHITECTURE.md, "Several
    detectors"). The owner renews it; when it stops renewing (its process died) another takes it after
    ``expires_at``. ``token`` grows at every taking: a checkpoint is saved only while the token is still
    the saver's, so a process that stalled past its lease and woke cannot acknowledge on the stream what
    the new owner has not processed."""

    __tablename__ = "partition_leases"

    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(128), default="")
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DetectorMember(Base):
    """A detector process that takes partition leases, while it keeps saying so: the partitions are shared
    evenly among the live ones."""

    __tablename__ = "detector_members"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
