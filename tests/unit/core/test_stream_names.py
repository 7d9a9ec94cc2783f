"""One naming rule for streams and subjects: without a namespace the names of existing deployments,
with one a separator everywhere (docs/PROTOCOL.md, "NATS terminals")."""

from __future__ import annotations

import pytest

from liftwatch.core.bus import StreamSpec, describe_differences, stream_differences, stream_name, subject_name
from liftwatch.core.config import Settings
from liftwatch.telemetry.natsraw import raw_stream_name, raw_subjects, topic_of
from liftwatch.telemetry.records import Topology
from liftwatch.workers import stream_specs


def test_without_a_namespace_nothing_changes() -> None:
    topo = Topology("")
    assert (topo.stream, topo.all_subjects, topo.subject_of(3)) == (
        "TELEMETRY",
        "telemetry.>",
        "telemetry.p3",
    )
    assert (topo.faults_stream, topo.faults_subjects, topo.faults_subject("entrapment")) == (
        "FAULTS",
        "faults.>",
        "faults.entrapment",
    )
    assert (raw_stream_name(""), raw_subjects("")) == ("RAW", "liftwatch.raw.>")


def test_with_a_namespace_every_name_has_its_separator() -> None:
    topo = Topology("LwOps")
    assert (topo.stream, topo.all_subjects, topo.subject_of(0)) == (
        "LWOPS_TELEMETRY",
        "lwops.telemetry.>",
        "lwops.telemetry.p0",
    )
    assert (topo.faults_stream, topo.faults_subject("door_fault")) == (
        "LWOPS_FAULTS",
        "lwops.faults.door_fault",
    )
    assert (raw_stream_name("LwOps"), raw_subjects("LwOps")) == ("LWOPS_RAW", "lwops.liftwatch.raw.>")
    assert topic_of("lwops.liftwatch.raw.31A.B.event", "LwOps") == "liftwatch/v1/31A.B/event"


@pytest.mark.parametrize(
    ("namespace", "stream", "subject"), [("", "X", "x.y"), ("ab_1", "AB_1_X", "ab_1.x.y")]
)
def test_the_rule(namespace: str, stream: str, subject: str) -> None:
    assert stream_name(namespace, "X") == stream
    assert subject_name(namespace, "x.y") == subject


def test_specs_follow_the_settings() -> None:
    specs = stream_specs(
        Settings(
            stream_namespace="ns",
            stream_max_mb=5,
            stream_max_age_hours=2,
            faults_stream_max_mb=3,
            faults_stream_max_age_days=1,
            raw_stream_max_mb=0,
            stream_replicas=3,
        )
    )
    t, f, r = specs["telemetry"], specs["faults"], specs["raw"]
    assert (t.max_bytes, t.max_age_s, t.discard_new, t.replicas) == (5 * 2**20, 7200.0, False, 3)
    assert (f.max_bytes, f.max_age_s, f.discard_new, f.replicas) == (3 * 2**20, 86_400.0, True, 3)
    assert (r.max_bytes, r.replicas) == (-1, 3)  # 0: no limit


def test_differences_name_each_field() -> None:
    spec = StreamSpec("S", ("s.>",), 60.0, 100)
    current = {**spec.config(), "max_bytes": 50, "storage": "memory"}
    diffs = stream_differences(current, spec.config())
    assert diffs == [("max_bytes", 50, 100), ("storage", "memory", "file")]
    assert (
        describe_differences(diffs)
        == "max_bytes is 50, settings say 100; storage is 'memory', settings say 'file'"
    )
    assert stream_differences(spec.config(), spec.config()) == []
