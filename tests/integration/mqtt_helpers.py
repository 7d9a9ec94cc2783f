"""What the MQTT integration tests share: an in-process stream to ingest into, a wait, and a way to make the
machine's Mosquitto forget a session a test left behind."""

from __future__ import annotations

import asyncio
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from liftwatch.core.bus import InProcessBus
from liftwatch.telemetry import records


async def telemetry_bus() -> InProcessBus:
    bus = InProcessBus()
    await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
    return bus


async def until(check: object, timeout: float = 10.0, show: object = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached in time ({show() if show else ''})")  # type: ignore[operator]


def forget_session(client_id: str) -> None:
    """Connect with a clean start and no session expiry: the broker drops whatever the test left."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    c = mqtt.Client(
        client_id=client_id, callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5
    )
    c.connect("127.0.0.1", 1883, clean_start=True, properties=props)
    c.loop_start()
    time.sleep(0.2)
    c.loop_stop()
    c.disconnect()
