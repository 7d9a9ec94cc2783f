"""Logging an operator can read: one handler on the root logger, human-readable lines by default, JSON
lines (one object per line) for a log shipper, levels by setting (``LIFTWATCH_LOG_LEVEL``,
``LIFTWATCH_LOG_FORMAT``, ``LIFTWATCH_LOG_LEVELS``; docs/OPERATIONS.md, "Logs").

Every command configures it once at start (the ``liftwatch`` callback); the web server's own loggers
(uvicorn) go through the same handler. Configuring again replaces only the handler this module added, so
it never doubles lines and never removes another handler (pytest's ``caplog``, a supervisor's)."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
FORMATS = ("text", "json")
# third-party loggers chatty at info (a line per HTTP request; alembic's plugins and dialect at every
# schema check): at warning unless LIFTWATCH_LOG_LEVELS says otherwise
QUIET: dict[str, int] = {"httpx": logging.WARNING, "alembic": logging.WARNING}

# what every LogRecord carries; anything else on a record came as ``extra=`` and is printed as a field
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's message with terminal colours: the plain one is enough
}
_JSON_KEYS = frozenset({"ts", "level", "logger", "msg", "exc", "stack"})


def parse_level(value: str) -> str:
    """A level name in any case (``INFO``, ``info``), as its lower-case name; a ValueError otherwise."""
    name = value.strip().lower()
    if name not in LEVELS:
        raise ValueError(f"unknown log level {value!r} (one of {', '.join(LEVELS)})")
    return name


def parse_format(value: str) -> str:
    name = value.strip().lower()
    if name not in FORMATS:
        raise ValueError(f"unknown log format {value!r} (one of {', '.join(FORMATS)})")
    return name


def parse_levels(spec: str) -> dict[str, str]:
    """Per-logger levels, e.g. ``liftwatch.telemetry=debug,nats=warning``, as {logger: level}."""
    levels: dict[str, str] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, level = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{item!r} is not logger=level (e.g. liftwatch.telemetry=debug,nats=warning)")
        levels[name.strip()] = parse_level(level)
    return levels


# ------------------------------------------------------------------ secrets

_SECRET_PARAMS = (
    "password|passwd|pass|pwd|secret|token|access_token|auth|key|api_key|apikey|sig|signature|credentials"
)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s,]*)(?::(?P<pw>[^/\s,]*))?@")
_QUERY = re.compile(rf"(?P<name>[?&;](?:{_SECRET_PARAMS})=)[^&#;\s,]*", re.IGNORECASE)
# a path segment that looks like a token (webhook URLs of WeCom robots, Feishu, Slack carry one)
_PATH_TOKEN = re.compile(
    r"(?<=/)(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}(?=[/?#,]|$)"
)
# NATS reads a user without a password as a token: nats://s3cret@host
_TOKEN_SCHEMES = ("nats://", "tls://", "ws://", "wss://")
MASK = "***"


def mask_secrets(url_or_value: str) -> str:
    """What may be logged of a setting. A URL (or several, comma-separated) keeps its scheme, user, host,
    port and path, but its password, a NATS token, secret query parameters (``token=``, ``key=``, ...) and
    token-like path segments of an http(s) URL (a webhook's) become ``***``. Any other non-empty value is
    a secret as a whole: ``***``."""
    if not url_or_value:
        return ""
    if "://" not in url_or_value:
        return MASK

    def userinfo(m: re.Match[str]) -> str:
        scheme, user, pw = m["scheme"], m["user"], m["pw"]
        if pw is not None:
            return f"{scheme}{user}:{MASK}@"
        if scheme.lower() in _TOKEN_SCHEMES:
            return f"{scheme}{MASK}@"
        return m[0]

    masked = _USERINFO.sub(userinfo, url_or_value)
    masked = _QUERY.sub(lambda m: m["name"] + MASK, masked)
    head, sep, rest = masked.partition("://")
    if head.lower() not in ("http", "https"):
        return masked
    host, slash, path = rest.partition("/")  # the host (with its port) is never a token
    return head + sep + host + slash + _PATH_TOKEN.sub(MASK, path)


# ------------------------------------------------------------------ formatters


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


def _utc(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text_value(value: Any) -> str:
    """A string as it is, quoted (JSON) when it has spaces, quotes or ``=``; anything else as compact JSON."""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    if value == "" or any(c in value for c in " =\"'\n\t"):
        return json.dumps(value, ensure_ascii=False)
    return value


class TextFormatter(logging.Formatter):
    """``2026-12-03T07:46:27.123Z INFO    liftwatch.workers: message key=value ...`` (UTC), then the
    traceback, if any, on the lines below."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = _extras(record)
        if fields:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (ISO-8601 UTC), ``level``, ``logger``, ``msg``, the record's extra
    fields (one that would hide a key above is prefixed ``extra_``), ``exc`` and ``stack`` when present."""

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "ts": _utc(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in _extras(record).items():
            obj[f"extra_{k}" if k in _JSON_KEYS else k] = v
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            obj["exc"] = record.exc_text
        if record.stack_info:
            obj["stack"] = self.formatStack(record.stack_info)
        return json.dumps(obj, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner swaps it), so a handler
    configured under a captured stream never writes to a closed one later."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


_OURS = "_liftwatch_handler"
_set_levels: set[str] = set()  # loggers this module gave a level, reset when configured again


def configure_logging(
    level: str = "info",
    fmt: str = "text",
    levels: Mapping[str, str] | str = "",
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Configure the root logger: one handler in ``fmt`` (text or json) at ``level``, and per-logger
    ``levels`` (a mapping or ``logger=level,...``). Calling it again replaces what it set before, and
    only that. ``stream``: where lines go (default: the current stderr). Returns the handler."""
    root_level = LEVELS[parse_level(level)]
    formatter = JsonFormatter() if parse_format(fmt) == "json" else TextFormatter()
    if isinstance(levels, str):
        per_logger = parse_levels(levels)
    else:
        per_logger = {name: parse_level(lvl) for name, lvl in levels.items()}
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    setattr(handler, _OURS, True)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(root_level)
    for name in _set_levels:
        logging.getLogger(name).setLevel(logging.NOTSET)
    _set_levels.clear()
    wanted = {name: logging.getLevelName(lvl) for name, lvl in QUIET.items()}
    wanted |= {name: lvl.upper() for name, lvl in per_logger.items()}
    for name, lvl in wanted.items():
        logging.getLogger(name).setLevel(lvl)
        _set_levels.add(name)
    return handler
