"""The fault detector run from its source, uncompiled: what a machine without a C compiler runs.

`make setup` compiles telemetry/detector.py with Cython; the same file, loaded here as source under another
name, runs as plain Python (Cython's declarations are no-ops). The tests compare the two
(tests/unit/telemetry/test_compiled.py) and bench/ingest.py times both on the same data (stage (b'))."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from liftwatch.telemetry import detector

NAME = "liftwatch.telemetry._detector_as_source"


def detector_as_source() -> ModuleType:
    """telemetry/detector.py executed from its source (once per process), whether or not it is compiled."""
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(NAME, Path(detector.__file__).with_name("detector.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
    return module
