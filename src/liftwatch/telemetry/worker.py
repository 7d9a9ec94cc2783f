"""The detector worker: reads one partition of the telemetry stream, runs the fault detector, stores what
it finds, and acknowledges the stream only after a checkpoint makes it durable.

Restart guarantee (never lost, never doubled): faults are written idempotently (keyed by fault_id) as each
batch is processed; every ``checkpoint_s`` the detector's state and the stream sequence it covers are saved
in one transaction and the stream is acknowledged up to there. A restarted worker loads the checkpoint and
the stream redelivers everything after it; replaying those messages re-derives the same fault changes,
which the idempotent writes turn into no-ops. Changes of service mode (the detector's second output) and of
online state (its terminal_offline faults) are kept in memory and written in the checkpoint's transaction,
so they are durable before the messages that show them are acknowledged; a replay re-derives the same rows,
which their unique key skips. Timers are driven by stream time (receive times carried in
the records) while catching up, by the wall clock once caught up, so replay is deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import Bus, BusMessage, Consumer, Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.metrics import Metrics
from liftwatch.telemetry import records, service
from liftwatch.telemetry.detector import Detector, ModeChange
from liftwatch.telemetry.faults import DetectorSettings, FaultChange, FaultType
from liftwatch.telemetry.protocol import Event, Heartbeat, Message, Status

log = logging.getLogger(__name__)

_DECODERS = (
    msgspec.json.Decoder(Status).decode,
    msgspec.json.Decoder(Event).decode,
    msgspec.json.Decoder(Heartbeat).decode,
)
LIVE_SLICES = 5  # the live board writes its unchanged-fault rows in this many turns (LiveBoard.take_dirty)
CHECKPOINT_LOG_S = 60.0  # a checkpoint is logged at info at most this often per partition (debug otherwise)


class LiveBoard:
    """The latest state of every elevator seen, in memory; dirty rows are written out at checkpoints.

    The hot path keeps a reference to the newest status message (no copying); rows are built only for the
    elevators written out."""

    def __init__(self, every_s: float = 0.0) -> None:
        # how often every changed row is written; in between, a checkpoint writes only the rows whose
        # faults or online state changed (``urgent``). 0: every changed row at every checkpoint
        self.every_s = every_s
        self._next_slice = 0.0  # monotonic
        self._turn = 0
        self.urgent: set[str] = set()
        self.last_seen: dict[str, int] = {}
        self.status: dict[str, Status] = {}
        self.counters: dict[str, tuple[int | None, int | None, float | None, int | None]] = {}
        self.open: dict[str, list[str]] = {}
        self.offline: set[str] = set()
        self.dirty: set[str] = set()

    def update(self, code: str, msg: Message, received_ms: int) -> None:
        """A message of ``code`` came (``PartitionWorker.step`` does the same inline)."""
        self.last_seen[code] = received_ms
        if type(msg) is Status:
            self.status[code] = msg
        self.dirty.add(code)

    def apply(self, changes: list[FaultChange]) -> None:
        for ch in changes:
            code = ch.registration_code
            open_ = [f for f in self.open.get(code, ()) if f != ch.fault_type.value]
            if ch.raised:
                open_.append(ch.fault_type.value)
            self.open[code] = sorted(open_)
            if ch.fault_type is FaultType.TERMINAL_OFFLINE:
                if ch.raised:
                    self.offline.add(code)
                else:
                    self.offline.discard(code)
            if code in self.last_seen:
                self.dirty.add(code)
                self.urgent.add(code)

    def row(self, code: str, now_ms: int, updated_at: datetime | None = None) -> dict[str, Any]:
        """``code``'s live row as of ``now_ms`` (``updated_at``: that time as a datetime, if made already)."""
        st = self.status.get(code)
        # counters are optional per message: keep the last value each one had
        old = self.counters.get(code, (None, None, None, None))
        counters = (
            st.trips if st is not None and st.trips is not None else old[0],
            st.door_cycles if st is not None and st.door_cycles is not None else old[1],
            st.run_hours if st is not None and st.run_hours is not None else old[2],
            st.rope_bends if st is not None and st.rope_bends is not None else old[3],
        )
        self.counters[code] = counters
        return {
            "registration_code": code,
            "last_seen_at": service.ms_to_dt(self.last_seen[code]),
            "online": code not in self.offline,
            "open_faults": self.open.get(code, []),
            "updated_at": updated_at or service.ms_to_dt(now_ms),
            "mode": int(st.mode) if st is not None else None,
            "running": st.running if st is not None else None,
            "direction": int(st.direction) if st is not None else None,
            "door_zone": st.door_zone if st is not None else None,
            "door_closed": st.door_closed if st is not None else None,
            "passenger": st.passenger if st is not None else None,
            "floor": st.floor if st is not None else None,
            "power": st.power if st is not None else None,
            "speed": st.speed if st is not None else None,
            "trips": counters[0],
            "door_cycles": counters[1],
            "run_hours": counters[2],
            "rope_bends": counters[3],
        }

    def known_counters(self, code: str) -> tuple[int | None, int | None]:
        """The newest trip and door-cycle counters known for ``code`` (the newest status's, else the last
        ones written out): the counters at a change whose own message did not carry them."""
        st = self.status.get(code)
        old = self.counters.get(code, (None, None, None, None))
        trips = st.trips if st is not None and st.trips is not None else old[0]
        doors = st.door_cycles if st is not None and st.door_cycles is not None else old[1]
        return trips, doors

    def take_dirty(self, now_ms: int, everything: bool = False) -> list[dict[str, Any]]:
        """The rows to write now, in code order (the partitions share the board and save concurrently, and
        upserting in one order means waiting for each other, never a deadlock: PostgreSQL found one).
        Those whose faults or online state changed at once; every other changed row within ``every_s``,
        a fifth of the elevators each fifth of it (every row, with ``everything``: a last checkpoint).
        Writing every elevator's row at every checkpoint cost a quarter of a second per 5,000 elevators
        every 2 s, and an alarm arriving meanwhile waited for it (bench/latency.py); the rest of a row
        (last seen, ride and door state, counters) is for the screens, which refresh at that pace."""
        if everything or self.every_s <= 0:
            codes, self.dirty, self.urgent = self.dirty, set(), set()
        else:
            codes, self.urgent = self.urgent, set()
            now = time.monotonic()
            if now >= self._next_slice:
                self._next_slice = now + self.every_s / LIVE_SLICES
                turn, self._turn = self._turn, (self._turn + 1) % LIVE_SLICES
                codes |= {c for c in self.dirty if hash(c) % LIVE_SLICES == turn}
            self.dirty -= codes
        updated_at = service.ms_to_dt(now_ms)
        return [self.row(code, now_ms, updated_at) for code in sorted(codes)]

    def put_back(self, rows: list[dict[str, Any]]) -> None:
        """Rows whose save failed: saved with the next checkpoint."""
        codes = {r["registration_code"] for r in rows}
        self.dirty.update(codes)
        self.urgent.update(codes)


@dataclass
class WorkerStats:
    messages: int = 0
    batches: int = 0
    faults_stored: int = 0
    checkpoints: int = 0
    last_seq: int = 0
    pending: int = 0  # stream messages of this partition not yet acknowledged (at the last checkpoint)
    discarded: int = 0  # stream sequences dropped by the rolling stream before this partition read them


class PartitionWorker:
    """One partition: one detector, one durable consumer, one checkpoint row."""

    def __init__(
        self,
        partition: int,
        bus: Bus,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: DetectorSettings | None = None,
        rated_speed: Mapping[str, float] | None = None,
        metrics: Metrics | None = None,
        live: LiveBoard | None = None,
        checkpoint_s: float = 2.0,
        fetch_max: int = 4,
        on_faults: Callable[[list[FaultChange], list[FaultChange]], Any] | None = None,
        topology: records.Topology = records.DEFAULT_TOPOLOGY,
        fence: Callable[[Session], None] | None = None,
        stream_clock: bool = False,
    ) -> None:
        self.partition = partition
        # timers by the stream's receive times only, even once caught up (a replay of recorded telemetry;
        # the wall clock would find every recorded terminal long silent)
        self.stream_clock = stream_clock
        # with partition leases: checks, inside the checkpoint's transaction, that the partition is still
        # this process's (raises otherwise), so nothing is acknowledged for a partition taken over
        self.fence = fence
        self.topology = topology
        self.bus = bus
        self.session_factory = session_factory
        self.clock = clock
        self.detector = Detector(settings, rated_speed)
        self.metrics = metrics
        self.live = live or LiveBoard()
        self.checkpoint_s = checkpoint_s
        self.fetch_max = fetch_max
        self.on_faults = on_faults
        self.stats = WorkerStats()
        self._set_aside: dict[str, int] = {}  # the detector's counts already on the metrics
        self._consumer: Consumer | None = None
        self._last: BusMessage | None = None
        self._acked_seq = 0
        self._stream_ms = 0
        self._next_checkpoint = 0.0
        # Fault changes the detector has produced but that are not yet stored and announced (the store
        # failed: the database was locked or down). Until they are, nothing is fetched and no checkpoint
        # is taken, so they are neither skipped nor acknowledged away.
        self._unsettled: list[FaultChange] | None = None
        # changes of service mode and online state not yet written: they go with the next checkpoint
        self._state_changes: list[dict[str, Any]] = []
        # records of this step that could not be decoded or detected: dead-lettered with the step's
        # faults, before anything past them is acknowledged
        self._bad: list[service.DeadLetterRecord] = []
        self._epoch = ""
        self._discarded_upto = 0
        self.health = Health(f"detector partition {partition}")
        self._replay: tuple[float, int] | None = None  # replaying after a start: (since, messages before)
        self._next_checkpoint_log = 0.0
        self._checkpoints_logged = 0

    @property
    def durable(self) -> str:
        return f"detector-p{self.partition}"

    async def start(self) -> None:
        """Load the checkpoint and (re)open the consumer right after it."""
        topo = self.topology
        await self.bus.ensure_stream(topo.stream, [topo.all_subjects])
        self._epoch = await self.bus.stream_epoch(topo.stream)
        ckpt = await asyncio.to_thread(self._load_checkpoint)
        start_seq = None
        if ckpt is not None:
            seq, blob, epoch = ckpt
            self.detector.load_all(blob)
            if epoch in (self._epoch, ""):  # "": saved before epochs were kept
                self._acked_seq = seq
                self.stats.last_seq = seq
                start_seq = seq + 1
            else:
                # The checkpoint counts in another incarnation of the stream (the embedded bus lives and
                # dies with its process; a JetStream stream may have been recreated): its position means
                # nothing here. Keep the detector's state and read this stream from its start.
                log.warning(
                    "detector partition %d: checkpoint at seq %d belongs to another stream epoch; "
                    "reading the current stream from its start",
                    self.partition,
                    seq,
                )
                start_seq = 1
        self._consumer = await self.bus.consumer(
            topo.stream, self.durable, topo.subject_of(self.partition), start_seq=start_seq
        )
        self._next_checkpoint = time.monotonic() + self.checkpoint_s
        await self._log_replay_start(ckpt[0] if ckpt is not None else None)

    async def _log_replay_start(self, checkpoint_seq: int | None) -> None:
        """Say where this partition resumes and how much the stream redelivers before it is caught up
        (the end is logged by the step that catches up)."""
        assert self._consumer is not None
        try:
            backlog: int | None = await self._consumer.pending()
        except Exception:  # only for the log line; the consumer itself will say if the bus is down
            backlog = None
        where = (
            f"resuming after its checkpoint at stream seq {checkpoint_seq}"
            if checkpoint_seq is not None
            else "no checkpoint: reading the stream from its start"
        )
        todo = f"{backlog} messages to replay" if backlog is not None else "replaying what the stream holds"
        log.info("detector partition %d: %s; %s", self.partition, where, todo)
        self._replay = (time.monotonic(), self.stats.messages) if backlog != 0 else None

    def _load_checkpoint(self) -> tuple[int, bytes, str] | None:
        with self.session_factory() as session:
            ckpt = service.load_checkpoint(session, self.partition)
            return (ckpt.stream_seq, ckpt.state, ckpt.stream_epoch) if ckpt else None

    def set_in_service(self, code: str, in_service: bool) -> None:
        """The registry's status: a suspended or scrapped elevator's silent terminal is no fault."""
        self.detector.set_in_service(code, in_service)

    def set_rated_speed(self, code: str, speed: float | None) -> None:
        """A rated speed set or changed in the registry: the overspeed rule uses it from now on."""
        self.detector.set_rated_speed(code, speed)

    async def step(self, timeout: float = 0.2) -> int:
        """Process what the stream has (up to fetch_max batches); returns how many messages."""
        assert self._consumer is not None, "start() first"
        if self._unsettled is not None:  # the last step could not store its faults: that comes first
            await self._settle(self._unsettled)
        batch = await self._consumer.fetch(self.fetch_max, timeout=timeout)
        started = time.perf_counter()
        changes: list[FaultChange] = []
        n = 0
        feed = self.detector.feed
        live = self.live
        last_seen, statuses = live.last_seen, live.status
        modes = self.detector.mode_changes  # one list, filled by feed(): taken before the board moves on
        stream_ms = self._stream_ms
        for bm in batch:
            # LiveBoard.update, inlined (a call per message was a twentieth of the process); the dirty set
            # is looked up per bus batch, as a checkpoint between them may have taken it
            dirty_add = live.dirty.add
            try:
                recs = records.decode_batch(bm.data)
            except Exception as exc:  # a record that is not a batch: keep it whole, go on with the rest
                self._reject(bm.subject, "bad_record", f"stream seq {bm.seq}: {exc!r}", bm.data)
                continue
            for code, received_ms, kind, raw in recs:
                try:
                    msg = _DECODERS[kind](raw)
                    got = feed(code, msg, received_ms)
                except Exception as exc:  # one bad message must not lose its neighbours
                    self._reject(bm.subject, "bad_record", f"{code[:40]}: {exc!r}", bytes(raw), received_ms)
                    continue
                if got:
                    changes.extend(got)
                if modes:
                    self._note_modes(self.detector.take_mode_changes())
                last_seen[code] = received_ms
                if type(msg) is Status:
                    statuses[code] = msg
                dirty_add(code)
                if received_ms > stream_ms:
                    stream_ms = received_ms
                n += 1
            await asyncio.sleep(0)  # between bus batches: let the other partitions' I/O (acks) through
        self._stream_ms = stream_ms
        if batch:
            self._last = batch[-1]
            self.stats.last_seq = batch[-1].seq
            self.stats.batches += len(batch)
        caught_up = len(batch) < self.fetch_max
        if caught_up and self._replay is not None:
            since, before = self._replay
            self._replay = None
            log.info(
                "detector partition %d: replay done, caught up at stream seq %d: %d messages in %.1f s",
                self.partition,
                self.stats.last_seq,
                self.stats.messages + n - before,
                time.monotonic() - since,
            )
        now_ms = max(self.clock_ms(), stream_ms) if caught_up and not self.stream_clock else stream_ms
        if now_ms:
            changes.extend(self.detector.tick(now_ms))
        if modes:  # tick() may apply held statuses
            self._note_modes(self.detector.take_mode_changes())
        self.stats.messages += n  # through the detector, whether or not its faults are stored yet
        if self.metrics is not None:
            self.metrics.detected.inc(n)
            self._count_set_aside(self.metrics)
            if stream_ms:
                self.metrics.lag_seconds.labels(str(self.partition)).set(
                    max(0.0, (self.clock_ms() - stream_ms) / 1000)
                )
        if changes or self._bad:
            self.live.apply(changes)
            self._note_online(changes)
            self._unsettled = changes
            await self._settle(changes)
        if self.metrics is not None:
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
        if time.monotonic() >= self._next_checkpoint:
            await self.checkpoint()
        return n

    def _count_set_aside(self, metrics: Metrics) -> None:
        """The detector's own counts of what it ignored since the last step, onto the metrics."""
        d = self.detector.stats
        seen = self._set_aside
        for name, now in (("duplicate", d.duplicates), ("stale", d.stale), ("implausible", d.implausible)):
            grew = now - seen.get(name, 0)
            if grew > 0:
                if name == "duplicate":
                    metrics.duplicates.inc(grew)
                else:
                    metrics.set_aside.labels(name).inc(grew)
            seen[name] = now

    def _note_modes(self, modes: list[ModeChange]) -> None:
        """Keep the service-mode changes for the next checkpoint; a status without counters gets the newest
        ones the board knows before it (the previous status's, else those last written out)."""
        now = self.clock.now()
        for ch in modes:
            trips, doors = ch.trips, ch.door_cycles
            if trips is None or doors is None:
                known = self.live.known_counters(ch.registration_code)
                trips = known[0] if trips is None else trips
                doors = known[1] if doors is None else doors
            self._state_changes.append(
                service.state_change_row(
                    ch.registration_code,
                    ch.at_ms,
                    service.MODE_CHANGE,
                    int(ch.mode),
                    None if ch.previous is None else int(ch.previous),
                    trips,
                    doors,
                    now,
                )
            )

    def _note_online(self, changes: list[FaultChange]) -> None:
        """The terminal_offline faults as online-state changes: offline from the last message heard (the
        fault's start), online again when a message came (its clear)."""
        now = None
        for ch in changes:
            if ch.fault_type is not FaultType.TERMINAL_OFFLINE:
                continue
            now = now or self.clock.now()
            trips, doors = self.live.known_counters(ch.registration_code)
            at = ch.started_ms if ch.raised else ch.at_ms
            value = 0 if ch.raised else 1
            self._state_changes.append(
                service.state_change_row(
                    ch.registration_code, at, service.ONLINE_CHANGE, value, 1 - value, trips, doors, now
                )
            )

    def _reject(self, subject: str, reason: str, detail: str, payload: bytes, received_ms: int = 0) -> None:
        log.error("detector partition %d: %s (%s)", self.partition, reason, detail[:300])
        self._bad.append(
            service.DeadLetterRecord(
                received_ms or self.clock_ms(), "stream", subject, reason, detail, payload
            )
        )
        if self.metrics is not None:
            self.metrics.rejects.labels("stream", reason).inc()

    def clock_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    async def _settle(self, changes: list[FaultChange]) -> None:
        """Store and announce fault changes; on failure they stay unsettled and the next step retries
        (storing is idempotent on fault_id, receivers of the announcement too)."""
        bad = self._bad
        fresh = await asyncio.to_thread(self._store, changes, bad)
        self._bad = []
        self.stats.faults_stored += len(fresh)
        if self.on_faults is not None:
            # all changes (a replay re-announces what a crash may have kept from being announced;
            # receivers are idempotent on fault_id), and which of them are new
            await _maybe_await(self.on_faults(changes, fresh))
        self._unsettled = None
        if self.metrics is not None:
            for ch in changes:
                self.metrics.faults.labels(ch.fault_type.value, "raised" if ch.raised else "cleared").inc()

    def _store(
        self, changes: list[FaultChange], bad: list[service.DeadLetterRecord] | None = None
    ) -> list[FaultChange]:
        with _writer(self.session_factory), self.session_factory() as session:
            fresh = service.apply_fault_changes(session, changes) if changes else []
            if bad:
                service.store_dead_letters(session, bad)
            session.commit()
        return fresh

    async def checkpoint(self, everything: bool = False) -> None:
        """Save detector state + live status at the last processed sequence, then acknowledge up to it.
        ``everything``: every changed live row (a last checkpoint), not only the urgent ones."""
        self._next_checkpoint = time.monotonic() + self.checkpoint_s
        if self._unsettled is not None:
            return  # the detector's state holds faults not yet stored: saving it now would lose them
        last = self._last
        if last is None or last.seq <= self._acked_seq:
            rows = self.live.take_dirty(self.clock_ms(), everything)
            if rows or self._state_changes:
                await self._save_or_put_back(None, rows)
            return
        state = self.detector.dump_all()
        rows = self.live.take_dirty(self.clock_ms(), everything)
        await self._save_or_put_back((last.seq, state), rows)
        assert self._consumer is not None
        await self._consumer.ack_upto(last)
        self._acked_seq = last.seq
        self.stats.checkpoints += 1
        self.stats.pending = await self._consumer.pending()
        if self.metrics is not None:
            self.metrics.checkpoints.inc()
            self.metrics.pending.labels(self.durable).set(self.stats.pending)
        self._log_checkpoint(last.seq)
        if self.stats.pending:
            await self._check_discarded(last.seq)

    def _log_checkpoint(self, seq: int) -> None:
        """At info the first checkpoint and then one line a minute (how many were saved meanwhile); each
        at debug: four partitions every 2 s would drown everything else."""
        now = time.monotonic()
        if now < self._next_checkpoint_log:
            log.debug("detector partition %d: checkpoint saved at stream seq %d", self.partition, seq)
            return
        log.info(
            "detector partition %d: checkpoint saved at stream seq %d (%d saved since the last line; "
            "%d messages not yet acknowledged)",
            self.partition,
            seq,
            self.stats.checkpoints - self._checkpoints_logged,
            self.stats.pending,
        )
        self._next_checkpoint_log = now + CHECKPOINT_LOG_S
        self._checkpoints_logged = self.stats.checkpoints

    async def _check_discarded(self, read_upto: int) -> None:
        """The telemetry stream is a rolling window (docs/OPERATIONS.md): behind by more than it holds,
        this partition loses what the stream discarded before it was read. Say so, loudly."""
        first = await self.bus.first_seq(self.topology.stream)
        if first <= max(read_upto, self._discarded_upto) + 1:
            return
        gone = first - max(read_upto, self._discarded_upto) - 1
        self._discarded_upto = first - 1
        self.stats.discarded += gone
        log.error(
            "detector partition %d: the telemetry stream discarded seq %d..%d before this partition read "
            "them (it was behind by more than the stream holds); raise LIFTWATCH_STREAM_MAX_MB",
            self.partition,
            first - gone,
            first - 1,
        )
        if self.metrics is not None:
            self.metrics.discarded.labels(str(self.partition)).inc(gone)

    async def _save_or_put_back(self, ckpt: tuple[int, bytes] | None, rows: list[dict[str, Any]]) -> None:
        changes, self._state_changes = self._state_changes, []
        try:
            await asyncio.to_thread(self._save, ckpt, rows, changes)
        except BaseException:
            self.live.put_back(rows)
            self._state_changes[:0] = changes
            raise

    def _save(
        self,
        ckpt: tuple[int, bytes] | None,
        rows: list[dict[str, Any]],
        changes: list[dict[str, Any]] | None = None,
    ) -> None:
        """One transaction: the checkpoint, the live status and the state changes up to it."""
        with _writer(self.session_factory), self.session_factory() as session:
            if self.fence is not None:
                self.fence(session)
            if ckpt is not None:
                service.save_checkpoint(
                    session, self.partition, ckpt[0], ckpt[1], self.clock.now(), self._epoch
                )
            service.upsert_live_status(session, rows)
            if changes:
                service.record_state_changes(session, changes)
            session.commit()

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(self.step, stop, f"detector partition {self.partition}", self.health)
        await self.checkpoint(everything=True)
        log.info(
            "detector partition %d: stopped, acknowledged up to stream seq %d",
            self.partition,
            self._acked_seq,
        )


_SQLITE_WRITES = threading.Lock()


def _writer(session_factory: sessionmaker[Session]) -> AbstractContextManager[Any]:
    """SQLite takes one writer at a time and makes the others poll until its busy timeout, which under
    load (four partitions checkpointing at once) runs out: 'database is locked'. Queue this process's
    writers instead. PostgreSQL needs no such thing."""
    bind = session_factory.kw.get("bind")
    if bind is not None and bind.dialect.name == "sqlite":
        return _SQLITE_WRITES
    return contextlib.nullcontext()


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value
