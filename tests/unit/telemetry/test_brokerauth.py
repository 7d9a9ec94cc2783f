"""Broker credentials: hashes in the brokers' own formats, issuing and revoking per-terminal accounts, the
generated Mosquitto and NATS files, and the `liftwatch broker` commands."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import get_settings
from liftwatch.core.errors import Conflict, InvalidInput, NotFound
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.telemetry import brokerauth as ba
from liftwatch.telemetry.models import TerminalCredential
from liftwatch.telemetry.mqtt import parse_broker_url
from liftwatch.telemetry.mqttwire import connect_packet, disconnect_packet
from tests.factories import seed

HASH_RE = re.compile(r"^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$")


def _with_terminals(session: Session, clock: FixedClock, codes: list[str]) -> None:
    seed(session, clock)
    for i, code in enumerate(codes):
        registry.update_elevator(session, SYSTEM_ACTOR, code, ElevatorUpdate(iot_terminal_id=f"T-{i}"), clock)
    session.commit()


def _bcrypt_ok(password: str, hashed: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    return bool(crypt.crypt(password, hashed) == hashed)


# ------------------------------------------------------------------ hashes


def test_mosquitto_hash_has_mosquitto_passwd_format_and_verifies() -> None:
    hashed = ba.mosquitto_hash("s3cret")
    assert HASH_RE.match(hashed), hashed
    assert ba.verify_mosquitto_hash("s3cret", hashed)
    assert not ba.verify_mosquitto_hash("s3cret!", hashed)
    assert not ba.verify_mosquitto_hash("s3cret", "$6$nonsense")
    assert ba.mosquitto_hash("s3cret") != hashed  # a fresh salt each time


def test_mosquitto_hash_reads_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    """The same algorithm as mosquitto_passwd 2.0 (the broker itself accepts ours: integration test)."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd not installed")
    pwfile = tmp_path / "pw"
    subprocess.run([tool, "-c", "-b", str(pwfile), "term1", "p@ss word"], check=True)
    user, hashed = pwfile.read_text().strip().split(":", 1)
    assert user == "term1" and HASH_RE.match(hashed)
    assert ba.verify_mosquitto_hash("p@ss word", hashed)
    _, _, iterations, salt, _ = hashed.split("$")
    import base64

    again = ba.mosquitto_hash("p@ss word", int(iterations), base64.b64decode(salt))
    assert again == hashed


def test_nats_hash_is_bcrypt() -> None:
    hashed = ba.nats_hash("pw")
    assert hashed.startswith(("$2b$04$", "$2a$04$")) and len(hashed) == 60
    assert _bcrypt_ok("pw", hashed) and not _bcrypt_ok("px", hashed)


def test_new_passwords_are_random_and_long() -> None:
    pws = {ba.new_password() for _ in range(100)}
    assert len(pws) == 100 and all(len(p) >= 24 for p in pws)


# ------------------------------------------------------------------ wire and URLs


def test_connect_carries_credentials_and_disconnect_ends_the_session() -> None:
    plain = connect_packet("c1")
    auth = connect_packet("c1", username="u", password="p")
    assert auth[9] & 0xC0 == 0xC0 and plain[9] & 0xC0 == 0  # user name and password flags
    assert auth.endswith(b"\x00\x01u\x00\x01p")
    assert disconnect_packet(0) == bytes([0xE0, 7, 0, 5, 0x11, 0, 0, 0, 0])
    assert disconnect_packet() == bytes([0xE0, 0])


def test_broker_urls() -> None:
    a = parse_broker_url("mqtts://ingest:p%40ss@broker.example")
    assert (a.host, a.port, a.tls, a.username, a.password) == ("broker.example", 8883, True, "ingest", "p@ss")
    b = parse_broker_url("mqtt://127.0.0.1")
    assert (b.port, b.tls, b.username) == (1883, False, None)
    with pytest.raises(ValueError, match="mqtts://"):
        parse_broker_url("http://x")


# ------------------------------------------------------------------ issuing


def test_issue_all_covers_terminals_without_credentials(session: Session, clock: FixedClock) -> None:
    _with_terminals(session, clock, ["11SHA000001", "11SHB000003"])
    issued = ba.issue_credentials(session, clock)
    session.commit()
    assert [i.registration_code for i in issued] == ["11SHA000001", "11SHB000003"]
    assert all(i.username == i.registration_code for i in issued)
    rows = {r.registration_code: r for r in ba.live_credentials(session)}
    for i in issued:
        assert ba.verify_mosquitto_hash(i.password, rows[i.registration_code].password_hash)
        assert i.password not in rows[i.registration_code].password_hash
        nats_hash = rows[i.registration_code].nats_password_hash
        assert nats_hash is not None and _bcrypt_ok(i.password, nats_hash)
    assert ba.issue_credentials(session, clock) == []  # nothing left without one


def test_issue_by_code_refuses_a_live_one_unless_rotated(session: Session, clock: FixedClock) -> None:
    _with_terminals(session, clock, ["11SHA000001"])
    (first,) = ba.issue_credentials(session, clock, ["11SHA000001"])
    with pytest.raises(Conflict, match="rotate"):
        ba.issue_credentials(session, clock, ["11SHA000001"])
    with pytest.raises(NotFound, match="NOPE"):
        ba.issue_credentials(session, clock, ["NOPE"])
    (second,) = ba.issue_credentials(session, clock, ["11SHA000001"], rotate=True)
    row = session.get(TerminalCredential, "11SHA000001")
    assert row is not None
    assert ba.verify_mosquitto_hash(second.password, row.password_hash)
    assert not ba.verify_mosquitto_hash(first.password, row.password_hash)


def test_revoked_credentials_leave_the_broker_files(session: Session, clock: FixedClock) -> None:
    _with_terminals(session, clock, ["11SHA000001", "11SHA000002"])
    ba.issue_credentials(session, clock)
    ba.revoke_credential(session, "11SHA000002", clock)
    with pytest.raises(NotFound):
        ba.revoke_credential(session, "11SHA000002", clock)
    layout = ba.BrokerLayout(mqtt_ingest=ba.ServiceAccount("ingest", "pw"))
    text = ba.mosquitto_passwd(ba.live_credentials(session), layout)
    assert [line.split(":")[0] for line in text.splitlines()] == ["ingest", "11SHA000001"]
    nats = ba.nats_auth_conf(ba.live_credentials(session), layout)
    assert "11SHA000001" in nats and "11SHA000002" not in nats
    # revoked, then issued again (--all picks it up: its terminal is still there)
    assert [i.registration_code for i in ba.issue_credentials(session, clock)] == ["11SHA000002"]


# ------------------------------------------------------------------ broker files


def _cred(code: str) -> TerminalCredential:
    return TerminalCredential(
        registration_code=code,
        username=code,
        password_hash=ba.mosquitto_hash("x"),
        nats_password_hash="$2b$h",
    )


def test_acl_confines_terminals_to_their_own_topics() -> None:
    layout = ba.BrokerLayout(mqtt_ingest=ba.ServiceAccount("ingest", "pw"), group="g1")
    acl = ba.mosquitto_acl(layout)
    lines = [line for line in acl.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "pattern write liftwatch/v1/%u/+",
        "user ingest",
        "topic read liftwatch/v1/#",
        "topic read $share/g1/liftwatch/v1/#",
    ]


def test_mosquitto_conf_is_authenticated_with_optional_tls() -> None:
    plain = ba.mosquitto_conf(ba.BrokerLayout(listener_port=1884, conf_dir="/etc/m/"))
    assert "allow_anonymous false" in plain and "listener 1884\n" in plain
    assert "password_file /etc/m/mosquitto.passwd" in plain and "acl_file /etc/m/mosquitto.acl" in plain
    assert "certfile" not in plain
    tls = ba.mosquitto_conf(ba.BrokerLayout(tls_cert="/c.pem", tls_key="/k.pem", tls_ca="/ca.pem"))
    assert "certfile /c.pem\nkeyfile /k.pem\ncafile /ca.pem" in tls


def test_nats_conf_users_and_permissions() -> None:
    layout = ba.BrokerLayout(nats_service=ba.ServiceAccount("svc", "pw"), namespace="t1")
    text = ba.nats_auth_conf([_cred("31A.B")], layout)
    assert text.count("{user:") == 2
    assert '"t1.liftwatch.raw.31A.B.>"' in text and '"_INBOX_31A.B.>"' in text
    publish, subscribe = ba.nats_service_permissions("t1")
    assert {"t1.telemetry.>", "t1.faults.>", "$JS.ACK.>"} <= set(publish)
    assert "$JS.API.CONSUMER.*.*.T1_TELEMETRY.>" in publish and "$JS.API.STREAM.*.T1_RAW" in publish
    assert subscribe == ["_INBOX.>"]


def test_user_names_that_would_break_the_files_are_refused() -> None:
    with pytest.raises(InvalidInput):
        ba.mosquitto_passwd([], ba.BrokerLayout(mqtt_ingest=ba.ServiceAccount("in:gest", "pw")))
    with pytest.raises(InvalidInput):
        ba.mosquitto_passwd([_cred("A/B")], ba.BrokerLayout())
    with pytest.raises(Conflict):
        ba.mosquitto_passwd([_cred("ingest")], ba.BrokerLayout(mqtt_ingest=ba.ServiceAccount("ingest", "p")))


# ------------------------------------------------------------------ CLI


def test_cli_issue_then_config(
    sqlite_engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    from sqlalchemy.engine import Engine

    from liftwatch.core.db import make_session_factory

    assert isinstance(sqlite_engine, Engine)
    with make_session_factory(sqlite_engine)() as session:
        _with_terminals(session, clock, ["11SHA000001", "11SHB000004"])
    url = str(sqlite_engine.url)
    runner = CliRunner()
    sheet = tmp_path / "issued.csv"
    result = runner.invoke(cli, ["broker", "issue", "--all", "--out", str(sheet), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert sheet.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(io.StringIO(sheet.read_text())))
    assert [r["registration_code"] for r in rows] == ["11SHA000001", "11SHB000004"]
    assert rows[0]["mqtt_topics"] == "liftwatch/v1/11SHA000001/+"
    again = runner.invoke(cli, ["broker", "issue", "--all", "--out", str(sheet), "--database-url", url])
    assert again.exit_code == 1 and "exists" in again.output
    neither = runner.invoke(cli, ["broker", "issue", "--database-url", url])
    assert neither.exit_code == 1 and "--all or --code" in neither.output
    live = runner.invoke(cli, ["broker", "issue", "--code", "11SHA000001", "--database-url", url])
    assert live.exit_code == 1 and "rotate" in live.output

    monkeypatch.setenv("LIFTWATCH_MQTT_USERNAME", "ingest")
    monkeypatch.setenv("LIFTWATCH_MQTT_PASSWORD", "ingest-pw")
    monkeypatch.setenv("LIFTWATCH_BUS_URL", "nats://liftwatch:bus-pw@127.0.0.1:4222")
    get_settings.cache_clear()
    try:
        out = tmp_path / "broker"
        result = runner.invoke(cli, ["broker", "config", "--out", str(out), "--database-url", url])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "mosquitto.acl",
        "mosquitto.conf",
        "mosquitto.passwd",
        "nats-auth.conf",
    ]
    users = dict(line.split(":", 1) for line in (out / "mosquitto.passwd").read_text().splitlines())
    assert list(users) == ["ingest", "11SHA000001", "11SHB000004"]
    assert ba.verify_mosquitto_hash("ingest-pw", users["ingest"])
    assert ba.verify_mosquitto_hash(rows[1]["password"], users["11SHB000004"])
    assert (out / "mosquitto.passwd").stat().st_mode & 0o777 == 0o600
    assert '{user: "liftwatch"' in (out / "nats-auth.conf").read_text()

    revoked = runner.invoke(cli, ["broker", "revoke", "--code", "11SHA000001", "--database-url", url])
    assert revoked.exit_code == 0, revoked.output
