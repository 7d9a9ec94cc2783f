"""The generated broker configuration on the real brokers: a Mosquitto of the test's own (TLS listener,
password and ACL files from `liftwatch.telemetry.brokerauth`) and a nats-server of its own with the
generated users. Anonymous clients are refused, a terminal cannot publish as another one, its own messages
reach MqttIngest / NatsRawIngest, and the services authenticate with their service accounts."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.bus import InProcessBus, JetStreamBus
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_session_factory
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.telemetry import brokerauth as ba
from liftwatch.telemetry import records
from liftwatch.telemetry.ingest import Ingestor, KnownElevators
from liftwatch.telemetry.mqtt import MqttIngest, MqttRefused
from liftwatch.telemetry.natsraw import NatsRawIngest
from tests.conftest import IN_CI
from tests.factories import seed
from tests.waiting import run_bounded, stays, until, wait_until

pytestmark = pytest.mark.mqtt
OWN, OTHER = "11SHA000001", "11SHA000002"
INGEST = ba.ServiceAccount("liftwatch-ingest", "ingest-secret")
NATS_SERVICE = ba.ServiceAccount("liftwatch", "bus-secret")


def _binary(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((f for f in fallbacks if os.path.exists(f)), None)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} must be installed in CI")
        pytest.skip(f"{name} not installed")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"broker exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"broker not listening on {port}: {log.read_text()[-2000:]}")


def _tls_files(d: Path) -> tuple[Path, Path, Path]:
    """A private CA and a broker certificate for 127.0.0.1 signed by it (what production has)."""
    openssl = _binary("openssl")
    d.mkdir()

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=liftwatch test CA")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
        "-subj", "/CN=127.0.0.1")  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "broker.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return d / "ca.pem", d / "broker.pem", d / "broker.key"


@dataclass
class Setup:
    factory: sessionmaker[Session]
    passwords: dict[str, str]  # registration code -> plaintext, as the provisioning sheet has them
    etc: Path  # the generated files
    mqtt_port: int = 0
    ca: Path | None = None


@pytest.fixture
def setup(sqlite_engine: Engine, tmp_path: Path, clock: FixedClock) -> Setup:
    factory = make_session_factory(sqlite_engine)
    with factory() as session:
        seed(session, clock)
        for i, code in enumerate((OWN, OTHER)):
            registry.update_elevator(
                session, SYSTEM_ACTOR, code, ElevatorUpdate(iot_terminal_id=f"T-{i}"), clock
            )
        issued = ba.issue_credentials(session, clock)
        session.commit()
    return Setup(factory, {i.registration_code: i.password for i in issued}, tmp_path / "etc")


def _write(setup: Setup, layout: ba.BrokerLayout) -> None:
    with setup.factory() as session:
        ba.write_broker_config(session, setup.etc, layout)


@pytest.fixture
def mosquitto(setup: Setup, tmp_path: Path) -> Iterator[Setup]:
    """Our own Mosquitto on a free port, run with exactly the generated mosquitto.conf (plus where to
    keep its log and store), TLS on."""
    binary = _binary("mosquitto", "/usr/sbin/mosquitto")
    ca, cert, key = _tls_files(tmp_path / "tls")
    port = _free_port()
    layout = ba.BrokerLayout(
        mqtt_ingest=INGEST,
        group="g1",
        listener_port=port,
        listener_address="127.0.0.1",
        tls_cert=str(cert),
        tls_key=str(key),
        tls_ca=str(ca),
        conf_dir=str(setup.etc),
    )
    _write(setup, layout)
    log = tmp_path / "mosquitto.log"
    conf = tmp_path / "run.conf"
    conf.write_text(
        (setup.etc / "mosquitto.conf").read_text()
        + f"persistence_location {tmp_path}/\nlog_dest file {log}\nlog_type all\n"
        + "user root\n"  # the files are the test user's; a root broker would switch to 'mosquitto'
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], cwd=tmp_path)
    try:
        _wait_port(port, proc, log)
        setup.mqtt_port, setup.ca = port, ca
        yield setup
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _terminal(setup: Setup, code: str) -> tuple[mqtt.Client, list[tuple[int, int]]]:
    """A terminal's MQTT 5 client over TLS; returns it and the (mid, PUBACK reason) pairs it got."""
    acks: list[tuple[int, int]] = []
    client = mqtt.Client(
        client_id=f"term-{code}", callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5
    )
    client.username_pw_set(code, setup.passwords[code])
    assert setup.ca is not None
    client.tls_set(ca_certs=str(setup.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.on_publish = lambda _c, _u, mid, rc, _p: acks.append((mid, rc.value))
    client.connect("127.0.0.1", setup.mqtt_port)
    client.loop_start()
    return client, acks


def _event(seq: int) -> str:
    return json.dumps({"msg_id": f"e{seq}", "seq": seq, "ts": int(time.time() * 1000), "code": "alarm"})


def _ingest(setup: Setup, ingestor: Ingestor, **creds: str | None) -> MqttIngest:
    return MqttIngest(
        ingestor,
        f"mqtts://127.0.0.1:{setup.mqtt_port}",
        group="g1",
        client_id=f"ingest-{os.getpid()}",
        ca_file=setup.ca,
        **creds,  # type: ignore[arg-type]
    )


def test_anonymous_clients_and_wrong_passwords_are_refused(mosquitto: Setup) -> None:
    async def main() -> None:
        ingestor = Ingestor(InProcessBus(), 1, KnownElevators([OWN]))
        with pytest.raises(MqttRefused, match=r"anonymous.*not authorized \(0x87\)"):
            await _ingest(mosquitto, ingestor).start()
        with pytest.raises(MqttRefused, match=r"'liftwatch-ingest'.*(not authorized|bad user name)"):
            await _ingest(mosquitto, ingestor, username=INGEST.username, password="wrong").start()

    run_bounded(main())
    anonymous = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    codes: list[int] = []
    anonymous.on_connect = lambda _c, _u, _f, rc, _p: codes.append(rc.value)
    assert mosquitto.ca is not None
    anonymous.tls_set(ca_certs=str(mosquitto.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    anonymous.connect("127.0.0.1", mosquitto.mqtt_port)
    anonymous.loop_start()
    wait_until(lambda: codes, 5, "the broker answers the anonymous CONNECT")
    anonymous.loop_stop()
    assert codes == [0x87]  # not authorized


def test_a_terminal_publishes_only_as_itself_end_to_end_into_the_ingest(mosquitto: Setup) -> None:
    async def main() -> None:
        bus = InProcessBus()
        await bus.ensure_stream(records.STREAM, [f"{records.SUBJECT_PREFIX}.>"])
        ingestor = Ingestor(bus, 1, KnownElevators([OWN, OTHER]))
        stop = asyncio.Event()
        flusher = asyncio.create_task(ingestor.run(stop=stop))
        ingest = _ingest(mosquitto, ingestor, username=INGEST.username, password=INGEST.password)
        await ingest.start()  # the service account over TLS

        term, acks = await asyncio.to_thread(_terminal, mosquitto, OWN)
        forged = term.publish(f"liftwatch/v1/{OTHER}/event", _event(1), qos=1)
        own = term.publish(f"liftwatch/v1/{OWN}/event", _event(2), qos=1)
        await asyncio.to_thread(forged.wait_for_publish, 5)
        await asyncio.to_thread(own.wait_for_publish, 5)
        await until(lambda: ingestor.stats.accepted >= 1)
        # the forged one, were it routed, would have come first; a quiet period makes sure
        await stays(lambda: ingest.received == 1, 0.5, "only the terminal's own event reaches the ingest")
        term.loop_stop()
        term.disconnect()
        stop.set()
        await flusher
        await ingest.stop()
        assert dict(acks) == {forged.mid: 0x87, own.mid: 0}  # PUBACK: not authorized / success
        assert ingest.received == 1
        consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
        got = [r for m in await consumer.fetch(100, timeout=1) for r in records.decode_batch(m.data)]
        assert [(code, json.loads(raw)["seq"]) for code, _, _, raw in got] == [(OWN, 2)]

    run_bounded(main())


def test_mosquitto_accepts_our_hashes_for_every_terminal(mosquitto: Setup) -> None:
    """Each issued password logs its own terminal in (and only its own user name)."""
    for code, password in mosquitto.passwords.items():
        for user, expected in ((code, 0), (OTHER if code == OWN else OWN, 0x87)):
            client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            client.username_pw_set(user, password)
            assert mosquitto.ca is not None
            client.tls_set(ca_certs=str(mosquitto.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
            codes: list[int] = []
            client.on_connect = lambda _c, _u, _f, rc, _p, codes=codes: codes.append(rc.value)
            client.connect("127.0.0.1", mosquitto.mqtt_port)
            client.loop_start()
            wait_until(lambda: codes, 5, f"the broker answers {user}'s CONNECT", interval=0.02)  # noqa: B023
            client.loop_stop()
            client.disconnect()
            assert codes == [expected], (user, code)


# ------------------------------------------------------------------ NATS


@pytest.fixture
def nats_server(setup: Setup, tmp_path: Path) -> Iterator[int]:
    binary = _binary("nats-server", "/usr/sbin/nats-server")
    _write(setup, ba.BrokerLayout(nats_service=NATS_SERVICE, namespace="authtest"))
    port = _free_port()
    conf = setup.etc / "nats-server.conf"
    conf.write_text(
        f"listen: 127.0.0.1:{port}\n"
        f'jetstream {{ store_dir: "{tmp_path / "js"}" }}\n'
        "include ./nats-auth.conf\n"
    )
    log = tmp_path / "nats.log"
    proc = subprocess.Popen([binary, "-c", str(conf), "-l", str(log)], cwd=tmp_path)
    try:
        _wait_port(port, proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.nats
def test_nats_users_services_on_their_subjects_terminals_on_their_own(setup: Setup, nats_server: int) -> None:
    import nats
    from nats.errors import NoServersError

    port = nats_server
    ns = "authtest"

    async def main() -> None:
        with pytest.raises((NoServersError, nats.errors.Error, OSError)):
            await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False, connect_timeout=2)

        # the service account, as LIFTWATCH_BUS_URL carries it (nats-py reads user:pass from the URL)
        bus = JetStreamBus(f"nats://{NATS_SERVICE.username}:{NATS_SERVICE.password}@127.0.0.1:{port}")
        await bus.connect()
        topo = records.Topology(ns)
        await bus.ensure_stream(topo.stream, [topo.all_subjects])
        await bus.ensure_stream(topo.faults_stream, [topo.faults_subjects])
        ingestor = Ingestor(bus, 1, KnownElevators([OWN, OTHER]), topology=topo)
        raw = NatsRawIngest(ingestor, bus, ns)
        await raw.start()
        stop = asyncio.Event()
        runner = asyncio.create_task(raw.run(stop))

        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        term = await nats.connect(
            f"nats://{OWN}:{setup.passwords[OWN]}@127.0.0.1:{port}",
            error_cb=on_error,
            inbox_prefix=ba.terminal_inbox_prefix(OWN),
            allow_reconnect=False,
        )
        await term.publish(f"{ns}.liftwatch.raw.{OTHER}.event", _event(1).encode())
        await term.publish(f"{ns}.liftwatch.raw.{OWN}.event", _event(2).encode())
        await term.flush()
        # JetStream publish with an acknowledgement, replies on the terminal's own inbox
        ack = await term.jetstream().publish(f"{ns}.liftwatch.raw.{OWN}.heartbeat", _event(3).encode())
        assert ack.stream == f"{ns.upper()}_RAW"
        await until(lambda: ingestor.stats.accepted >= 2)
        await until(
            lambda: any("permissions violation for publish" in str(e).lower() for e in errors),
            what=lambda: f"the server refuses the publish on another terminal's subject (errors: {errors})",
        )
        assert any("permissions violation for publish" in str(e).lower() for e in errors), errors
        await term.close()
        stop.set()
        await runner

        # a detector-style durable pull consumer on the telemetry stream, acknowledged
        consumer = await bus.consumer(topo.stream, "detector-p0", topo.subject_of(0))
        msgs = await consumer.fetch(10, timeout=2)
        got = [
            (code, json.loads(data)["seq"]) for m in msgs for code, _, _, data in records.decode_batch(m.data)
        ]
        assert sorted(got) == [(OWN, 2), (OWN, 3)]
        await consumer.ack_upto(msgs[-1])
        assert await consumer.pending() == 0
        await bus.close()

    run_bounded(main())
