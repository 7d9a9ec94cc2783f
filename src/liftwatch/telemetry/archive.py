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

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from liftwatch.core.bus import Bus, BusMessage, Consumer
from liftwatch.telemetry import records
from liftwatch.telemetry.protocol import Event, Heartbeat, Status

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
    ]
)
_STATUS_FIELDS = [f.name for f in SCHEMA][6:22]
_decoders = (msgspec.json.Decoder(Status), msgspec.json.Decoder(Event), msgspec.json.Decoder(Heartbeat))
_KIND_NAMES = [k.value for k in records.KINDS]


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


class ArchiveWriter:
    """Consumes the whole telemetry stream (its own durable consumer) and writes Parquet files."""

    def __init__(
        self,
        bus: Bus,
        root: Path,
        max_rows: int = 200_000,
        max_age_s: float = 30.0,
        topology: records.Topology = records.DEFAULT_TOPOLOGY,
    ) -> None:
        self.bus = bus
        self.topology = topology
        self.root = root
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self._consumer: Consumer | None = None
        self._rows: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {f.name: [] for f in SCHEMA})
        self._count = 0
        self._first: BusMessage | None = None
        self._last: BusMessage | None = None
        self._since = time.monotonic()
        self.files_written = 0
        self.rows_written = 0

    async def start(self) -> None:
        topo = self.topology
        await self.bus.ensure_stream(topo.stream, [topo.all_subjects])
        self._consumer = await self.bus.consumer(topo.stream, "archive", topo.all_subjects)

    async def step(self, timeout: float = 0.5) -> int:
        assert self._consumer is not None, "start() first"
        batch = await self._consumer.fetch(64, timeout=timeout)
        n = 0
        for bm in batch:
            if self._first is None:
                self._first = bm
            self._last = bm
            for code, received_ms, kind, raw in records.decode_batch(bm.data):
                self._add(code, received_ms, kind, raw)
                n += 1
        self._count += n
        if self._count >= self.max_rows or (self._count and time.monotonic() - self._since >= self.max_age_s):
            await self.flush()
        return n

    def _add(self, code: str, received_ms: int, kind: int, raw: bytes) -> None:
        msg = _decoders[kind].decode(raw)
        cols = self._rows[_day(received_ms)]
        cols["registration_code"].append(code)
        cols["received_at"].append(received_ms)
        cols["type"].append(_KIND_NAMES[kind])
        cols["msg_id"].append(msg.msg_id)
        cols["seq"].append(msg.seq)
        cols["ts"].append(msg.ts)
        status = msg if type(msg) is Status else None
        for name in _STATUS_FIELDS:
            value = getattr(status, name, None) if status is not None else None
            cols[name].append(
                int(value) if name in ("mode", "direction", "door_command") and value is not None else value
            )
        if type(msg) is Event:
            cols["event_code"].append(msg.code.value)
            cols["event_active"].append(msg.active)
        else:
            cols["event_code"].append(None)
            cols["event_active"].append(None)

    async def flush(self) -> None:
        """Write what is buffered (one file per day touched), then acknowledge the stream."""
        if not self._count or self._first is None or self._last is None:
            return
        rows, self._rows = self._rows, defaultdict(lambda: {f.name: [] for f in SCHEMA})
        first, last = self._first.seq, self._last.seq
        await asyncio.to_thread(self._write, rows, first, last)
        assert self._consumer is not None
        await self._consumer.ack_upto(self._last)
        self.rows_written += self._count
        self._count = 0
        self._first = None
        self._since = time.monotonic()

    def _write(self, rows: dict[str, dict[str, list[Any]]], first: int, last: int) -> None:
        for day, cols in rows.items():
            folder = self.root / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pydict(cols, schema=SCHEMA)
            tmp = folder / f".part-{first:012d}-{last:012d}.parquet.tmp"
            pq.write_table(table, tmp, compression="zstd")
            tmp.replace(folder / f"part-{first:012d}-{last:012d}.parquet")  # atomic: never half a file
            self.files_written += 1

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("archive: step failed")
                await asyncio.sleep(1.0)
        await self.flush()
