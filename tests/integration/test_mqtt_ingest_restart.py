"""QoS 1 through the real Mosquitto: an ingest process that dies with events accepted but not yet on the
stream has not acknowledged them, so the broker delivers them again to its restarted session."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from liftwatch.core.bus import InProcessBus
from liftwatch.telemetry import records
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.mqtt import MqttIngest
from tests.conftest import MQTT_URL, require_service

pytestmark = pytest.mark.mqtt
CODE = "11SHA000001"


async def _bus() -> InProcessBus:
    bus = InProcessBus()
    await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
    return bus


async def _until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached in time")


def test_unacknowledged_events_come_back_after_an_ingest_crash() -> None:
    require_service("Mosquitto", MQTT_URL)
    group, client_id = f"t-{uuid.uuid4().hex[:8]}", f"t-ingest-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)

    async def main() -> None:
        first = Ingestor(await _bus(), 1, KnownElevators([CODE]))  # never flushed: dies holding them
        crashed = MqttIngest(first, MQTT_URL, group=group, client_id=client_id, session_expiry_s=60)
        await crashed.start()
        pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        pub.connect("127.0.0.1", 1883)
        pub.loop_start()
        for seq in range(1, 6):
            body = {"msg_id": f"e{seq}", "seq": seq, "ts": now, "code": "alarm"}
            pub.publish(f"liftwatch/v1/{CODE}/event", json.dumps(body), qos=1).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()
        await _until(lambda: crashed.received == 5)
        assert first.buffered() == 5  # accepted, not on any stream, not acknowledged to the broker
        crashed.abort()  # the process dies

        bus = await _bus()
        second = Ingestor(bus, 1, KnownElevators([CODE]))
        restarted = MqttIngest(second, MQTT_URL, group=group, client_id=client_id, session_expiry_s=1)
        stop = asyncio.Event()
        flusher = asyncio.create_task(second.run(stop=stop))
        await restarted.start()
        await _until(lambda: second.stats.accepted >= 5)
        stop.set()
        await flusher
        await restarted.stop()
        consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
        got = [r for m in await consumer.fetch(100, timeout=1) for r in records.decode_batch(m.data)]
        ids = sorted(json.loads(raw)["msg_id"] for _, _, _, raw in got)
        assert ids == ["e1", "e2", "e3", "e4", "e5"]

    asyncio.run(main())
