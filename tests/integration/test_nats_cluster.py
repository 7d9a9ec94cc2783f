"""A 3-node NATS JetStream cluster, streams replicated 3 times, the node leading the telemetry stream killed
while terminals' messages flow through the ingest and the detectors (the real pipeline, on PostgreSQL):
nothing lost, nothing doubled, each alarm press exactly one fault. bench/cluster.py is the same, larger."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_pg_database
from tests.integration.cluster_scenario import kill_one_under_load, prepare_city
from tests.integration.nats_server import NatsCluster, require_nats_binary

pytestmark = pytest.mark.nats


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    require_nats_binary()
    nodes = NatsCluster(tmp_path / "cluster").start()
    try:
        yield nodes
    finally:
        nodes.stop()


def test_killing_the_stream_leader_under_load_loses_and_doubles_nothing(
    cluster: NatsCluster, tmp_path: Path
) -> None:
    with fresh_pg_database("liftwatch_cluster") as url:
        codes = prepare_city(url, 300)
        out = asyncio.run(
            kill_one_under_load(
                cluster, url, tmp_path / "var", codes, messages=20_000, rate=5_000, alarms=20, log=print
            )
        )
    print(out)
    assert out["nodes"] == out["replicas"] == 3, out
    assert out["killed"] == 1 and out["killed_node"] in {"n0", "n1", "n2"}, out
    assert out["processed"] == out["sent"] == 20_000, out
    assert out["lost"] == 0 and out["doubled"] == 0, out
    assert out["alarm_faults"] == out["alarms"] == 20, out
