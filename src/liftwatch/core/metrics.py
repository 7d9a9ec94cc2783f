"""Prometheus metrics, one registry per process (exposed at /metrics): the pipeline's own figures and the
process's (CPU, memory, open files, garbage collection), so every process can be watched alike."""

from __future__ import annotations

import functools

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)


def with_process_metrics(registry: CollectorRegistry) -> CollectorRegistry:
    """Add the process's own metrics (``process_*``: CPU seconds, resident memory, open files, start
    time; ``python_gc_*``; ``python_info``) to ``registry``. The collectors only read /proc and the
    interpreter when scraped, so one instance serves any number of registries."""
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


@functools.cache
def process_registry() -> CollectorRegistry:
    """The process metrics alone: what a web process without a pipeline serves on /metrics."""
    return with_process_metrics(CollectorRegistry())


class Metrics:
    def __init__(self) -> None:
        self.registry = with_process_metrics(CollectorRegistry())
        r = self.registry
        self.messages = Counter(
            "liftwatch_telemetry_messages", "Telemetry messages accepted", ["source", "type"], registry=r
        )
        self.rejects = Counter(
            "liftwatch_telemetry_rejects",
            "Telemetry messages dead-lettered",
            ["source", "reason"],
            registry=r,
        )
        self.faults = Counter(
            "liftwatch_faults", "Fault changes stored", ["fault_type", "change"], registry=r
        )
        self.shed = Counter(
            "liftwatch_telemetry_shed",
            "QoS 0 messages not taken while ingestion was saturated",
            ["type"],
            registry=r,
        )
        self.backlog = Gauge(
            "liftwatch_stream_backlog",
            "Telemetry stream batches waiting for the slowest detector partition (not yet delivered)",
            registry=r,
        )
        self.discarded = Counter(
            "liftwatch_stream_discarded_unread",
            "Telemetry stream sequences discarded (stream full) before a detector partition read them",
            ["partition"],
            registry=r,
        )
        self.detected = Counter("liftwatch_detector_messages", "Messages through the detector", registry=r)
        self.duplicates = Counter(
            "liftwatch_detector_duplicates",
            "Messages a terminal sent again (its (terminal, seq) already seen) that the detector ignored",
            registry=r,
        )
        self.set_aside = Counter(
            "liftwatch_detector_set_aside",
            "Messages the detector did not apply: stale (a status older than one applied) or implausible "
            "(a seq too far from the terminal's count)",
            ["reason"],
            registry=r,
        )
        self.stream_duplicates = Counter(
            "liftwatch_stream_duplicates",
            "Messages in retried publishes that the stream already held and dropped (not doubled)",
            ["stream"],
            registry=r,
        )
        self.lag_seconds = Gauge(
            "liftwatch_detector_lag_seconds",
            "Wall time minus the newest processed receive time",
            ["partition"],
            registry=r,
        )
        self.pending = Gauge(
            "liftwatch_stream_pending", "Stream messages not yet acknowledged", ["consumer"], registry=r
        )
        self.batch_seconds = Histogram(
            "liftwatch_detector_batch_seconds", "Time to process one stream batch", registry=r
        )
        self.checkpoints = Counter("liftwatch_detector_checkpoints", "Checkpoints saved", registry=r)
        self.notices_delivered = Counter(
            "liftwatch_notices_delivered", "Rescue notices delivered from the outbox", registry=r
        )
        self.notice_failures = Counter(
            "liftwatch_notice_failures", "Failed delivery attempts of rescue notices (retried)", registry=r
        )
        self.notices_pending = Gauge(
            "liftwatch_notices_pending", "Rescue notices in the outbox not yet delivered", registry=r
        )
        self.notice_oldest_pending_s = Gauge(
            "liftwatch_notice_oldest_pending_seconds",
            "Age of the oldest rescue notice not yet delivered (0: none)",
            registry=r,
        )
        # archive worker (telemetry -> Parquet)
        self.archive_rows = Counter(
            "liftwatch_archive_rows", "Telemetry messages written to Parquet", registry=r
        )
        self.archive_files = Counter("liftwatch_archive_files", "Parquet files written", registry=r)
        self.archive_skipped = Counter(
            "liftwatch_archive_skipped", "Stream records the archive could not read (skipped)", registry=r
        )
        self.archive_last_write = Gauge(
            "liftwatch_archive_last_write_timestamp_seconds",
            "When the archive last wrote a file (Unix time; 0: not yet)",
            registry=r,
        )
        self.archive_lag_seconds = Gauge(
            "liftwatch_archive_lag_seconds",
            "At the last write: wall clock minus the newest receive time written",
            registry=r,
        )
        self.archive_buffered = Gauge(
            "liftwatch_archive_buffered_rows", "Rows read from the stream, not yet written", registry=r
        )
        # rescue worker (faults -> incidents, deadlines, dispatch)
        self.rescue_fault_changes = Counter(
            "liftwatch_rescue_fault_changes",
            "Fault changes the rescue worker consumed from the FAULTS stream",
            ["change"],
            registry=r,
        )
        self.rescue_incidents_opened = Counter(
            "liftwatch_rescue_incidents_opened",
            "Incidents opened from IoT faults (entrapment, alarm button)",
            ["source"],
            registry=r,
        )
        self.rescue_passed_over = Counter(
            "liftwatch_rescue_faults_passed_over",
            "Fault changes that can never become an incident (undecodable, elevator not registered)",
            registry=r,
        )
        self.rescue_actions = Counter(
            "liftwatch_rescue_actions",
            "What the rescue worker did, by the notice it wrote: dispatched, no_crew, escalated, ...",
            ["kind"],
            registry=r,
        )
