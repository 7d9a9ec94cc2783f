"""The event bus: durable streams with pull consumers, behind one interface.

Two implementations: ``InProcessBus`` (the embedded default, used by ``make demo`` and unit tests) and
``JetStreamBus`` (NATS JetStream, production, between processes). Both give at-least-once delivery with
AckAll semantics: a consumer acknowledges a message and everything before it, after it has made the
results durable; what was not acknowledged is delivered again (to the same durable name) after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from liftwatch.core.tasks import bounded

log = logging.getLogger(__name__)


ACK_TIMEOUT_S = 10.0  # JetStream acknowledgement confirmation
CLOSE_TIMEOUT_S = 10.0  # a close's drain, then a close without it


class Health:
    """What a supervised loop reports about itself: readiness turns false while it cannot make progress,
    and a loop that has failed for longer than ``give_up_s`` is unrecoverable (its process exits
    non-zero so that its supervisor restarts it, rather than staying up and doing nothing)."""

    def __init__(self, name: str, give_up_s: float = 300.0) -> None:
        self.name = name
        self.give_up_s = give_up_s
        self.failures = 0  # consecutive
        self.failing_since: float | None = None  # monotonic
        self.last_error = ""
        self.last_ok: float | None = None
        self.steps = 0

    def ok(self) -> None:
        self.failures = 0
        self.failing_since = None
        self.last_ok = time.monotonic()
        self.steps += 1

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]

    @property
    def ready(self) -> bool:
        return self.failing_since is None

    @property
    def gave_up(self) -> bool:
        return self.failing_since is not None and time.monotonic() - self.failing_since >= self.give_up_s

    def backoff_s(self, first: float = 0.5, most: float = 15.0) -> float:
        return float(min(most, first * 2 ** max(0, self.failures - 1)))

    def report(self) -> dict[str, Any]:
        since = self.failing_since
        return {
            "ready": self.ready,
            "failures": self.failures,
            "failing_for_s": round(time.monotonic() - since, 1) if since is not None else 0.0,
            "last_error": self.last_error,
            "steps": self.steps,
        }


class Unrecoverable(RuntimeError):
    """A supervised loop failed for longer than its ``give_up_s``."""


async def run_steps(
    step: Callable[[], Awaitable[object]], stop: asyncio.Event, name: str, health: Health | None = None
) -> None:
    """A consumer's loop: ``step()`` until ``stop`` is set. A step that fails is logged and tried again
    with exponential backoff (0.5 s doubling up to 15 s); what it had not acknowledged stays on the stream,
    so the loop never dies on one error. After ``health.give_up_s`` of nothing but failures it raises
    ``Unrecoverable``: the process should exit and be restarted."""
    health = health or Health(name)
    while not stop.is_set():
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health.failed(exc)
            if health.gave_up:
                log.error("%s: failing for %.0f s, giving up: %s", name, health.give_up_s, health.last_error)
                raise Unrecoverable(f"{name}: {health.last_error}") from exc
            delay = health.backoff_s()
            log.exception("%s: step failed (%d in a row), retrying in %.1f s", name, health.failures, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
        else:
            health.ok()


async def run_together(*loops: Awaitable[None]) -> None:
    """Loops of one worker (each a ``run_steps``) run side by side, so a slow one (a webhook that hangs)
    delays no other; the first to end (``Unrecoverable``) ends them all and its error is raised."""
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Stored(NamedTuple):
    """Where a publish landed. ``duplicate``: the stream already held a publish with this ``msg_id`` (a
    retry of one whose acknowledgement was lost) and dropped this one; ``seq`` is then the first copy's.
    Counted, so that "nothing doubled" is a figure, not a belief."""

    seq: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class BusMessage:
    subject: str
    data: bytes
    seq: int  # stream sequence: increasing per stream
    raw: Any = None  # the implementation's own message object (for acks)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """A stream's own counters, as its server keeps them (the same in every process that asks): what the
    stats endpoint and readiness read when the workers run in other processes."""

    name: str
    messages: int  # held now (aged out or discarded ones are gone)
    bytes: int
    first_seq: int
    last_seq: int
    # durable consumer -> messages of its subjects not yet acknowledged (delivered or not)
    consumers: dict[str, int] = field(default_factory=dict)


class Consumer(Protocol):
    async def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        """Up to ``max_messages`` next messages; an empty list after ``timeout`` seconds of none."""
        ...

    async def ack_upto(self, message: BusMessage) -> None:
        """Acknowledge ``message`` and every message delivered before it."""
        ...

    async def pending(self) -> int:
        """Messages in the stream not yet acknowledged by this consumer (the lag)."""
        ...


class Bus(Protocol):
    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def ensure_stream(
        self,
        name: str,
        subjects: list[str],
        max_age_s: float = 86_400,
        max_bytes: int | None = None,
        discard_new: bool = False,
        replicas: int = 1,
    ) -> None:
        """Create a stream if it is missing. ``max_bytes`` (-1: no limit) bounds it: when full it drops its
        oldest messages (a rolling window, read or not), or with ``discard_new`` refuses new ones
        (``StreamFull`` from publish). An existing stream is never changed here (an operator may have
        tuned it; ``liftwatch streams apply`` changes it): with ``max_bytes`` given (the caller knows the
        settings) a difference is logged as a warning; ``max_bytes=None``: only make sure it exists."""
        ...

    async def stream_epoch(self, name: str) -> str:
        """Which incarnation of the stream this is: sequences count from 1 again in a new one."""
        ...

    async def first_seq(self, name: str) -> int:
        """The oldest sequence the stream still holds (older ones aged out or were discarded)."""
        ...

    async def backlog(self, name: str, consumer_prefix: str = "", waiting_only: bool = False) -> int:
        """Messages the slowest of the stream's consumers whose name starts with ``consumer_prefix`` has
        not acknowledged (0 without such consumers). ``waiting_only``: not yet even delivered to it (a
        consumer that acknowledges at checkpoints holds seconds of processed messages unacknowledged,
        which is no lag; the in-process bus counts from the acknowledgement either way)."""
        ...

    async def stream_info(self, name: str) -> StreamInfo:
        """The stream's counters and each durable consumer's pending count (``LookupError``: no stream)."""
        ...

    async def reachable(self, timeout: float = 2.0) -> bool:
        """Whether the bus answers now, within ``timeout`` (a round trip to the server; the in-process
        bus always does). For readiness: never raises."""
        ...

    async def publish(self, subject: str, data: bytes, msg_id: str | None = None) -> Stored:
        """Store ``data`` durably on the stream that holds ``subject``; returns its stream sequence.
        ``msg_id`` deduplicates a retried publish (JetStream's duplicate window): ``Stored.duplicate``
        says the stream dropped this one as a copy."""
        ...

    async def consumer(
        self, stream: str, durable: str, filter_subject: str, start_seq: int | None = None
    ) -> Consumer:
        """A durable pull consumer. With ``start_seq`` it (re)starts delivery at that stream sequence, as a
        worker does after loading its checkpoint; without, it resumes after its last acknowledgement."""
        ...

    async def delete_stream(self, name: str) -> None: ...


class StreamFull(RuntimeError):
    """The stream reached its size limit; the publisher should hold back (backpressure)."""


def stream_name(namespace: str, base: str) -> str:
    """The one naming rule for streams: ``TELEMETRY``, or with a namespace ``NS_TELEMETRY`` (upper case,
    ``_`` as separator: a stream name may not hold a dot). Without a namespace nothing changes."""
    return f"{namespace.upper()}_{base}" if namespace else base


def subject_name(namespace: str, base: str) -> str:
    """The one naming rule for subjects: ``telemetry.p0``, or with a namespace ``ns.telemetry.p0`` (lower
    case, ``.`` as separator, so ``ns.>`` holds everything of one namespace)."""
    return f"{namespace.lower()}.{base}" if namespace else base


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """How the settings say a stream should be; ``settings`` names the variables that say so, for
    messages that tell an operator what to change."""

    name: str
    subjects: tuple[str, ...]
    max_age_s: float
    max_bytes: int  # -1: no limit
    discard_new: bool = False
    replicas: int = 1
    settings: str = ""

    def config(self) -> dict[str, Any]:
        """The comparable fields, as ``JetStreamBus.stream_config`` reports a stream's."""
        return {
            "subjects": sorted(self.subjects),
            "max_age_s": float(self.max_age_s),
            "max_bytes": int(self.max_bytes),
            "discard": "new" if self.discard_new else "old",
            "replicas": int(self.replicas),
            "storage": "file",
            "retention": "limits",
        }


# NATS cannot change these on an existing stream: a new one (and moving its messages) is needed.
IMMUTABLE_STREAM_FIELDS = ("storage", "retention")


def stream_differences(current: dict[str, Any], wanted: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, current, wanted) for every comparable field in which a stream differs from its settings."""
    return [(k, current.get(k), v) for k, v in wanted.items() if current.get(k) != v]


def describe_differences(diffs: list[tuple[str, Any, Any]]) -> str:
    return "; ".join(f"{k} is {cur!r}, settings say {want!r}" for k, cur, want in diffs)


async def ensure_spec(bus: Bus, spec: StreamSpec) -> None:
    """Create the stream from its settings if it is missing; an existing one is left as it is."""
    await bus.ensure_stream(
        spec.name, list(spec.subjects), spec.max_age_s, spec.max_bytes, spec.discard_new, spec.replicas
    )


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match: ``*`` is one token, ``>`` the rest."""
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i >= len(s) or (tok != "*" and tok != s[i]):
            return False
    return len(p) == len(s)


# ---------------------------------------------------------------- in-process


@dataclass
class _Stream:
    name: str
    subjects: list[str]
    messages: list[BusMessage] = field(default_factory=list)
    first_seq: int = 1  # sequence of messages[0] (trimmed by acknowledgement when all consumers agree)
    acked: dict[str, int] = field(default_factory=dict)  # durable -> highest acknowledged seq
    filters: dict[str, str] = field(default_factory=dict)  # durable -> its filter subject
    cond: asyncio.Condition | None = None
    dedupe: dict[str, int] = field(default_factory=dict)
    epoch: str = field(default_factory=lambda: uuid.uuid4().hex)
    max_bytes: int = -1
    discard_new: bool = False
    size: int = 0  # bytes held (messages not trimmed)


class InProcessBus:
    """An in-memory bus for one process. Streams survive a consumer's restart (a new ``consumer()`` with
    the same durable name resumes after its last acknowledgement), not the process's."""

    def __init__(self, retain_acked: bool = False) -> None:
        self._streams: dict[str, _Stream] = {}
        self._retain = retain_acked

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ensure_stream(
        self,
        name: str,
        subjects: list[str],
        max_age_s: float = 86_400,
        max_bytes: int | None = None,
        discard_new: bool = False,
        replicas: int = 1,
    ) -> None:
        # in one process's memory: nobody can have tuned it, so the settings always apply
        if name not in self._streams:
            self._streams[name] = _Stream(name, list(subjects), cond=asyncio.Condition())
        elif max_bytes is None:
            return
        self._streams[name].max_bytes = -1 if max_bytes is None else max_bytes
        self._streams[name].discard_new = discard_new

    async def stream_epoch(self, name: str) -> str:
        return self._streams[name].epoch

    async def first_seq(self, name: str) -> int:
        return self._streams[name].first_seq

    async def backlog(self, name: str, consumer_prefix: str = "", waiting_only: bool = False) -> int:
        s = self._streams.get(name)
        acked = [seq for d, seq in s.acked.items() if d.startswith(consumer_prefix)] if s else []
        if s is None or not acked:
            return 0
        last = s.first_seq + len(s.messages) - 1
        return max(0, last - min(acked))

    async def stream_info(self, name: str) -> StreamInfo:
        s = self._streams.get(name)
        if s is None:
            raise LookupError(f"no stream '{name}'")
        consumers = {
            durable: _pending_of(s, acked, s.filters.get(durable, ">")) for durable, acked in s.acked.items()
        }
        last = s.first_seq + len(s.messages) - 1
        return StreamInfo(name, len(s.messages), s.size, s.first_seq, last, consumers)

    async def reachable(self, timeout: float = 2.0) -> bool:
        return True

    def _stream_for(self, subject: str) -> _Stream:
        for stream in self._streams.values():
            if any(subject_matches(p, subject) for p in stream.subjects):
                return stream
        raise LookupError(f"no stream holds subject '{subject}'")

    async def publish(self, subject: str, data: bytes, msg_id: str | None = None) -> Stored:
        stream = self._stream_for(subject)
        if msg_id is not None and msg_id in stream.dedupe:
            return Stored(stream.dedupe[msg_id], duplicate=True)
        if 0 <= stream.max_bytes < stream.size + len(data):
            if stream.discard_new or not stream.messages:
                raise StreamFull(f"stream {stream.name} holds {stream.size} of {stream.max_bytes} bytes")
            msgs, drop, freed = stream.messages, 0, 0  # the rolling window: the oldest go
            while drop < len(msgs) and stream.max_bytes < stream.size - freed + len(data):
                freed += len(msgs[drop].data)
                drop += 1
            del msgs[:drop]
            stream.size -= freed
            stream.first_seq += drop
        seq = stream.first_seq + len(stream.messages)
        stream.messages.append(BusMessage(subject, data, seq))
        stream.size += len(data)
        if msg_id is not None:
            stream.dedupe[msg_id] = seq
            if len(stream.dedupe) > 100_000:
                stream.dedupe.clear()
        assert stream.cond is not None
        async with stream.cond:
            stream.cond.notify_all()
        return Stored(seq)

    async def consumer(
        self, stream: str, durable: str, filter_subject: str, start_seq: int | None = None
    ) -> Consumer:
        s = self._streams[stream]
        s.acked.setdefault(durable, s.first_seq - 1)
        s.filters[durable] = filter_subject
        if start_seq is not None:
            s.acked[durable] = max(s.first_seq, start_seq) - 1
        return _InProcessConsumer(self, s, durable, filter_subject)

    async def delete_stream(self, name: str) -> None:
        self._streams.pop(name, None)

    def _trim(self, stream: _Stream) -> None:
        if self._retain or not stream.acked:
            return
        floor = min(stream.acked.values())
        drop = floor - stream.first_seq + 1
        if drop > 4096 or (stream.max_bytes >= 0 and drop > 0):
            stream.size -= sum(len(m.data) for m in stream.messages[:drop])
            del stream.messages[:drop]
            stream.first_seq += drop


class _InProcessConsumer:
    def __init__(self, bus: InProcessBus, stream: _Stream, durable: str, filter_subject: str) -> None:
        self._bus = bus
        self._stream = stream
        self._durable = durable
        self._filter = filter_subject
        self._next = stream.acked[durable] + 1  # a new consumer starts after the last acknowledgement

    async def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        out = self._take(max_messages)
        if out:
            return out
        assert self._stream.cond is not None
        try:
            async with self._stream.cond:
                await asyncio.wait_for(self._stream.cond.wait_for(lambda: self._has_new()), timeout=timeout)
        except TimeoutError:
            return []
        return self._take(max_messages)

    def _has_new(self) -> bool:
        s = self._stream
        return self._next < s.first_seq + len(s.messages)

    def _take(self, max_messages: int) -> list[BusMessage]:
        s = self._stream
        out: list[BusMessage] = []
        i = max(self._next, s.first_seq) - s.first_seq
        while i < len(s.messages) and len(out) < max_messages:
            m = s.messages[i]
            i += 1
            if subject_matches(self._filter, m.subject):
                out.append(m)
        self._next = s.first_seq + i
        return out

    async def ack_upto(self, message: BusMessage) -> None:
        s = self._stream
        if message.seq > s.acked[self._durable]:
            s.acked[self._durable] = message.seq
        self._bus._trim(s)

    async def pending(self) -> int:
        """Messages of this consumer's subjects after its acknowledgement (as JetStream counts them)."""
        return _pending_of(self._stream, self._stream.acked[self._durable], self._filter)


def _pending_of(s: _Stream, acked: int, filter_subject: str) -> int:
    start = max(acked + 1, s.first_seq) - s.first_seq
    return sum(1 for m in s.messages[start:] if subject_matches(filter_subject, m.subject))


# ---------------------------------------------------------------- NATS JetStream


class JetStreamBus:
    """NATS JetStream: file-backed streams, durable pull consumers with AckAll."""

    def __init__(self, url: str, name: str = "liftwatch", ack_wait_s: float = 60.0) -> None:
        self._url = url
        self._name = name
        self._ack_wait = ack_wait_s
        self._nc: Any = None
        self._js: Any = None
        self._subs: dict[tuple[str, str], Any] = {}

    async def connect(self) -> None:
        import nats

        async def _error(exc: Exception) -> None:
            log.warning("NATS: %s", exc)

        # max_reconnect_attempts=0 would retry the first connect forever (DEPENDENCIES.md).
        self._nc = await nats.connect(
            nats_servers(self._url),
            name=self._name,
            max_reconnect_attempts=60,
            reconnect_time_wait=1,
            connect_timeout=5,
            error_cb=_error,
            allow_reconnect=True,
            drain_timeout=5,
        )
        self._js = self._nc.jetstream(timeout=10)

    async def close(self) -> None:
        if self._nc is not None:
            for sub in self._subs.values():
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
            self._subs.clear()
            nc, self._nc = self._nc, None
            # bounded: a drain on a frozen or half-open connection must not hold a shutdown (a close without
            # the drain then: what was not acknowledged is redelivered)
            if not await bounded(nc.drain(), CLOSE_TIMEOUT_S, "NATS drain"):
                await bounded(nc.close(), CLOSE_TIMEOUT_S, "NATS close")

    async def ensure_stream(
        self,
        name: str,
        subjects: list[str],
        max_age_s: float = 86_400,
        max_bytes: int | None = None,
        discard_new: bool = False,
        replicas: int = 1,
    ) -> None:
        spec = StreamSpec(
            name, tuple(subjects), max_age_s, -1 if max_bytes is None else max_bytes, discard_new, replicas
        )
        current = await self.stream_config(name)
        if current is None:
            await self._js.add_stream(_nats_config(spec))
            log.info("created stream %s: %s", name, spec.config())
            return
        diffs = stream_differences(current, spec.config())
        if max_bytes is not None and diffs:
            log.warning(
                "stream %s differs from the settings and is left as it is: %s; `liftwatch streams apply` "
                "applies the settings, or change them to match the stream",
                name,
                describe_differences(diffs),
            )

    async def stream_config(self, name: str) -> dict[str, Any] | None:
        """A stream's comparable configuration (``StreamSpec.config``'s fields); None if it is missing."""
        from nats.js.errors import NotFoundError

        try:
            info = await self._js.stream_info(name)
        except NotFoundError:
            return None
        c = info.config
        return {
            "subjects": sorted(c.subjects or []),
            "max_age_s": float(c.max_age or 0),
            "max_bytes": int(c.max_bytes if c.max_bytes is not None else -1),
            "discard": _enum_value(c.discard, "old"),
            "replicas": int(c.num_replicas or 1),
            "storage": _enum_value(c.storage, "file"),
            "retention": _enum_value(c.retention, "limits"),
        }

    async def apply_stream(self, spec: StreamSpec) -> list[tuple[str, Any, Any]]:
        """Make an existing stream match its settings (or create it); returns what changed. Raises
        ``ValueError`` for a change NATS cannot make on an existing stream (storage, retention)."""
        current = await self.stream_config(spec.name)
        if current is None:
            await self._js.add_stream(_nats_config(spec))
            return [("created", None, spec.config())]
        diffs = stream_differences(current, spec.config())
        fixed = [d for d in diffs if d[0] in IMMUTABLE_STREAM_FIELDS]
        if fixed:
            raise ValueError(
                f"stream {spec.name}: NATS cannot change {describe_differences(fixed)} on an existing "
                "stream; create a new stream (docs/OPERATIONS.md, Streams) or leave it"
            )
        if diffs:
            await self._js.update_stream(_nats_config(spec))
        return diffs

    async def stream_epoch(self, name: str) -> str:
        info = await self._js.stream_info(name)
        return str(info.created or "")

    async def first_seq(self, name: str) -> int:
        info = await self._js.stream_info(name)
        return int(info.state.first_seq)

    async def backlog(self, name: str, consumer_prefix: str = "", waiting_only: bool = False) -> int:
        most = 0
        for c in await self._js.consumers_info(name):
            if str(c.name).startswith(consumer_prefix):
                held = 0 if waiting_only else int(c.num_ack_pending)
                most = max(most, int(c.num_pending) + held)
        return most

    async def stream_info(self, name: str) -> StreamInfo:
        from nats.js.errors import NotFoundError

        try:
            info = await self._js.stream_info(name)
        except NotFoundError:
            raise LookupError(f"no stream '{name}'") from None
        st = info.state
        consumers = {
            str(c.name): int(c.num_pending or 0) + int(c.num_ack_pending or 0)
            for c in await self._js.consumers_info(name)
        }
        return StreamInfo(
            name, int(st.messages), int(st.bytes), int(st.first_seq), int(st.last_seq), consumers
        )

    async def reachable(self, timeout: float = 2.0) -> bool:
        """A PING/PONG round trip: a server that is gone shows at once (not connected), a frozen one
        within ``timeout`` (the client's own pings would take minutes to notice)."""
        nc = self._nc
        if nc is None or not nc.is_connected:
            return False
        try:
            await asyncio.wait_for(nc.flush(timeout=timeout), timeout=timeout)
        except Exception:
            return False
        return True

    async def publish(self, subject: str, data: bytes, msg_id: str | None = None) -> Stored:
        from nats.js.errors import APIError

        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        try:
            ack = await self._js.publish(subject, data, headers=headers)
        except APIError as exc:
            if "maximum bytes" in str(exc).lower() or getattr(exc, "err_code", 0) == 10077:
                raise StreamFull(str(exc)) from exc
            raise
        return Stored(int(ack.seq), bool(ack.duplicate))

    async def consumer(
        self, stream: str, durable: str, filter_subject: str, start_seq: int | None = None
    ) -> Consumer:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        if start_seq is None:
            # Resume right after the last acknowledgement. Subscribing to the existing durable instead
            # would lose messages: what it had delivered to a process that died is redelivered only after
            # ack_wait, and an AckAll acknowledgement of anything newer meanwhile acknowledges it unseen.
            with contextlib.suppress(NotFoundError):
                info = await self._js.consumer_info(stream, durable)
                # a consumer made to start at a sequence that has acknowledged nothing yet reports an ack
                # floor of 0 on nats-server 2.9 (newer servers: the sequence before its start): never go
                # back before where it was made to start, or a restart re-reads the whole stream
                made_at = int(info.config.opt_start_seq or 0)
                start_seq = max(int(info.ack_floor.stream_seq) + 1, made_at)
        if start_seq is not None:
            # Redelivery of unacknowledged messages would wait for ack_wait; a worker that knows where its
            # checkpoint ends recreates its consumer to start right there.
            with contextlib.suppress(NotFoundError):
                await self._js.delete_consumer(stream, durable)
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start_seq else DeliverPolicy.ALL,
            opt_start_seq=start_seq if start_seq else None,
            ack_wait=self._ack_wait,
            max_ack_pending=100_000,
            filter_subject=filter_subject,
        )
        old = self._subs.pop((stream, durable), None)
        if old is not None:
            with contextlib.suppress(Exception):
                await old.unsubscribe()
        sub = await self._js.pull_subscribe(filter_subject, durable=durable, stream=stream, config=config)
        self._subs[(stream, durable)] = sub
        return _JetStreamConsumer(self._js, sub, stream, durable)

    async def delete_stream(self, name: str) -> None:
        from nats.js.errors import NotFoundError

        with contextlib.suppress(NotFoundError):
            await self._js.delete_stream(name)


class _JetStreamConsumer:
    def __init__(self, js: Any, sub: Any, stream: str, durable: str) -> None:
        self._js = js
        self._sub = sub
        self._stream = stream
        self._durable = durable

    async def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        from nats.errors import TimeoutError as NatsTimeout

        try:
            msgs = await self._sub.fetch(max_messages, timeout=timeout)
        except (NatsTimeout, TimeoutError):
            return []
        return [BusMessage(m.subject, m.data, int(m.metadata.sequence.stream), m) for m in msgs]

    async def ack_upto(self, message: BusMessage) -> None:
        # the server confirms; under load (2 cores shared with the broker and the workers) that can take
        # more than nats-py's default second, and a timed-out ack costs a retry and a redelivery
        await message.raw.ack_sync(timeout=ACK_TIMEOUT_S)

    async def pending(self) -> int:
        info = await self._js.consumer_info(self._stream, self._durable)
        return int(info.num_pending) + int(info.num_ack_pending)


def _enum_value(value: Any, default: str) -> str:
    return str(getattr(value, "value", value) or default)


def _nats_config(spec: StreamSpec) -> Any:
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        max_age=spec.max_age_s,
        max_bytes=spec.max_bytes,
        discard=DiscardPolicy.NEW if spec.discard_new else DiscardPolicy.OLD,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        num_replicas=spec.replicas,
        duplicate_window=120,
    )


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS URL: one, or a cluster's several comma-separated
    (``nats://a:4222,nats://b:4222,nats://c:4222``). The client connects to the first that answers and moves
    to another when its server dies; a cluster also tells it of its other members, but a process that
    starts while the one server it knows is down needs the list."""
    return [part.strip() for part in url.split(",") if part.strip()]


def make_bus(url: str) -> Bus:
    """``""`` or ``memory://`` -> in-process; ``nats://host:port`` (or a cluster's comma-separated
    servers) -> JetStream."""
    if not url or url.startswith("memory:"):
        return InProcessBus()
    if url.startswith(("nats://", "tls://")):
        return JetStreamBus(url)
    raise ValueError(f"bus URL '{url}': expected nats://host:port or empty for in-process")
