"""Raw telemetry archived to Parquet, one folder per day (``date=YYYY-MM-DD``), for analytics (DuckDB,
pandas, Spark read it directly). A file is written, then the stream is acknowledged up to its last
message; files are named by their stream sequence range, so a replay after a crash rewrites the same name.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

from liftwatch.core.bus import Bus, BusMessage, Consumer, Health, run_steps
from liftwatch.core.metrics import Metrics
from liftwatch.telemetry import records

log = logging.getLogger(__name__)

SCHEMA = pa.schema(
    [
        ("registration_code", pa.string()),
        ("received_at", pa.timestamp("ms", tz="UTC")),
        ("type", pa.string()),
        ("msg_id", pa.string()),
        ("seq", pa.int64()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("mode", pa.int8()),
        ("running", pa.bool_()),
        ("direction", pa.int8()),
        ("door_zone", pa.bool_()),
        ("door_closed", pa.bool_()),
        ("door_command", pa.int8()),
        ("passenger", pa.bool_()),
        ("floor", pa.int16()),
        ("up_limit", pa.bool_()),
        ("down_limit", pa.bool_()),
        ("power", pa.bool_()),
        ("safety_circuit", pa.bool_()),
        ("speed", pa.float32()),
        ("trips", pa.int64()),
        ("door_cycles", pa.int64()),
        ("run_hours", pa.float64()),
        ("event_code", pa.string()),
        ("event_active", pa.bool_()),
        ("sent_ts", pa.timestamp("ms", tz="UTC")),  # store-and-forward (PROTOCOL.md section 3)
        ("backlog", pa.bool_()),
    ]
)

#: Stream batches pulled at once. NATS sends what a pull asks for at once and cuts a client with more than
#: 64 MB waiting to be read ("slow consumer"); a batch holds up to 2,000 messages (about 0.5 MB), and the
#: archive shares its connection with the detector partitions, which read only between their steps: 64
#: batches at a time cut the detector process in bench/ingest.py (c), and its partitions stalled.
FETCH_BATCHES = 8

# How the payload JSON is read (by Arrow's C++ reader, not per row in Python): the message's own fields.
_PAYLOAD_FIELDS = [f for f in SCHEMA if f.name not in ("registration_code", "received_at", "type")]
_RENAMES = {"event_code": "code", "event_active": "active"}
_MS_FIELDS = ("ts", "sent_ts")  # ms since the epoch in the JSON
_PAYLOAD_SCHEMA = pa.schema(
    [
        pa.field(_RENAMES.get(f.name, f.name), pa.int64() if f.name in _MS_FIELDS else f.type)
        for f in _PAYLOAD_FIELDS
    ]
)
_PARSE = pj.ParseOptions(explicit_schema=_PAYLOAD_SCHEMA, unexpected_field_behavior="ignore")
_KIND_NAMES = [k.value for k in records.KINDS]


_DAY_MS = 86_400_000
_DAY_NAMES: dict[int, str] = {}


def _day(ms: int) -> str:
    """The UTC day of a receive time, ``2026-12-04``: named once per day number (this runs per message,
    and formatting a datetime each time cost a tenth of the detector process in bench/ingest.py (c))."""
    n = ms // _DAY_MS
    name = _DAY_NAMES.get(n)
    if name is None:
        if len(_DAY_NAMES) > 1000:
            _DAY_NAMES.clear()
        name = _DAY_NAMES[n] = datetime.fromtimestamp(n * 86_400, tz=UTC).strftime("%Y-%m-%d")
    return name


class ArchiveWriter:
    """Consumes the whole telemetry stream (its own durable consumer) and writes Parquet files."""

    def __init__(
        self,
        bus: Bus,
        root: Path,
        max_rows: int = 200_000,
        max_age_s: float = 30.0,
        topology: records.Topology = records.DEFAULT_TOPOLOGY,
        metrics: Metrics | None = None,
    ) -> None:
        self.bus = bus
        self.metrics = metrics
        self.topology = topology
        self.root = root
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self._consumer: Consumer | None = None
        self._rows: dict[str, _DayBuffer] = defaultdict(_DayBuffer)
        self._count = 0
        self._first: BusMessage | None = None
        self._last: BusMessage | None = None
        self._since = time.monotonic()
        self.files_written = 0
        self.rows_written = 0
        self.health = Health("archive")
        self.skipped = 0
        self._newest_ms = 0  # the newest receive time buffered (for the lag at the next write)

    async def start(self) -> None:
        topo = self.topology
        await self.bus.ensure_stream(topo.stream, [topo.all_subjects])
        self._consumer = await self.bus.consumer(topo.stream, "archive", topo.all_subjects)

    async def step(self, timeout: float = 0.5) -> int:
        assert self._consumer is not None, "start() first"
        batch = await self._consumer.fetch(FETCH_BATCHES, timeout=timeout)
        n = 0
        for bm in batch:
            if self._first is None:
                self._first = bm
            self._last = bm
            try:
                recs = records.decode_batch(bm.data)
            except Exception:  # the detector dead-letters it (bad_record); the archive goes on
                self.skipped += 1
                if self.metrics is not None:
                    self.metrics.archive_skipped.inc()
                log.error("archive: stream seq %d is not a batch of records; skipped", bm.seq)
                continue
            for code, received_ms, kind, raw in recs:
                self._add(code, received_ms, kind, raw)
                n += 1
        self._count += n
        if self.metrics is not None:
            self.metrics.archive_buffered.set(self._count)
        if self._count >= self.max_rows or (self._count and time.monotonic() - self._since >= self.max_age_s):
            await self.flush()
        return n

    def _add(self, code: str, received_ms: int, kind: int, raw: bytes) -> None:
        buf = self._rows[_day(received_ms)]
        if received_ms > self._newest_ms:
            self._newest_ms = received_ms
        buf.codes.append(code)
        buf.received.append(received_ms)
        buf.kinds.append(_KIND_NAMES[kind])
        # JSON allows line breaks only as white space: make each message one line for the reader
        buf.payloads.append(
            raw.replace(b"\n", b" ").replace(b"\r", b" ") if b"\n" in raw or b"\r" in raw else raw
        )

    async def flush(self) -> None:
        """Write what is buffered (one file per day touched), then acknowledge the stream."""
        if not self._count or self._first is None or self._last is None:
            return
        rows, self._rows = self._rows, defaultdict(_DayBuffer)
        first, last = self._first.seq, self._last.seq
        files = await asyncio.to_thread(self._write, rows, first, last)
        assert self._consumer is not None
        await self._consumer.ack_upto(self._last)
        self.rows_written += self._count
        if self.metrics is not None:
            now = time.time()
            self.metrics.archive_rows.inc(self._count)
            self.metrics.archive_files.inc(files)
            self.metrics.archive_last_write.set(now)
            self.metrics.archive_lag_seconds.set(max(0.0, now - self._newest_ms / 1000))
            self.metrics.archive_buffered.set(0)
        self._count = 0
        self._first = None
        self._since = time.monotonic()

    def _write(self, rows: dict[str, _DayBuffer], first: int, last: int) -> int:
        """One file per day touched; returns how many."""
        for day, buf in rows.items():
            folder = self.root / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            table = buf.table()
            tmp = folder / f".part-{first:012d}-{last:012d}.parquet.tmp"
            pq.write_table(table, tmp, compression="zstd")
            tmp.replace(folder / f"part-{first:012d}-{last:012d}.parquet")  # atomic: never half a file
            self.files_written += 1
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(self.step, stop, "archive", self.health)
        await self.flush()


class _DayBuffer:
    __slots__ = ("codes", "kinds", "payloads", "received")

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.received: list[int] = []
        self.kinds: list[str] = []
        self.payloads: list[bytes] = []

    def table(self) -> pa.Table:
        parsed = pj.read_json(pa.BufferReader(b"\n".join(self.payloads)), parse_options=_PARSE)
        columns: dict[str, Any] = {
            "registration_code": pa.array(self.codes, pa.string()),
            "received_at": pa.array(self.received, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "type": pa.array(self.kinds, pa.string()),
        }
        for f in _PAYLOAD_FIELDS:
            col = parsed.column(_RENAMES.get(f.name, f.name))
            columns[f.name] = col.cast(f.type) if f.name in _MS_FIELDS else col
        return pa.table(columns, schema=SCHEMA)
