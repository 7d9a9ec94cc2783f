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

from liftwatch.telemetry import records
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.mqtt import MqttIngest
from tests.conftest import MQTT_URL, require_service
from tests.integration.mqtt_helpers import forget_session, telemetry_bus
from tests.waiting import run_bounded, stays, until

pytestmark = pytest.mark.mqtt
CODE = "11SHA000001"


def test_unacknowledged_events_come_back_after_an_ingest_crash() -> None:
    require_service("Mosquitto", MQTT_URL)
    group, client_id = f"t-{uuid.uuid4().hex[:8]}", f"t-ingest-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)

    async def main() -> None:
        first = Ingestor(await telemetry_bus(), 1, KnownElevators([CODE]))  # never flushed: dies holding them
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
        await until(lambda: crashed.received == 5)
        assert first.buffered() == 5  # accepted, not on any stream, not acknowledged to the broker
        crashed.abort()  # the process dies

        bus = await telemetry_bus()
        second = Ingestor(bus, 1, KnownElevators([CODE]))
        restarted = MqttIngest(second, MQTT_URL, group=group, client_id=client_id, session_expiry_s=1)
        stop = asyncio.Event()
        flusher = asyncio.create_task(second.run(stop=stop))
        await restarted.start()
        await until(lambda: second.stats.accepted >= 5)
        stop.set()
        await flusher
        await restarted.stop()
        consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
        got = [r for m in await consumer.fetch(100, timeout=1) for r in records.decode_batch(m.data)]
        ids = sorted(json.loads(raw)["msg_id"] for _, _, _, raw in got)
        assert ids == ["e1", "e2", "e3", "e4", "e5"]

    run_bounded(main())


def _publish_events(codes_seqs: list[tuple[str, int]], now: int, port: int = 1883) -> None:
    """Publish QoS 1 events and wait until the broker has each (PUBACK)."""
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        infos = [
            pub.publish(
                f"liftwatch/v1/{code}/event",
                json.dumps({"msg_id": f"e{seq}", "seq": seq, "ts": now, "code": "alarm"}),
                qos=1,
            )
            for code, seq in codes_seqs
        ]
        for info in infos:
            info.wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()


def test_events_redelivered_on_reconnect_are_acknowledged_and_later_ones_still_flow() -> None:
    """Issue 8.1: redelivered QoS 1 messages arrive before SUBACK; they must be acknowledged on the
    connection that received them, else the broker's in-flight window (20) stays full for good."""
    require_service("Mosquitto", MQTT_URL)
    group, client_id = f"t-{uuid.uuid4().hex[:8]}", f"t-ingest-{uuid.uuid4().hex[:8]}"
    now = int(time.time() * 1000)

    async def main() -> None:
        crashed = MqttIngest(
            Ingestor(await telemetry_bus(), 1, KnownElevators([CODE])),
            MQTT_URL,
            group=group,
            client_id=client_id,
            session_expiry_s=60,
        )
        await crashed.start()
        crashed.abort()  # the process dies; its session (and subscription) stays on the broker
        await asyncio.to_thread(_publish_events, [(CODE, s) for s in range(1, 31)], now)

        bus = await telemetry_bus()
        second = Ingestor(bus, 1, KnownElevators([CODE]))
        restarted = MqttIngest(second, MQTT_URL, group=group, client_id=client_id, session_expiry_s=60)
        stop = asyncio.Event()
        flusher = asyncio.create_task(second.run(stop=stop))
        await restarted.start()
        await until(lambda: second.stats.accepted >= 30, what=lambda: f"{second.stats.accepted} of 30")
        await asyncio.to_thread(_publish_events, [(CODE, s) for s in range(31, 33)], now)
        await until(lambda: second.stats.accepted >= 32)
        # the last acknowledgements go out with the flush that empties the buffer (after_publish)
        await until(lambda: not second.buffered(), what="the last events are on the stream, acknowledged")
        restarted.abort()  # no graceful stop: only acknowledgements keep the broker from resending
        stop.set()
        await flusher
        consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
        got = [r for m in await consumer.fetch(100, timeout=1) for r in records.decode_batch(m.data)]
        assert sorted(json.loads(raw)["seq"] for _, _, _, raw in got) == list(range(1, 33))

        third = Ingestor(await telemetry_bus(), 1, KnownElevators([CODE]))
        again = MqttIngest(third, MQTT_URL, group=group, client_id=client_id, session_expiry_s=60)
        await again.start()
        await stays(
            lambda: again.received == 0, 1.0, lambda: f"{again.received} messages were never acknowledged"
        )
        redelivered = again.received
        again.abort()
        assert redelivered == 0, f"{redelivered} messages were never acknowledged"

    try:
        run_bounded(main())
    finally:
        forget_session(client_id)
