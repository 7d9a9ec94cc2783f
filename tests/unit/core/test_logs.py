"""Logging an operator can read (core.logs): text and JSON lines that parse back, levels by setting, per
logger too, secrets masked, configured twice without doubled lines, pytest's caplog untouched, and a bad
setting refused at start naming it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core import logs
from liftwatch.core.config import Settings, get_settings
from liftwatch.core.logs import JsonFormatter, configure_logging, mask_secrets


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Each test configures the process's root logger: put it back as it was for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name in logs._set_levels:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logs._set_levels.clear()


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, logs._OURS, False)]


# ------------------------------------------------------------------ formats


def test_text_lines_say_time_level_logger_message_and_fields() -> None:
    out = io.StringIO()
    configure_logging("info", "text", stream=out)
    logging.getLogger("liftwatch.test").info(
        "checkpoint saved at %d", 42, extra={"partition": 3, "roles": ["detect"], "note": "two words"}
    )
    line = out.getvalue().rstrip("\n")
    m = re.fullmatch(r"(\S+) INFO +liftwatch\.test: checkpoint saved at 42 (.*)", line)
    assert m, line
    ts = datetime.fromisoformat(m[1].replace("Z", "+00:00"))
    assert ts.utcoffset() is not None and ts.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert abs((datetime.now(UTC) - ts).total_seconds()) < 60
    assert m[2] == 'partition=3 roles=["detect"] note="two words"'


def test_json_lines_parse_back_with_fields_and_the_traceback() -> None:
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    log = logging.getLogger("liftwatch.test")
    log.warning("rejected %d", 7, extra={"reasons": {"bad_json": 7}, "level": "L2"})
    try:
        raise RuntimeError("the database went away")
    except RuntimeError:
        log.exception("flush failed")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "warning" and first["logger"] == "liftwatch.test"
    assert first["msg"] == "rejected 7"
    assert first["reasons"] == {"bad_json": 7}
    assert first["extra_level"] == "L2"  # a field never hides the record's own level
    assert datetime.fromisoformat(first["ts"].replace("Z", "+00:00")).tzinfo is not None
    assert first["ts"].endswith("Z")
    assert second["level"] == "error" and second["msg"] == "flush failed"
    assert "RuntimeError: the database went away" in second["exc"]
    assert "Traceback" in second["exc"]


# ------------------------------------------------------------------ levels


def test_the_level_setting_hides_what_is_below_it() -> None:
    out = io.StringIO()
    configure_logging("warning", "text", stream=out)
    log = logging.getLogger("liftwatch.test")
    log.info("quiet")
    log.warning("loud")
    assert "quiet" not in out.getvalue() and "loud" in out.getvalue()


def test_per_logger_levels_and_a_reconfiguration_forgets_them() -> None:
    out = io.StringIO()
    configure_logging("info", "text", "liftwatch.telemetry=debug, nats=WARNING", stream=out)
    logging.getLogger("liftwatch.telemetry.worker").debug("telemetry detail")
    logging.getLogger("liftwatch.rescue").debug("rescue detail")
    logging.getLogger("nats.aio.client").info("nats chatter")
    text = out.getvalue()
    assert "telemetry detail" in text
    assert "rescue detail" not in text and "nats chatter" not in text

    out2 = io.StringIO()
    configure_logging("info", "text", stream=out2)
    logging.getLogger("liftwatch.telemetry.worker").debug("telemetry detail again")
    logging.getLogger("nats.aio.client").info("nats at info")
    assert "telemetry detail again" not in out2.getvalue()
    assert "nats at info" in out2.getvalue()


def test_chatty_libraries_are_quiet_unless_named() -> None:
    out = io.StringIO()
    configure_logging("info", "text", stream=out)
    logging.getLogger("alembic.runtime.migration").info("Context impl PostgresqlImpl.")
    logging.getLogger("httpx").info("HTTP Request: POST http://gw/api/v1/telemetry")
    assert out.getvalue() == ""
    configure_logging("info", "text", "alembic=info", stream=out)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0009 -> 0010")
    assert "Running upgrade 0009 -> 0010" in out.getvalue()


def test_uvicorns_coloured_copy_of_a_message_is_left_out() -> None:
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    coloured = "Started server process [\x1b[36m%d\x1b[0m]"
    # a logger of our own with uvicorn's extra field: "uvicorn.error" itself may have been configured by a
    # server an earlier test started in this process (uvicorn's own config stops it propagating)
    logging.getLogger("tests.uvicorn_like").info(
        "Started server process [%d]", 7, extra={"color_message": coloured}
    )
    line = json.loads(out.getvalue())
    assert line.keys() == {"ts", "level", "logger", "msg"}
    assert line["msg"] == "Started server process [7]"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: configure_logging("loud"), "unknown log level 'loud'"),
        (lambda: configure_logging("info", "xml"), "unknown log format 'xml'"),
        (lambda: configure_logging("info", "text", "nats"), "'nats' is not logger=level"),
        (lambda: configure_logging("info", "text", "nats=chatty"), "unknown log level 'chatty'"),
    ],
)
def test_bad_values_are_refused(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()  # type: ignore[operator]


# ------------------------------------------------------------------ idempotence and caplog


def test_configuring_twice_keeps_one_handler_and_one_line() -> None:
    out = io.StringIO()
    configure_logging("info", "text", stream=out)
    configure_logging("info", "text", stream=out)
    configure_logging("info", "json", stream=out)
    assert len(_ours()) == 1
    assert isinstance(_ours()[0].formatter, JsonFormatter)
    logging.getLogger("liftwatch.test").info("once")
    assert out.getvalue().count("once") == 1


def test_caplog_keeps_working(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("info", "json", stream=io.StringIO())
    configure_logging("info", "text", stream=io.StringIO())
    logging.getLogger("liftwatch.test").warning("seen by caplog")
    assert [r.getMessage() for r in caplog.records] == ["seen by caplog"]
    assert caplog.handler in logging.getLogger().handlers


def test_the_default_handler_writes_to_the_stderr_of_the_moment(capsys: pytest.CaptureFixture[str]) -> None:
    """Configured while a test runner holds another stderr, it never writes to that one once closed."""
    configure_logging("info", "text")
    logging.getLogger("liftwatch.test").info("to the current stderr")
    assert "to the current stderr" in capsys.readouterr().err


# ------------------------------------------------------------------ secrets


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("", ""),
        ("a-secret-key", "***"),
        (
            "postgresql+psycopg://liftwatch:s3cr3t@db.example:5432/liftwatch",
            "postgresql+psycopg://liftwatch:***@db.example:5432/liftwatch",
        ),
        ("postgresql+psycopg://liftwatch@db/liftwatch", "postgresql+psycopg://liftwatch@db/liftwatch"),
        ("postgresql://u:p@ss@db/x", "postgresql://u:***@db/x"),  # an '@' in the password
        (
            "postgresql://u@db/x?password=zz&sslmode=require",
            "postgresql://u@db/x?password=***&sslmode=require",
        ),
        ("sqlite:///var/liftwatch.db", "sqlite:///var/liftwatch.db"),
        ("nats://svc:pw1@n1:4222,nats://svc:pw2@n2:4222", "nats://svc:***@n1:4222,nats://svc:***@n2:4222"),
        ("nats://s3cr3t-token@n1:4222", "nats://***@n1:4222"),  # NATS token authentication
        ("mqtts://ingest:pw@broker:8883", "mqtts://ingest:***@broker:8883"),
        ("mqtt://ingest@broker:1883", "mqtt://ingest@broker:1883"),
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
        ),
        ("https://hook.example/notify?token=abc&city=sz", "https://hook.example/notify?token=***&city=sz"),
        (
            "https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d4e5f6a7b8c9d0e1f",
            "https://open.feishu.cn/open-apis/bot/v2/hook/***",
        ),
        ("http://u:pw@hook.internal:8080/rescue", "http://u:***@hook.internal:8080/rescue"),
    ],
)
def test_mask_secrets(value: str, masked: str) -> None:
    assert mask_secrets(value) == masked


# ------------------------------------------------------------------ settings and the command line


def test_settings_take_levels_in_any_case_and_refuse_bad_ones() -> None:
    s = Settings(log_level="DEBUG", log_format="JSON", log_levels="nats=Warning")
    assert (s.log_level, s.log_format) == ("debug", "json")
    with pytest.raises(ValidationError, match="unknown log level 'verbose'"):
        Settings(log_level="verbose")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LIFTWATCH_LOG_LEVEL", "loud", "LIFTWATCH_LOG_LEVEL: unknown log level 'loud'"),
        ("LIFTWATCH_LOG_FORMAT", "xml", "LIFTWATCH_LOG_FORMAT: unknown log format 'xml'"),
        ("LIFTWATCH_LOG_LEVELS", "nats", "LIFTWATCH_LOG_LEVELS: 'nats' is not logger=level"),
    ],
)
def test_a_bad_log_setting_stops_any_command_naming_it(
    variable: str, value: str, message: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", url], env={variable: value})
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.db").exists()  # refused before doing anything


def test_every_command_configures_logging_from_the_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    env = {"LIFTWATCH_LOG_FORMAT": "json", "LIFTWATCH_LOG_LEVEL": "warning"}
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", url], env=env)
    assert result.exit_code == 0, result.output
    (handler,) = _ours()
    assert isinstance(handler.formatter, JsonFormatter)
    assert logging.getLogger().level == logging.WARNING
