"""The detector's cost per message counted by callgrind: instructions and cache misses, not seconds.

    valgrind --tool=callgrind --cache-sim=yes --D1=32768,8,64 --LL=1048576,16,64 \\
        --collect-atstart=no --toggle-collect='*Detector_3feed' \\
        .venv/bin/python bench/feed_cost.py [--messages 300000] [--module path/to/detector.so]
    callgrind_annotate callgrind.out.<pid> | grep 'PROGRAM TOTALS'

bench/ingest.py's stage (b) on a VM shared with other machines varies by a third from run to run, more
than a change to the detector gains; callgrind's counts of what ``Detector.feed`` executes do not vary.
This runs stage (b) (bench/ingest.py's ``bench_detect``) on ``--messages`` messages of the same simulated
city (50,000 elevators, 20x traffic) with the platform's detector, or with another build of it
(``--module``: a detector module compiled from an older commit, to compare); callgrind counts only inside
``feed`` (the toggle), and the seconds it prints are callgrind's, not the machine's. The figures are in
docs/PERFORMANCE.md, "Reads by place, a table of its own".
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import FaultKey, bench_detect, city_data, remove_tmp

from liftwatch.telemetry import detector as platform_detector


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--traffic", type=float, default=20.0)
    parser.add_argument("--module", default="", help="a detector module to load instead of the platform's")
    args = parser.parse_args(argv)
    module = platform_detector
    if args.module:
        spec = importlib.util.spec_from_file_location("liftwatch.telemetry.detector", args.module)
        assert spec is not None and spec.loader is not None, args.module
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    tmp = Path(tempfile.mkdtemp(prefix="liftwatch-bench-feed-"))
    try:
        data, rated, points = city_data(
            f"sqlite:///{tmp / 'city.db'}", args.elevators, args.messages, args.traffic
        )
    finally:
        remove_tmp(tmp)
    found: set[FaultKey] = set()
    out = bench_detect(data, points, rated, found, module.Detector)
    print(json.dumps(out | {"fault_changes": len(found), "module": Path(module.__file__).name}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
