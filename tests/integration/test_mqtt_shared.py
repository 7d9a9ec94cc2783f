"""The shared subscription through the real Mosquitto: a gracefully stopped ingest process leaves the
group at once (no traffic routed to its dead session), and topics outside the protocol are dead-lettered
instead of never being seen."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from liftwatch.core.bus import InProcessBus
from liftwatch.telemetry import records
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.mqtt import MqttIngest
from liftwatch.telemetry.service import DeadLetterRecord
from tests.conftest import MQTT_URL, require_service
from tests.integration.mqtt_helpers import forget_session, telemetry_bus
from tests.waiting import run_bounded, until

pytestmark = pytest.mark.mqtt
CODE = "11SHA000002"


async def _seqs(bus: InProcessBus) -> list[int]:
    consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
    got = [r for m in await consumer.fetch(10_000, timeout=0.5) for r in records.decode_batch(m.data)]
    return [json.loads(raw)["seq"] for _, _, _, raw in got]


def _publisher() -> mqtt.Client:
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    return pub


def _publish(pub: mqtt.Client, seqs: range, now: int, pause_s: float = 0.0) -> None:
    infos = []
    for seq in seqs:
        body = {"msg_id": f"e{seq}", "seq": seq, "ts": now, "code": "alarm"}
        infos.append(pub.publish(f"liftwatch/v1/{CODE}/event", json.dumps(body), qos=1))
        if pause_s:
            time.sleep(pause_s)
    for info in infos:
        info.wait_for_publish(5)


class _Member:
    """One ingest process of the group: its own bus, ingestor, flusher and MQTT client."""

    def __init__(self, group: str, client_id: str) -> None:
        self.group, self.client_id = group, client_id

    async def start(self) -> None:
        self.bus = await telemetry_bus()
        self.ingestor = Ingestor(self.bus, 1, KnownElevators([CODE]))
        self.stop_flush = asyncio.Event()
        self.flusher = asyncio.create_task(self.ingestor.run(stop=self.stop_flush))
        self.mqtt = MqttIngest(self.ingestor, MQTT_URL, group=self.group, client_id=self.client_id)
        await self.mqtt.start()

    async def stop(self) -> None:
        """The SIGTERM path of `liftwatch worker` (Pipeline.stop): flush stop set, then MqttIngest.stop."""
        self.stop_flush.set()
        await self.mqtt.stop()
        await self.flusher


def test_a_gracefully_stopped_ingest_leaves_the_group_and_loses_nothing() -> None:
    """Issue 8.6: after one member stops, everything published reaches the other member; what was in
    flight at the stop is on the stopped member's stream (acknowledged) or comes to the other."""
    require_service("Mosquitto", MQTT_URL)
    group = f"t-{uuid.uuid4().hex[:8]}"
    a = _Member(group, f"t-a-{uuid.uuid4().hex[:8]}")
    b = _Member(group, f"t-b-{uuid.uuid4().hex[:8]}")
    now = int(time.time() * 1000)

    async def main() -> None:
        await a.start()
        await b.start()
        pub = await asyncio.to_thread(_publisher)
        try:
            # traffic while A stops: some of it is in flight to A at that moment
            during = threading.Thread(target=_publish, args=(pub, range(1, 201), now, 0.002))
            during.start()
            await until(lambda: a.mqtt.received > 0, what="A receives part of the traffic before it stops")
            await a.stop()
            await asyncio.to_thread(during.join)
            await asyncio.to_thread(_publish, pub, range(201, 261), now)
        finally:
            pub.loop_stop()
            pub.disconnect()
        await until(
            lambda: a.ingestor.stats.accepted + b.ingestor.stats.accepted >= 260,
            what=lambda: f"A {a.ingestor.stats.accepted} + B {b.ingestor.stats.accepted} of 260",
        )
        await b.stop()
        seen_a, seen_b = await _seqs(a.bus), await _seqs(b.bus)
        assert set(range(201, 261)) <= set(seen_b), "published after A stopped: all must reach B"
        assert set(seen_a) | set(seen_b) == set(range(1, 261))
        assert seen_a, "A took part before it stopped"

    try:
        run_bounded(main())
    finally:
        forget_session(a.client_id)
        forget_session(b.client_id)


def test_topics_outside_the_protocol_are_dead_lettered_as_bad_topic() -> None:
    """PROTOCOL.md section 4: a topic that is not liftwatch/v1/<code>/<type> becomes a bad_topic letter."""
    require_service("Mosquitto", MQTT_URL)
    letters: list[DeadLetterRecord] = []
    client_id = f"t-bad-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        ingestor = Ingestor(await telemetry_bus(), 1, KnownElevators([CODE]), dead_letter_sink=letters.extend)
        stop = asyncio.Event()
        flusher = asyncio.create_task(ingestor.run(stop=stop))
        ingest = MqttIngest(ingestor, MQTT_URL, group=f"t-{uuid.uuid4().hex[:8]}", client_id=client_id)
        await ingest.start()
        pub = await asyncio.to_thread(_publisher)
        body = json.dumps({"msg_id": "h1", "seq": 1, "ts": int(time.time() * 1000)})
        for topic in (
            f"liftwatch/v1/{CODE}/status/extra",
            f"liftwatch/v1/{CODE}",
            f"liftwatch/v1/{CODE}/heartbeat",
        ):
            pub.publish(topic, body, qos=1).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()
        await until(lambda: ingestor.stats.accepted + len(letters) >= 3, what=lambda: f"{letters}")
        stop.set()
        await flusher
        await ingest.stop()
        assert ingestor.stats.accepted == 1
        assert sorted((d.topic, d.reason) for d in letters) == [
            (f"liftwatch/v1/{CODE}", "bad_topic"),
            (f"liftwatch/v1/{CODE}/status/extra", "bad_topic"),
        ]

    try:
        run_bounded(main())
    finally:
        forget_session(client_id)
