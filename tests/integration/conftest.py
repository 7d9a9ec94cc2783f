"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.nats_server import OwnNats, require_nats_binary


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[OwnNats]:
    """A NATS JetStream server of the test's own, killed afterwards."""
    require_nats_binary()
    server = OwnNats(tmp_path / "jetstream").start()
    try:
        yield server
    finally:
        server.kill()
