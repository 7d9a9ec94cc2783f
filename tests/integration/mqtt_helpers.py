"""What the MQTT integration tests share: an in-process stream to ingest into and a way to make the
machine's Mosquitto forget a session a test left behind."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from liftwatch.core.bus import InProcessBus
from liftwatch.telemetry import records
from tests.waiting import wait_until


async def telemetry_bus() -> InProcessBus:
    bus = InProcessBus()
    await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
    return bus


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
    wait_until(c.is_connected, 5, f"the broker accepts the clean start of {client_id}")
    c.loop_stop()
    c.disconnect()
