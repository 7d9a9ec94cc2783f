"""After a restore: make a durable consumer read again what the restored database has not seen.

A backup is a database dump and a copy of the JetStream store, taken one after the other
(docs/OPERATIONS.md, "Backups"). The detector keeps its stream position in the database (its checkpoint),
so it replays by itself whatever telemetry the dump had not covered. A consumer that keeps its position
in NATS does not: in the restored store the rescue worker's consumer stands after every fault change it
had turned into an incident before the store was copied, including those whose incidents came after the
dump and are not in the restored database. The detector's replay announces those changes again, but
JetStream drops them as duplicates while their ids are in its duplicate window (two minutes), so the
incidents would never be opened. Moving the consumer back to the dump's start makes the rescue worker
read them again; it opens an incident once per fault (idempotent on fault_id), so re-reading is safe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


def checkpoint_problems(
    checkpoints: Mapping[int, tuple[int, str]], stream: str, epoch: str, last_seq: int
) -> list[str]:
    """Why the restored telemetry stream cannot follow the restored database, one line per partition
    (``checkpoints``: partition -> (stream_seq, stream_epoch)). A checkpoint past the stream's last message
    means the store was copied before the dump: the detector would skip the new messages numbered up to
    its checkpoint. A checkpoint of another epoch is no problem (the detector reads that stream from its
    start)."""
    return [
        f"detector partition {p}: its checkpoint is at {stream} seq {seq}, but the stream ends at "
        f"{last_seq}: the store copy is older than the dump (take the dump first, then copy the store)"
        for p, (seq, ckpt_epoch) in sorted(checkpoints.items())
        if ckpt_epoch in (epoch, "") and seq > last_seq
    ]


async def stream_position(url: str, stream: str) -> tuple[str, int] | None:
    """The stream's epoch (its creation time, as the detector keeps it) and last sequence; None when the
    stream does not exist."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url, name="liftwatch-rewind", allow_reconnect=False, connect_timeout=5)
    try:
        try:
            info = await nc.jetstream(timeout=10).stream_info(stream)
        except NotFoundError:
            return None
        return str(info.created or ""), int(info.state.last_seq)
    finally:
        await nc.close()


@dataclass(frozen=True)
class Rewind:
    """What ``rewind_consumer`` did: the consumer now delivers from ``start_seq`` (``reread`` messages
    already on the stream)."""

    stream: str
    durable: str
    first_seq: int  # the oldest message the stream holds
    last_seq: int  # the newest
    since_seq: int  # the first message published at or after ``since``
    previous_next: int | None  # where the consumer stood (None: it did not exist)
    start_seq: int

    @property
    def reread(self) -> int:
        return max(0, self.last_seq - self.start_seq + 1)


async def rewind_consumer(
    url: str, stream: str, durable: str, filter_subject: str, since: datetime
) -> Rewind:
    """Move ``durable`` back so that it delivers every message of ``stream`` published since ``since``
    (by the NATS server's clock), or from where it stood if that is earlier: it never skips anything.

    The consumer is left with its acknowledgement floor just before that message, which is where a
    liftwatch worker resumes (``JetStreamBus.consumer`` without a start sequence). Run it while the
    consumer's workers are stopped."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    if since.tzinfo is None:
        raise ValueError("since: a time with its time zone (e.g. 2026-12-03T02:00:00Z)")
    nc = await nats.connect(url, name="liftwatch-rewind", allow_reconnect=False, connect_timeout=5)
    try:
        js = nc.jetstream(timeout=10)
        state = (await js.stream_info(stream)).state
        first, last = int(state.first_seq), int(state.last_seq)
        previous: int | None = None
        with contextlib.suppress(NotFoundError):
            info = await js.consumer_info(stream, durable)
            previous = int(info.ack_floor.stream_seq) + 1
        # where ``since`` falls: a consumer created at that time reports the sequence just before it
        probe = f"{durable}-rewind-probe"
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(stream, probe)
        found = await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name=probe,
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=since,
                ack_policy=AckPolicy.ALL,
                filter_subject=filter_subject,
            ),
        )
        await js.delete_consumer(stream, probe)
        if found.delivered is None:
            raise RuntimeError(f"{stream}: NATS did not say where {since.isoformat()} falls")
        since_seq = int(found.delivered.stream_seq) + 1
        start = since_seq if previous is None else min(previous, since_seq)
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(stream, durable)
        if start > first:
            # A new consumer reports an acknowledgement floor of 0 until it acknowledges something (and
            # a worker would then read the whole stream): acknowledge the message just before ``start``.
            sub = await js.pull_subscribe(
                filter_subject,
                durable=durable,
                stream=stream,
                config=ConsumerConfig(
                    durable_name=durable,
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=start - 1,
                    ack_policy=AckPolicy.ALL,
                    filter_subject=filter_subject,
                ),
            )
            msg = (await sub.fetch(1, timeout=5))[0]
            got = int(msg.metadata.sequence.stream)
            if got != start - 1:
                raise RuntimeError(f"{stream}: expected message {start - 1} before {start}, found {got}")
            await msg.ack_sync(timeout=10)
            await sub.unsubscribe()  # the durable consumer stays
        # else: no consumer at all; a worker creates it and reads the stream from its oldest message
        return Rewind(stream, durable, first, last, since_seq, previous, max(start, first))
    finally:
        await nc.close()
