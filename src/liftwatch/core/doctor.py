"""``liftwatch doctor``: checks a deployment's configuration and says what to fix, before a night shift finds
out. Pure checks over the settings (and over what a probe found), plus probes of the database, NATS and the
MQTT broker, each with a time limit. Core knows no domain: the caller names the streams to look at.

Each check is OK, WARN (works, but risky) or FAIL (broken, or unsafe in production); the command exits 1
on any FAIL. "Production" means a PostgreSQL database or a NATS bus: the embedded demo (SQLite, in-process
bus) is held to less.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from liftwatch.core.bus import nats_servers
from liftwatch.core.config import Settings, archive_dir
from liftwatch.core.logs import mask_secrets
from liftwatch.core.migrate import SchemaState, Verdict

CLOCK_WARN_S = 2.0
MIN_SECRET_CHARS = 32
PLACEHOLDER_SECRETS = frozenset(
    {"secret", "changeme", "change-me", "password", "dev", "development", "test", "liftwatch", "<secret>"}
)
NEW_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class Status(enum.StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, what was found and, unless OK, what to do about it."""

    name: str
    status: Status
    message: str
    fix: str = ""


@dataclass(frozen=True)
class StreamSpec:
    """A stream to look at, and the setting that sizes it (None: no size setting)."""

    name: str
    max_bytes: int | None = None
    setting: str = ""
    optional: bool = False  # missing is fine (e.g. RAW without NATS-speaking terminals)


@dataclass(frozen=True)
class StreamInfo:
    """What NATS says about a stream (None: it does not exist)."""

    name: str
    max_bytes: int
    max_age_s: float
    replicas: int


def is_production(settings: Settings) -> bool:
    return settings.database_url.startswith("postgresql") or bool(settings.bus_url)


# ------------------------------------------------------------------------------------------- pure checks


def check_secret_key(settings: Settings, production: bool) -> Check:
    """Tokens and session cookies are signed with it: every web host must hold the same one."""
    key = settings.secret_key
    name = "secret key"
    if not key:
        where = settings.var_dir / "secret_key"
        if production:
            return Check(
                name,
                Status.FAIL,
                f"LIFTWATCH_SECRET_KEY is not set: each host generates its own into {where}, so with more "
                "than one web host a token or session signed by one is refused by the others",
                f"set the same LIFTWATCH_SECRET_KEY on every web host and worker ({NEW_SECRET}) and keep it "
                "with the backups",
            )
        return Check(name, Status.OK, f"generated once and kept in {where} (one host only)")
    weak = (
        key.strip().lower() in PLACEHOLDER_SECRETS
        or len(key) < MIN_SECRET_CHARS
        or len(set(key)) < 10
        or key != key.strip()
    )
    if weak:
        return Check(
            name,
            Status.FAIL if production else Status.WARN,
            f"LIFTWATCH_SECRET_KEY looks like a placeholder or is too short (at least {MIN_SECRET_CHARS} "
            "random characters): anyone who guesses it can sign tokens",
            f"replace it ({NEW_SECRET}) on every host; everyone signs in again",
        )
    return Check(name, Status.OK, "LIFTWATCH_SECRET_KEY is set (the same value is needed on every web host)")


def check_cookie_secure(settings: Settings, production: bool) -> Check:
    name = "session cookie"
    if settings.cookie_secure:
        return Check(name, Status.OK, "marked Secure (sent over HTTPS only), with Strict-Transport-Security")
    if production:
        return Check(
            name,
            Status.FAIL,
            "LIFTWATCH_COOKIE_SECURE is false: the session cookie also travels over plain HTTP",
            "serve through HTTPS (a TLS proxy) and set LIFTWATCH_COOKIE_SECURE=true",
        )
    return Check(name, Status.OK, "not Secure (fine for the embedded demo over plain HTTP)")


def check_revision(state: SchemaState) -> Check:
    """The database's schema against this code's migrations (docs/OPERATIONS.md, "Upgrades")."""
    name = "database schema"
    if state.verdict is Verdict.CURRENT:
        return Check(name, Status.OK, f"at revision {state.head}, this code's")
    if state.verdict is Verdict.NEWER_COMPATIBLE:
        return Check(
            name,
            Status.WARN,
            f"at revision {state.current}, newer than this code's {state.head} but only expanded since "
            f"{state.oldest_reader}: this host runs",
            "upgrade this host's liftwatch to the release that wrote the schema",
        )
    if state.verdict is Verdict.NEWER_INCOMPATIBLE:
        return Check(
            name,
            Status.FAIL,
            state.problem() or "",
            "upgrade this host's liftwatch to the release that wrote the schema",
        )
    return Check(
        name,
        Status.FAIL,
        "the database is empty"
        if state.current is None
        else f"at revision {state.current}, behind this code's {state.head}: processes refuse to start",
        "run `liftwatch db upgrade` (once, from one host)",
    )


def check_clock(skew_s: float) -> Check:
    """Deadlines, KPIs and the detector's clock-skew rule compare times written by different hosts."""
    name = "clock"
    off = f"{abs(skew_s):.2f} s {'behind' if skew_s > 0 else 'ahead of'} the database server"
    if abs(skew_s) > CLOCK_WARN_S:
        return Check(
            name,
            Status.WARN,
            f"this host is {off} (more than {CLOCK_WARN_S:g} s)",
            "synchronise every host with NTP (chrony or systemd-timesyncd)",
        )
    return Check(name, Status.OK, f"this host is {off}")


def check_stream(spec: StreamSpec, info: StreamInfo | None, clustered: bool) -> list[Check]:
    """A stream's limits: a byte limit and an age limit (else it grows until the disk is full), the size
    its setting asks for, and replicas on a cluster."""
    name = f"stream {spec.name}"
    if info is None and spec.optional:
        return [Check(name, Status.OK, "not created (not used here)")]
    if info is None:
        return [
            Check(name, Status.WARN, "does not exist yet", "start the workers once; they create the streams")
        ]
    found: list[Check] = []
    if info.max_bytes <= 0:
        found.append(
            Check(
                name,
                Status.WARN,
                "no size limit (max bytes): it grows until the NATS server's disk is full",
                f"give it a size limit{f' ({spec.setting})' if spec.setting else ''}",
            )
        )
    elif spec.max_bytes is not None and info.max_bytes != spec.max_bytes:
        found.append(
            Check(
                name,
                Status.WARN,
                f"max bytes is {info.max_bytes}, {spec.setting} says {spec.max_bytes}",
                f"apply the setting to the stream, or change {spec.setting} to what you want",
            )
        )
    if info.max_age_s <= 0:
        found.append(
            Check(
                name, Status.WARN, "no age limit (max age): old messages are never removed", "set a max age"
            )
        )
    if info.replicas < 3 and clustered:
        found.append(
            Check(
                name,
                Status.WARN,
                f"{info.replicas} replica(s) on a NATS cluster: losing one server loses the stream",
                "use 3 replicas",
            )
        )
    if not found:
        size = f"{info.max_bytes / 2**20:,.0f} MiB" if info.max_bytes > 0 else "no size limit"
        replicas = f"{info.replicas} replica(s)" + (
            "" if clustered else " (a single server: back up its store)"
        )
        found.append(
            Check(name, Status.OK, f"max bytes {size}, max age {info.max_age_s / 3600:g} h, {replicas}")
        )
    return found


def check_anonymous_mqtt(outcome: int | str, production: bool) -> Check:
    """``outcome``: the CONNACK return code of a connect without user name (0: accepted), or why none came."""
    name = "MQTT anonymous connect"
    if isinstance(outcome, str):
        return Check(name, Status.FAIL, f"cannot reach the broker: {outcome}", "check LIFTWATCH_MQTT_URL")
    if outcome == 0:
        return Check(
            name,
            Status.FAIL if production else Status.WARN,
            "accepted: anyone who reaches the broker can publish as any terminal",
            "set `allow_anonymous false` with a password file and ACL (`liftwatch broker config`, OPERATIONS "
            '"Broker security")',
        )
    return Check(
        name, Status.OK, f"refused ({_CONNACK.get(outcome, f'code {outcome}')}): authentication is required"
    )


def check_service_mqtt(outcome: int | str, username: str) -> Check:
    name = "MQTT service account"
    if outcome == 0:
        return Check(name, Status.OK, f"{username} signs in")
    why = outcome if isinstance(outcome, str) else f"refused ({_CONNACK.get(outcome, f'code {outcome}')})"
    return Check(
        name,
        Status.FAIL,
        f"{username}: {why}",
        "check LIFTWATCH_MQTT_USERNAME/LIFTWATCH_MQTT_PASSWORD and regenerate the broker files",
    )


def check_archive_dir(path: Path, enabled: bool) -> Check:
    """Writable, checked by writing (a read-only mount or another owner shows only then)."""
    name = "archive directory"
    if not enabled:
        return Check(name, Status.OK, "the archive is off (LIFTWATCH_ARCHIVE=false)")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # nothing is created: the nearest folder that exists must take a file
    probe = existing / f".doctor-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Check(
            name,
            Status.FAIL,
            f"{existing} is not writable: {exc.strerror or exc}",
            "give the archive worker's user write access to it (or set LIFTWATCH_VAR_DIR)",
        )
    if existing != path:
        return Check(name, Status.OK, f"{path} does not exist yet; {existing} is writable, so it can be made")
    return Check(name, Status.OK, f"{path} is writable (matters on the archive worker's host)")


_CONNACK = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


# ------------------------------------------------------------------------------------------------ probes


def probe_database(url: str, timeout_s: float) -> list[Check]:
    """Reachable, at a revision this code runs with, and its clock (PostgreSQL's ``clock_timestamp()``)."""
    from sqlalchemy import text

    from liftwatch.core.db import make_engine
    from liftwatch.core.migrate import schema_state

    shown = mask_secrets(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            return [Check("database", Status.FAIL, f"{shown}: no such file", "run `liftwatch db upgrade`")]
        engine = make_engine(url)
    else:
        engine = make_engine(url, connect_args={"connect_timeout": max(1, round(timeout_s))})
    found: list[Check] = []
    try:
        with engine.connect() as conn:
            found.append(Check("database", Status.OK, f"{shown} reachable"))
            found.append(check_revision(schema_state(url)))
            if conn.dialect.name == "postgresql":
                before = time.time()
                server = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
                after = time.time()
                found.append(check_clock(server.timestamp() - (before + after) / 2))
            else:
                found.append(Check("clock", Status.OK, "an embedded database: the same machine's clock"))
    except Exception as exc:  # any driver's error is one line for the operator
        found.append(
            Check("database", Status.FAIL, f"{shown}: {_first_line(exc)}", "check LIFTWATCH_DATABASE_URL")
        )
    finally:
        engine.dispose()
    return found


async def probe_nats(url: str, streams: Sequence[StreamSpec], timeout_s: float) -> list[Check]:
    """Reachable with JetStream, and each stream's limits."""
    import nats
    from nats.js.errors import NotFoundError

    shown = mask_secrets(url)
    errors: list[str] = []

    async def _error(exc: Exception) -> None:
        errors.append(str(exc))

    try:
        nc = await asyncio.wait_for(
            nats.connect(
                nats_servers(url),
                name="liftwatch-doctor",
                connect_timeout=timeout_s,
                max_reconnect_attempts=1,  # 0 would retry forever (DEPENDENCIES.md)
                allow_reconnect=False,
                error_cb=_error,
            ),
            timeout_s + 1,
        )
    except Exception as exc:
        why = errors[-1] if errors else _first_line(exc) or type(exc).__name__
        return [Check("NATS", Status.FAIL, f"{shown}: cannot connect: {why}", "check LIFTWATCH_BUS_URL")]
    found = [Check("NATS", Status.OK, f"{shown} reachable")]
    try:
        js = nc.jetstream(timeout=timeout_s)
        clustered = bool(getattr(nc, "_server_info", {}).get("cluster"))
        for spec in streams:
            try:
                info = await js.stream_info(spec.name)
            except NotFoundError:
                found += check_stream(spec, None, clustered)
                continue
            config = info.config
            found += check_stream(
                spec,
                StreamInfo(
                    spec.name,
                    int(config.max_bytes or -1),
                    float(config.max_age or 0),
                    int(config.num_replicas or 1),
                ),
                clustered,
            )
    except Exception as exc:
        found.append(
            Check("NATS", Status.FAIL, f"JetStream: {_first_line(exc)}", "enable JetStream on the server")
        )
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
    return found


async def mqtt_connect(
    url: str, timeout_s: float, username: str = "", password: str = "", ca_file: str = ""
) -> int | str:
    """One MQTT 3.1.1 CONNECT: the CONNACK's return code (0: accepted), or why there was none."""
    parts = urlsplit(url)
    tls = parts.scheme in ("mqtts", "ssl", "tls")
    host, port = parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883)
    context = None
    if tls:
        context = ssl.create_default_context(cafile=ca_file or None)
    flags = 0x02 | (0x80 if username else 0) | (0x40 if password else 0)
    body = _utf8("MQTT") + bytes([4, flags, 0, 10]) + _utf8(f"liftwatch-doctor-{uuid.uuid4().hex[:8]}")
    if username:
        body += _utf8(username)
    if password:
        body += _utf8(password)
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=context), timeout_s)
        writer.write(bytes([0x10]) + _varint(len(body)) + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readexactly(4), timeout_s)
        if answer[0] != 0x20:
            return f"not an MQTT CONNACK from {host}:{port}"
        if answer[3] == 0:
            writer.write(b"\xe0\x00")  # DISCONNECT
            await writer.drain()
        return answer[3]
    except TimeoutError:
        return f"{host}:{port}: no answer within {timeout_s:g} s"
    except asyncio.IncompleteReadError:
        return f"{host}:{port} closed the connection"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------------------------- the run


def run(settings: Settings, streams: Sequence[StreamSpec], timeout_s: float = 3.0) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    production = is_production(settings)
    found = [check_secret_key(settings, production), check_cookie_secure(settings, production)]
    found += probe_database(settings.resolved_database_url, timeout_s)
    if settings.bus_url:
        found += asyncio.run(probe_nats(settings.bus_url, streams, timeout_s))
    else:
        found.append(Check("NATS", Status.OK, "not used: the in-process bus (embedded)"))
    if settings.mqtt_url:
        ca = settings.mqtt_ca_file
        anonymous = asyncio.run(mqtt_connect(settings.mqtt_url, timeout_s, ca_file=ca))
        found.append(check_anonymous_mqtt(anonymous, production))
        url = urlsplit(settings.mqtt_url)  # mqtt://user:pass@host works too; the settings win
        user = settings.mqtt_username or unquote(url.username or "")
        password = settings.mqtt_password or unquote(url.password or "")
        if user:
            outcome = asyncio.run(mqtt_connect(settings.mqtt_url, timeout_s, user, password, ca))
            found.append(check_service_mqtt(outcome, user))
    else:
        found.append(Check("MQTT", Status.OK, "not used (LIFTWATCH_MQTT_URL is empty)"))
    found.append(check_archive_dir(archive_dir(settings), settings.archive))
    return found


def render(checks: Sequence[Check], production: bool) -> str:
    """One line per check, the fix indented below it, and a summary."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    mode = "production (PostgreSQL or NATS)" if production else "embedded (SQLite, in-process bus)"
    lines = [f"liftwatch doctor, {when}: checked as {mode}"]
    for check in checks:
        lines.append(f"{check.status.value:<4} {check.name}: {check.message}")
        if check.fix and check.status is not Status.OK:
            lines.append(f"     fix: {check.fix}")
    counts = {s: sum(c.status is s for c in checks) for s in Status}
    lines.append(f"{counts[Status.FAIL]} FAIL, {counts[Status.WARN]} WARN, {counts[Status.OK]} OK")
    return "\n".join(lines) + "\n"


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.status is Status.FAIL for c in checks) else 0
