"""Prometheus metrics, one registry per process (exposed at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
            "Telemetry stream messages its slowest consumer has not acknowledged",
            registry=r,
        )
        self.discarded = Counter(
            "liftwatch_stream_discarded_unread",
            "Telemetry stream sequences discarded (stream full) before a detector partition read them",
            ["partition"],
            registry=r,
        )
        self.detected = Counter("liftwatch_detector_messages", "Messages through the detector", registry=r)
        self.duplicates = Counter("liftwatch_detector_duplicates", "Duplicate messages ignored", registry=r)
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
