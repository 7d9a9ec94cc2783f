"""Benchmark: a 3-node NATS JetStream cluster loses one node under load; is anything lost or doubled?

    .venv/bin/python bench/cluster.py [--elevators 5000] [--messages 300000] [--rate 20000]
                                      [--database-url postgresql+psycopg://...]

Three nats-server nodes of its own on loopback ports (the machine's binary), clustered, each with its own
JetStream store; the platform's streams are created with 3 replicas. The real pipeline (the ingest and
every detector partition, in this process: ``liftwatch.workers.Pipeline``) runs on it and on a database of
its own (SQLite in a temporary folder, or an empty PostgreSQL database given by URL) with a generated city.
Terminals' messages, unique by (terminal, seq) and with alarm presses among them, are sent through the
ingest's entry at ``--rate`` a second; after 40 % of them the node leading the telemetry stream is killed
with SIGKILL. tests/integration/cluster_scenario.py says how each figure is counted; the stream is read
back after the run to count copies.

Prints as its last line one JSON object: {"nodes": 3, "killed": 1, "sent": S, "processed": S, "lost": 0,
"doubled": 0, ...} with the run's details after those (which node, publishes retried, alarm faults, times).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.cluster_scenario import kill_one_under_load, prepare_city
from tests.integration.nats_server import NATS_BINARY, NatsCluster


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=5_000)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--rate", type=float, default=20_000, help="messages a second sent to the ingest")
    parser.add_argument("--alarms", type=int, default=100, help="alarm presses among the messages")
    parser.add_argument("--database-url", default="", help="an empty database (default: SQLite, temporary)")
    args = parser.parse_args(argv)
    if not Path(NATS_BINARY).exists():
        log(f"nats-server not found at {NATS_BINARY}")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="liftwatch-bench-cluster-"))
    cluster = NatsCluster(tmp / "cluster")
    try:
        url = args.database_url or f"sqlite:///{tmp / 'city.db'}"
        log(f"generating a registry of {args.elevators} elevators")
        codes = prepare_city(url, args.elevators)
        cluster.start()
        log(f"cluster up: {cluster.url}")
        started = time.perf_counter()
        out = asyncio.run(
            kill_one_under_load(
                cluster,
                url,
                tmp / "var",
                codes,
                messages=args.messages,
                rate=args.rate,
                alarms=min(args.alarms, len(codes)),
                log=log,
            )
        )
        log(f"run took {time.perf_counter() - started:.1f} s")
        print(json.dumps(out))
        return 0 if out["lost"] == 0 and out["doubled"] == 0 and out["killed"] == 1 else 1
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
