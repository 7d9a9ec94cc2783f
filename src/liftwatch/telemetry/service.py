"""The telemetry domain's writer: fault records and their timeline entries, live status, dead letters,
detector checkpoints. Every write is idempotent, so a redelivered stream batch changes nothing twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.bus import Bus, StreamInfo
from liftwatch.core.db import table_of, upsert_insert, write_rows
from liftwatch.core.errors import Forbidden
from liftwatch.core.settings_table import process_environment
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.telemetry.faults import SEVERITY, DetectorSettings, FaultChange, Severity
from liftwatch.telemetry.models import (
    DeadLetter,
    DetectorCheckpoint,
    Fault,
    LiveStatus,
    ServiceStateChange,
)

_SEVERITY_RANK = {Severity.INFO: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}

DETECTOR_ENV_PREFIX = "LIFTWATCH_DETECTOR_"

# The fault records fault_history hands out, for callers' annotations (the table stays telemetry's own)
StoredFault: TypeAlias = Fault


def detector_settings_from_env(environ: Mapping[str, str] | None = None) -> DetectorSettings:
    """The fault rules' thresholds: ``LIFTWATCH_DETECTOR_<NAME>`` (any case) over the documented defaults
    (docs/PROTOCOL.md). The one place they are read; the workers' wiring calls it and passes the result
    down, so the detector stays pure. A value out of bounds is a ValueError naming every bad variable.
    Without ``environ``: the process's environment over the ``.env`` file, as the other settings groups."""
    env = process_environment() if environ is None else environ
    fields = set(DetectorSettings.__struct_fields__)
    given: dict[str, str] = {}
    for key, raw in env.items():
        upper = key.upper()
        if upper.startswith(DETECTOR_ENV_PREFIX) and upper[len(DETECTOR_ENV_PREFIX) :].lower() in fields:
            given[upper[len(DETECTOR_ENV_PREFIX) :].lower()] = raw
    problems = []
    for name, raw in sorted(given.items()):
        try:  # one at a time, so the message names the variable
            msgspec.convert({name: raw}, DetectorSettings, strict=False)
        except msgspec.ValidationError as exc:
            problems.append(f"{DETECTOR_ENV_PREFIX}{name.upper()}={raw!r}: {str(exc).split(' - at ')[0]}")
    if problems:
        raise ValueError("; ".join(problems))
    return msgspec.convert(given, DetectorSettings, strict=False)


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


# ---------------------------------------------------------------- faults


def apply_fault_changes(session: Session, changes: Sequence[FaultChange]) -> list[FaultChange]:
    """Store raised and cleared faults and their elevator-file entries. Returns the changes that were new
    (a redelivered change is stored already and returned no more), for announcing after the commit."""
    if not changes:
        return []
    fresh: list[FaultChange] = []
    faults = table_of(Fault)
    timeline: list[registry.SystemEntry] = []
    for ch in changes:
        if ch.raised:
            existing = session.execute(
                select(Fault.id, Fault.severity).where(Fault.fault_id == ch.fault_id)
            ).first()
            if existing is None:
                stmt = upsert_insert(session, faults).values(
                    fault_id=ch.fault_id,
                    registration_code=ch.registration_code,
                    fault_type=ch.fault_type.value,
                    severity=ch.severity.value,
                    started_at=ms_to_dt(ch.started_ms),
                    raised_at=ms_to_dt(ch.at_ms),
                    cleared_at=None,
                    evidence=list(ch.evidence),
                    clear_evidence=[],
                    detail=dict(ch.detail),
                )
                session.execute(stmt.on_conflict_do_nothing(index_elements=["fault_id"]))
                fresh.append(ch)
            elif _SEVERITY_RANK[ch.severity] > _SEVERITY_RANK[Severity(existing.severity)]:
                session.execute(
                    update(Fault).where(Fault.fault_id == ch.fault_id).values(severity=ch.severity.value)
                )
                fresh.append(ch)
                continue
            else:
                continue
        else:
            result = session.execute(
                update(Fault)
                .where(Fault.fault_id == ch.fault_id, Fault.cleared_at.is_(None))
                .values(cleared_at=ms_to_dt(ch.at_ms), clear_evidence=list(ch.evidence))
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                continue
            fresh.append(ch)
        timeline.append(
            registry.SystemEntry(
                registration_code=ch.registration_code,
                kind="fault" if ch.raised else "fault_cleared",
                occurred_at=ms_to_dt(ch.at_ms),
                summary=ch.fault_type.value,
                details={
                    "fault_id": ch.fault_id,
                    "fault_type": ch.fault_type.value,
                    "severity": ch.severity.value,
                    "started_at": ms_to_dt(ch.started_ms).isoformat(),
                    "evidence": list(ch.evidence),
                    **{k: v for k, v in ch.detail.items() if isinstance(v, str | int | float | bool)},
                },
                dedupe_key=f"{ch.fault_id}:{'raised' if ch.raised else 'cleared'}",
            )
        )
    registry.append_system_entries(session, timeline, recorded_by="detector")
    return fresh


def open_faults(session: Session, registration_code: str | None = None) -> list[Fault]:
    stmt = select(Fault).where(Fault.cleared_at.is_(None))
    if registration_code is not None:
        stmt = stmt.where(Fault.registration_code == registration_code)
    return list(session.scalars(stmt.order_by(Fault.started_at.desc())))


def list_faults(
    session: Session,
    codes: set[str] | None,
    open_only: bool = True,
    fault_type: str | None = None,
    limit: int = 500,
) -> list[Fault]:
    """Faults among ``codes`` (None: every elevator), newest first."""
    stmt = select(Fault)
    if open_only:
        stmt = stmt.where(Fault.cleared_at.is_(None))
    if fault_type:
        stmt = stmt.where(Fault.fault_type == fault_type)
    if codes is not None:
        if not codes:
            return []
        stmt = stmt.where(Fault.registration_code.in_(codes))
    return list(session.scalars(stmt.order_by(Fault.started_at.desc()).limit(limit)))


def fault_history(session: Session, actor: Actor, registration_code: str, limit: int = 100) -> list[Fault]:
    """Faults of one elevator, newest first; scoped like the elevator itself."""
    registry_queries.get_elevator(session, actor, registration_code)  # NotFound outside scope
    return list(
        session.scalars(
            select(Fault)
            .where(Fault.registration_code == registration_code)
            .order_by(Fault.started_at.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- live status


LIVE_FIELDS = (
    "mode",
    "running",
    "direction",
    "door_zone",
    "door_closed",
    "passenger",
    "floor",
    "power",
    "speed",
    "trips",
    "door_cycles",
    "run_hours",
    "rope_bends",
)


def upsert_live_status(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Write the latest state of each elevator (one row per elevator, replaced whole)."""
    return write_rows(session, LiveStatus, list(rows), ["registration_code"])


def live_status(session: Session, actor: Actor, registration_code: str) -> LiveStatus | None:
    registry_queries.get_elevator(session, actor, registration_code)
    return session.get(LiveStatus, registration_code)


# ---------------------------------------------------------------- dead letters


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    received_ms: int
    source: str
    topic: str
    reason: str
    detail: str
    payload: bytes
    registration_code: str | None = None  # when the message names one (replayed once it is registered)


def _storable(text: str, limit: int) -> str:
    """Text as PostgreSQL stores it: a NUL (which it refuses, failing the whole batch of letters) is
    written as the two characters ``\\0``. The payload keeps the bytes exactly as they came."""
    return text.replace("\x00", "\\0")[:limit]


def store_dead_letters(session: Session, letters: Sequence[DeadLetterRecord]) -> int:
    """Keep every rejected message; a message naming an impossible code (with a NUL) keeps no code, as
    no elevator can ever be registered under it (so it is never replayed)."""
    if not letters:
        return 0
    session.execute(
        table_of(DeadLetter).insert(),
        [
            {
                "received_at": ms_to_dt(d.received_ms),
                "source": d.source,
                "topic": _storable(d.topic, 255),
                "reason": d.reason,
                "detail": _storable(d.detail, 2000),
                "payload": d.payload[:1_048_576],
                "registration_code": (
                    d.registration_code[:40]
                    if d.registration_code and "\x00" not in d.registration_code
                    else None
                ),
            }
            for d in letters
        ],
    )
    return len(letters)


@dataclass(frozen=True, slots=True)
class Replay:
    """A dead letter to feed through ingestion again (as it first arrived)."""

    id: int
    received_ms: int
    source: str
    topic: str
    payload: bytes


def codes_awaiting_replay(session: Session) -> set[str]:
    """Elevators named by unknown_elevator dead letters not replayed yet."""
    return set(
        session.scalars(
            select(DeadLetter.registration_code)
            .where(
                DeadLetter.reason == "unknown_elevator",
                DeadLetter.replayed_at.is_(None),
                DeadLetter.registration_code.is_not(None),
            )
            .distinct()
        )
    )


def claim_replays(session: Session, codes: Iterable[str], now: datetime, limit: int = 10_000) -> list[Replay]:
    """Take the unknown_elevator letters of ``codes`` for replay, marking them replayed (so two ingest
    processes do not both replay one; a replay is a duplicate downstream anyway, which is dropped)."""
    codes = list(codes)
    if not codes:
        return []
    out: list[Replay] = []
    for i in range(0, len(codes), 500):
        rows = session.execute(
            select(
                DeadLetter.id, DeadLetter.received_at, DeadLetter.source, DeadLetter.topic, DeadLetter.payload
            )
            .where(
                DeadLetter.reason == "unknown_elevator",
                DeadLetter.replayed_at.is_(None),
                DeadLetter.registration_code.in_(codes[i : i + 500]),
            )
            .order_by(DeadLetter.id)
            .limit(limit - len(out))
        ).all()
        for id_, at, source, topic, payload in rows:
            claimed = session.execute(
                update(DeadLetter)
                .where(DeadLetter.id == id_, DeadLetter.replayed_at.is_(None))
                .values(replayed_at=now)
            )
            if claimed.rowcount:  # type: ignore[attr-defined]
                out.append(Replay(id_, int(at.timestamp() * 1000), source, topic, bytes(payload)))
        if len(out) >= limit:
            break
    return out


def dead_letter_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason))
    return {reason: int(n) for reason, n in rows}


# ---------------------------------------------------------------- service state changes

# ServiceStateChange.kind: a change of service mode (value: the ServiceMode) or of online state (1/0)
MODE_CHANGE = "mode"
ONLINE_CHANGE = "online"


def state_change_row(
    registration_code: str,
    at_ms: int,
    kind: str,
    value: int,
    previous: int | None,
    trips: int | None,
    door_cycles: int | None,
    now: datetime,
) -> dict[str, Any]:
    """One row for record_state_changes (built by the detector worker, kept until its checkpoint)."""
    return {
        "registration_code": registration_code,
        "at": ms_to_dt(at_ms),
        "kind": kind,
        "value": value,
        "previous": previous,
        "trips": trips,
        "door_cycles": door_cycles,
        "recorded_at": now,
    }


def record_state_changes(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Append changes of service mode and online state. Called in the checkpoint's transaction; a change
    already recorded (the same elevator, time, kind and value: a replay after a restart) is skipped."""
    return write_rows(
        session, ServiceStateChange, rows, ["registration_code", "at", "kind", "value"], replace=False
    )


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(
    session: Session, partition: int, stream_seq: int, state: bytes, now: datetime, stream_epoch: str = ""
) -> None:
    table = table_of(DetectorCheckpoint)
    stmt = upsert_insert(session, table).values(
        partition=partition, stream_seq=stream_seq, state=state, saved_at=now, stream_epoch=stream_epoch
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["partition"],
            set_={
                "stream_seq": stmt.excluded.stream_seq,
                "state": stmt.excluded.state,
                "saved_at": now,
                "stream_epoch": stmt.excluded.stream_epoch,
            },
        )
    )


def load_checkpoint(session: Session, partition: int) -> DetectorCheckpoint | None:
    return session.get(DetectorCheckpoint, partition)


# ---------------------------------------------------------------- stats


def stats(session: Session, actor: Actor) -> dict[str, Any]:
    """Platform-wide telemetry figures for operators and regulators."""
    if actor.role not in (Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR):
        raise Forbidden(f"role '{actor.role.value}' may not read platform telemetry statistics")
    open_by_type = dict(
        session.execute(
            select(Fault.fault_type, func.count())
            .where(Fault.cleared_at.is_(None))
            .group_by(Fault.fault_type)
        ).all()
    )
    online = dict(session.execute(select(LiveStatus.online, func.count()).group_by(LiveStatus.online)).all())
    return {
        "elevators_reporting": int(sum(online.values())),
        "online": int(online.get(True, 0)),
        "offline": int(online.get(False, 0)),
        "open_faults": {str(k): int(v) for k, v in open_by_type.items()},
        "faults_total": int(session.scalar(select(func.count()).select_from(Fault)) or 0),
        "dead_letters": dead_letter_counts(session),
        "severity": {t.value: s.value for t, s in SEVERITY.items()},
    }


DETECTOR_CONSUMER_PREFIX = "detector-p"  # a detector partition's durable consumer: detector-p<N>


async def stream_stats(bus: Bus, streams: Mapping[str, str]) -> dict[str, Any]:
    """The streams' own counters, as the bus keeps them (``streams``: label -> stream name): the same in
    every process, so right where the pipeline runs elsewhere (a web process with
    LIFTWATCH_PIPELINE=false), unlike the counters of the workers in this process. A stream the bus
    cannot describe is reported with its error."""
    out: dict[str, Any] = {}
    for label, name in streams.items():
        try:
            info = await bus.stream_info(name)
        except Exception as exc:  # NATS down, or the stream not created yet
            out[label] = {"name": name, "error": f"{type(exc).__name__}: {exc}"[:200]}
            continue
        out[label] = _stream_figures(info)
    return out


def _stream_figures(info: StreamInfo) -> dict[str, Any]:
    partitions = {
        int(name.removeprefix(DETECTOR_CONSUMER_PREFIX)): n
        for name, n in info.consumers.items()
        if name.startswith(DETECTOR_CONSUMER_PREFIX) and name[len(DETECTOR_CONSUMER_PREFIX) :].isdigit()
    }
    return {
        "name": info.name,
        "messages": info.messages,
        "bytes": info.bytes,
        "first_seq": info.first_seq,
        "last_seq": info.last_seq,
        "consumers": dict(sorted(info.consumers.items())),
        "detector_pending": {str(p): partitions[p] for p in sorted(partitions)},
    }


def count_faults_since(
    session: Session, registration_code: str, since: datetime, exclude_types: Iterable[str] = ()
) -> int:
    """How many faults the elevator raised from ``since`` on (maintenance's on-demand rule counts them
    since the last visit); ``exclude_types`` leaves out kinds counted elsewhere (entrapments)."""
    stmt = select(func.count(Fault.id)).where(
        Fault.registration_code == registration_code, Fault.started_at >= since
    )
    excluded = list(exclude_types)
    if excluded:
        stmt = stmt.where(Fault.fault_type.not_in(excluded))
    return int(session.scalar(stmt) or 0)
