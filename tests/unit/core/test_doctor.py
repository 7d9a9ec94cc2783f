"""``liftwatch doctor``'s pure checks: what each finding says and whether it fails the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from liftwatch.core.config import Settings
from liftwatch.core.doctor import (
    Check,
    Status,
    StreamInfo,
    StreamSpec,
    check_anonymous_mqtt,
    check_archive_dir,
    check_clock,
    check_cookie_secure,
    check_revision,
    check_secret_key,
    check_service_mqtt,
    check_stream,
    exit_code,
    is_production,
    render,
)
from liftwatch.core.migrate import SchemaState, Verdict

GOOD_KEY = "Zq8v2X-kP0rT5wYb7nLm3cFh9dJs1gAe4uQi6oRt"
MB = 2**20


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(var_dir=tmp_path / "var", **values)  # type: ignore[arg-type]


def test_production_means_postgresql_or_nats(tmp_path: Path) -> None:
    assert not is_production(_settings(tmp_path))
    assert is_production(_settings(tmp_path, database_url="postgresql+psycopg://liftwatch@db/liftwatch"))
    assert is_production(_settings(tmp_path, bus_url="nats://127.0.0.1:4222"))


def test_a_missing_secret_fails_in_production_naming_the_replicas(tmp_path: Path) -> None:
    check = check_secret_key(_settings(tmp_path), production=True)
    assert check.status is Status.FAIL
    assert "LIFTWATCH_SECRET_KEY is not set" in check.message
    assert "more than one web host" in check.message and "refused by the others" in check.message
    assert "secrets.token_urlsafe" in check.fix


def test_the_demo_keeps_its_generated_secret(tmp_path: Path) -> None:
    check = check_secret_key(_settings(tmp_path), production=False)
    assert check.status is Status.OK
    assert str(tmp_path / "var" / "secret_key") in check.message
    assert not (tmp_path / "var").exists()  # a check, not the generation


@pytest.mark.parametrize("key", ["changeme", "s" * 48, "short-but-random-9f2", " " + GOOD_KEY])
def test_a_placeholder_or_short_secret_fails_in_production_and_warns_in_the_demo(
    tmp_path: Path, key: str
) -> None:
    settings = _settings(tmp_path, secret_key=key)
    assert check_secret_key(settings, production=True).status is Status.FAIL
    assert check_secret_key(settings, production=False).status is Status.WARN


def test_a_random_secret_passes(tmp_path: Path) -> None:
    assert check_secret_key(_settings(tmp_path, secret_key=GOOD_KEY), production=True).status is Status.OK


def test_the_cookie_must_be_secure_in_production(tmp_path: Path) -> None:
    plain = check_cookie_secure(_settings(tmp_path), production=True)
    assert plain.status is Status.FAIL and "LIFTWATCH_COOKIE_SECURE=true" in plain.fix
    assert check_cookie_secure(_settings(tmp_path), production=False).status is Status.OK
    assert check_cookie_secure(_settings(tmp_path, cookie_secure=True), production=True).status is Status.OK


def test_schema_revisions() -> None:
    def state(current: str | None, verdict: Verdict, **more: str) -> SchemaState:
        return SchemaState(current, "c3", verdict, **more)

    assert check_revision(state("c3", Verdict.CURRENT)).status is Status.OK
    behind = check_revision(state("a1", Verdict.BEHIND))
    assert behind.status is Status.FAIL and "liftwatch db upgrade" in behind.fix
    assert check_revision(state(None, Verdict.EMPTY)).status is Status.FAIL
    expanded = check_revision(state("d4", Verdict.NEWER_COMPATIBLE, oldest_reader="c3"))
    assert expanded.status is Status.WARN and "only expanded since c3" in expanded.message
    contracted = check_revision(state("e5", Verdict.NEWER_INCOMPATIBLE, oldest_reader="e5", contract="e5"))
    assert contracted.status is Status.FAIL and "contract migration e5" in contracted.message


@pytest.mark.parametrize(("skew", "status"), [(0.0, Status.OK), (1.9, Status.OK), (-1.9, Status.OK),
                                              (2.1, Status.WARN), (-30.0, Status.WARN)])  # fmt: skip
def test_the_clock_warns_beyond_two_seconds(skew: float, status: Status) -> None:
    check = check_clock(skew)
    assert check.status is status
    assert ("behind" if skew > 0 else "ahead of") in check.message
    if status is Status.WARN:
        assert "NTP" in check.fix


def test_a_stream_with_limits_passes() -> None:
    spec = StreamSpec("TELEMETRY", 64 * MB, "LIFTWATCH_STREAM_MAX_MB")
    (check,) = check_stream(spec, StreamInfo("TELEMETRY", 64 * MB, 86_400, 1), clustered=False)
    assert check.status is Status.OK
    assert (
        check.message == "max bytes 64 MiB, max age 24 h, 1 replica(s) (a single server: back up its store)"
    )


def test_stream_limits_missing_or_different_warn() -> None:
    spec = StreamSpec("FAULTS", 16 * MB, "LIFTWATCH_FAULTS_STREAM_MAX_MB")
    unlimited = check_stream(spec, StreamInfo("FAULTS", -1, 0, 1), clustered=False)
    assert [c.status for c in unlimited] == [Status.WARN, Status.WARN]
    assert "no size limit" in unlimited[0].message and "LIFTWATCH_FAULTS_STREAM_MAX_MB" in unlimited[0].fix
    assert "no age limit" in unlimited[1].message
    (other,) = check_stream(spec, StreamInfo("FAULTS", 32 * MB, 3600, 1), clustered=False)
    assert other.status is Status.WARN
    assert other.message == f"max bytes is {32 * MB}, LIFTWATCH_FAULTS_STREAM_MAX_MB says {16 * MB}"


def test_one_replica_on_a_cluster_warns() -> None:
    spec = StreamSpec("TELEMETRY", 64 * MB, "LIFTWATCH_STREAM_MAX_MB")
    (check,) = check_stream(spec, StreamInfo("TELEMETRY", 64 * MB, 86_400, 1), clustered=True)
    assert check.status is Status.WARN and check.fix == "use 3 replicas"
    (ok,) = check_stream(spec, StreamInfo("TELEMETRY", 64 * MB, 86_400, 3), clustered=True)
    assert ok.status is Status.OK


def test_a_missing_stream_warns_unless_optional() -> None:
    assert [c.status for c in check_stream(StreamSpec("TELEMETRY"), None, False)] == [Status.WARN]
    assert [c.status for c in check_stream(StreamSpec("RAW", optional=True), None, False)] == [Status.OK]


def test_an_anonymous_broker_fails_in_production() -> None:
    accepted = check_anonymous_mqtt(0, production=True)
    assert accepted.status is Status.FAIL and "allow_anonymous false" in accepted.fix
    assert check_anonymous_mqtt(0, production=False).status is Status.WARN
    refused = check_anonymous_mqtt(5, production=True)
    assert refused.status is Status.OK and "not authorized" in refused.message
    assert check_anonymous_mqtt("127.0.0.1:1883: Connection refused", True).status is Status.FAIL


def test_the_service_account_must_sign_in() -> None:
    assert check_service_mqtt(0, "liftwatch-ingest").status is Status.OK
    bad = check_service_mqtt(4, "liftwatch-ingest")
    assert bad.status is Status.FAIL and "bad user name or password" in bad.message


def test_the_archive_directory_is_checked_by_writing(tmp_path: Path) -> None:
    target = tmp_path / "var" / "archive" / "telemetry"
    ok = check_archive_dir(target, enabled=True)
    assert ok.status is Status.OK and "does not exist yet" in ok.message
    assert not target.exists()  # nothing created
    target.mkdir(parents=True)
    assert check_archive_dir(target, enabled=True).status is Status.OK
    assert list(target.iterdir()) == []  # the probe file is gone
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        check = check_archive_dir(locked, enabled=True)
    finally:
        locked.chmod(0o700)
    if os.geteuid() != 0:  # root writes anywhere
        assert check.status is Status.FAIL and "not writable" in check.message
    assert check_archive_dir(tmp_path / "nowhere", enabled=False).status is Status.OK


def test_the_report_and_exit_code() -> None:
    checks = [
        Check("secret key", Status.OK, "set"),
        Check("clock", Status.WARN, "3.00 s behind", "use NTP"),
        Check("session cookie", Status.FAIL, "not Secure", "set LIFTWATCH_COOKIE_SECURE=true"),
    ]
    lines = render(checks, production=True).splitlines()
    assert "checked as production" in lines[0]
    assert lines[1:] == [
        "OK   secret key: set",
        "WARN clock: 3.00 s behind",
        "     fix: use NTP",
        "FAIL session cookie: not Secure",
        "     fix: set LIFTWATCH_COOKIE_SECURE=true",
        "1 FAIL, 1 WARN, 1 OK",
    ]
    assert exit_code(checks) == 1
    assert exit_code(checks[:2]) == 0
