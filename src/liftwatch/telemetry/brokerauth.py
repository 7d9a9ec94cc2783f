"""Broker credentials: per-terminal accounts and the Mosquitto and NATS configuration that enforces them.

Without them any client could publish as any terminal. Each terminal gets its own user (its elevator's
registration code) and a random password, shown once at issue; the database keeps only hashes, in the
forms the brokers read themselves (Mosquitto's PBKDF2-SHA512 ``$7$``, bcrypt for nats-server), so the
broker files can be regenerated at any time without knowing a single password. The ACLs confine a terminal
to its own topics (MQTT ``liftwatch/v1/<code>/+``, NATS ``liftwatch.raw.<code>.>``); the services get
service accounts on their own subjects.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from liftwatch.core.errors import Conflict, FieldError, InvalidInput, NotFound
from liftwatch.registry import queries as registry
from liftwatch.telemetry import records
from liftwatch.telemetry.models import TerminalCredential
from liftwatch.telemetry.natsraw import raw_stream_name, raw_subjects

#: mosquitto_passwd 2.0's own default. The passwords are random (144 bits), so the iteration count adds
#: nothing against guessing; it only costs the broker CPU at every terminal's (re)connect.
PBKDF2_ITERATIONS = 101
PBKDF2_SALT_BYTES = 12  # as mosquitto_passwd
#: bcrypt cost for NATS terminal users: low for the same reason (nats-server checks it on every connect).
BCRYPT_COST = 4
MQTT_TOPIC_PREFIX = "liftwatch/v1/"


# ------------------------------------------------------------------ hashes


def new_password() -> str:
    """A random password (24 URL-safe characters, 144 bits): no dictionary, no reuse across terminals."""
    return secrets.token_urlsafe(18)


def mosquitto_hash(password: str, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None) -> str:
    """``$7$<iterations>$<salt b64>$<hash b64>``: PBKDF2-HMAC-SHA512, exactly as mosquitto_passwd 2.0
    writes it (12-byte salt, 64-byte hash, standard base64 with padding)."""
    salt = salt if salt is not None else os.urandom(PBKDF2_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(password: str, encoded: str) -> bool:
    """True when ``password`` matches a ``$7$`` hash (ours or mosquitto_passwd's)."""
    try:
        _, kind, iterations, salt_b64, hash_b64 = encoded.split("$")
        if kind != "7":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


def nats_hash(password: str, cost: int = BCRYPT_COST) -> str:
    """A bcrypt hash (``$2b$``) as nats-server reads it in a user's ``password``."""
    import bcrypt

    hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost))
    return hashed.decode()


# ------------------------------------------------------------------ issuing


@dataclass(frozen=True)
class Issued:
    """A credential as issued: the only moment its password exists in plain text."""

    registration_code: str
    username: str
    password: str


def issue_credentials(
    session: Session, clock: Clock, codes: Sequence[str] | None = None, rotate: bool = False
) -> list[Issued]:
    """Issue passwords: ``codes=None`` for every elevator with a terminal that has no live credential;
    named codes must be registered elevators (with or without a terminal id on file). ``rotate`` replaces
    a live credential (the terminal must be re-provisioned). The caller commits."""
    existing = {c.registration_code: c for c in session.scalars(select(TerminalCredential))}
    if codes is None:
        targets = [
            code
            for code in registry.terminal_codes(session)
            if code not in existing or existing[code].revoked_at is not None
        ]
    else:
        wanted = list(dict.fromkeys(codes))
        found = registry.registration_codes(session)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise NotFound(f"no elevator registered as {', '.join(missing[:10])}")
        live = [c for c in wanted if c in existing and existing[c].revoked_at is None]
        if live and not rotate:
            raise Conflict(
                f"{', '.join(live[:10])} already {'has' if len(live) == 1 else 'have'} a credential "
                "(rotate to replace it)"
            )
        targets = wanted
    now = clock.now()
    issued: list[Issued] = []
    for code in targets:
        password = new_password()
        row = existing.get(code)
        if row is None:
            row = TerminalCredential(registration_code=code, username=code)
            session.add(row)
        row.password_hash = mosquitto_hash(password)
        row.nats_password_hash = nats_hash(password)
        row.created_at = now
        row.revoked_at = None
        issued.append(Issued(code, row.username, password))
    session.flush()
    return issued


def revoke_credential(session: Session, code: str, clock: Clock) -> None:
    """The terminal's account is left out of the next broker files (regenerate and reload them)."""
    row = session.get(TerminalCredential, code)
    if row is None or row.revoked_at is not None:
        raise NotFound(f"no live credential for '{code}'")
    row.revoked_at = clock.now()
    session.flush()


def live_credentials(session: Session) -> list[TerminalCredential]:
    return list(
        session.scalars(
            select(TerminalCredential)
            .where(TerminalCredential.revoked_at.is_(None))
            .order_by(TerminalCredential.username)
        )
    )


def issued_csv(issued: Iterable[Issued]) -> str:
    """The provisioning sheet: what each terminal must be configured with."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["registration_code", "username", "password", "mqtt_topics", "nats_subjects"])
    for i in issued:
        writer.writerow(
            [i.registration_code, i.username, i.password, f"{MQTT_TOPIC_PREFIX}{i.registration_code}/+",
             f"liftwatch.raw.{i.registration_code}.>"]
        )  # fmt: skip
    return out.getvalue()


# ------------------------------------------------------------------ broker files


@dataclass(frozen=True)
class ServiceAccount:
    username: str
    password: str


@dataclass(frozen=True)
class BrokerLayout:
    """What the broker files are generated for."""

    mqtt_ingest: ServiceAccount | None = None  # subscribes to every terminal's topics
    mqtt_publishers: Sequence[ServiceAccount] = ()  # e.g. a gateway or the simulator: may publish anywhere
    nats_service: ServiceAccount | None = None  # the liftwatch processes on the bus
    group: str = "liftwatch-ingest"
    namespace: str = ""  # LIFTWATCH_STREAM_NAMESPACE
    listener_port: int = 8883
    listener_address: str = ""
    tls_cert: str = ""  # broker certificate, key and the CA; empty: no TLS lines (plain MQTT)
    tls_key: str = ""
    tls_ca: str = ""
    conf_dir: str = "/etc/mosquitto"  # where mosquitto.passwd and mosquitto.acl will be
    extra_mqtt_users: dict[str, str] = field(default_factory=dict)  # user -> $7$ hash (tests, tools)


def _check_username(name: str) -> None:
    """A user name goes into the password file (``user:hash``), the ACL and topic patterns (``%u``)."""
    if not name or any(ch in name for ch in ":+#/\n\r\t ") or name.startswith("$"):
        raise InvalidInput(
            FieldError("username", f"'{name}' cannot be a broker user (no ':', '+', '#', '/', spaces)")
        )


def mosquitto_passwd(credentials: Iterable[TerminalCredential], layout: BrokerLayout) -> str:
    """``mosquitto.passwd``: the live terminal users and the service accounts, one ``user:$7$...`` a line."""
    lines: dict[str, str] = {}
    for account in [layout.mqtt_ingest, *layout.mqtt_publishers]:
        if account is not None:
            _check_username(account.username)
            lines[account.username] = mosquitto_hash(account.password)
    lines.update(layout.extra_mqtt_users)
    for cred in credentials:
        _check_username(cred.username)
        if cred.username in lines:
            raise Conflict(f"terminal user '{cred.username}' clashes with a service account")
        lines[cred.username] = cred.password_hash
    return "".join(f"{user}:{hashed}\n" for user, hashed in lines.items())


def mosquitto_acl(layout: BrokerLayout) -> str:
    """``mosquitto.acl`` (acl_file): a terminal (user name = registration code) may publish only under its
    own code; the ingest account may read everything under liftwatch/v1 through the shared group."""
    out = [
        "# generated by `liftwatch broker config`: regenerate, do not edit",
        "# every terminal: its user name is its registration code; it may only publish its own messages",
        f"pattern write {MQTT_TOPIC_PREFIX}%u/+",
        "",
    ]
    if layout.mqtt_ingest is not None:
        out += [
            f"user {layout.mqtt_ingest.username}",
            f"topic read {MQTT_TOPIC_PREFIX}#",
            f"topic read $share/{layout.group}/{MQTT_TOPIC_PREFIX}#",
            "",
        ]
    for pub in layout.mqtt_publishers:
        out += [f"user {pub.username}", f"topic write {MQTT_TOPIC_PREFIX}#", ""]
    return "\n".join(out)


def mosquitto_conf(layout: BrokerLayout) -> str:
    """A ``mosquitto.conf`` snippet: one authenticated listener (TLS when a certificate is given)."""
    d = layout.conf_dir.rstrip("/")
    listener = f"listener {layout.listener_port}"
    if layout.listener_address:
        listener += f" {layout.listener_address}"
    out = [
        "# generated by `liftwatch broker config`",
        "per_listener_settings false",
        listener,
        "allow_anonymous false",
        f"password_file {d}/mosquitto.passwd",
        f"acl_file {d}/mosquitto.acl",
    ]
    if layout.tls_cert:
        out += [
            f"certfile {layout.tls_cert}",
            f"keyfile {layout.tls_key}",
            *([f"cafile {layout.tls_ca}"] if layout.tls_ca else []),
            "tls_version tlsv1.2",
        ]
    out += [
        "# ingestion: let the queues grow rather than drop (docs/OPERATIONS.md, Mosquitto)",
        "max_queued_messages 0",
        "persistence true",
        "",
    ]
    return "\n".join(out)


def _q(s: str) -> str:
    return json.dumps(s)  # a double-quoted string nats-server's config parser reads back unchanged


def nats_service_permissions(namespace: str = "") -> tuple[list[str], list[str]]:
    """(publish, subscribe) subjects the liftwatch processes need on NATS: their streams' subjects, the
    JetStream API for their streams and consumers (``core.bus.JetStreamBus``), acknowledgements and
    reply inboxes."""
    topo = records.Topology(namespace)
    streams = [topo.stream, topo.faults_stream, raw_stream_name(namespace)]
    api = ["$JS.API.INFO"]
    for s in streams:
        api += [
            f"$JS.API.STREAM.*.{s}",  # INFO, CREATE, UPDATE, DELETE
            f"$JS.API.CONSUMER.*.{s}",  # CREATE (ephemeral), NAMES, LIST
            f"$JS.API.CONSUMER.*.{s}.>",  # INFO, DELETE, CREATE with a durable name
            f"$JS.API.CONSUMER.*.*.{s}.>",  # DURABLE.CREATE, MSG.NEXT (pull)
        ]
    publish = [topo.all_subjects, topo.faults_subjects, *api, "$JS.ACK.>", "_INBOX.>"]
    subscribe = ["_INBOX.>"]
    return publish, subscribe


def terminal_inbox_prefix(code: str) -> str:
    """A NATS terminal that wants JetStream publish acknowledgements connects with this inbox prefix
    (nats-py ``inbox_prefix``): it may subscribe to its own replies only, never to other clients'."""
    return f"_INBOX_{code}"


def nats_auth_conf(credentials: Iterable[TerminalCredential], layout: BrokerLayout) -> str:
    """``nats-auth.conf`` for nats-server 2.9 (``include`` it from nats-server.conf): users with
    publish/subscribe permissions. A NATS-speaking terminal may only publish to its own raw subjects."""
    users: list[str] = []
    if layout.nats_service is not None:
        _check_username(layout.nats_service.username)
        publish, subscribe = nats_service_permissions(layout.namespace)
        users.append(
            f"    {{user: {_q(layout.nats_service.username)}, "
            f"password: {_q(nats_hash(layout.nats_service.password))},\n"
            f"     permissions: {{publish: {{allow: {json.dumps(publish)}}}, "
            f"subscribe: {{allow: {json.dumps(subscribe)}}}}}}}"
        )
    raw_prefix = raw_subjects(layout.namespace).removesuffix(">")
    for cred in credentials:
        if cred.nats_password_hash is None:
            continue
        subject = f"{raw_prefix}{cred.registration_code}.>"
        inbox = f"{terminal_inbox_prefix(cred.registration_code)}.>"
        users.append(
            f"    {{user: {_q(cred.username)}, password: {_q(cred.nats_password_hash)}, "
            f"permissions: {{publish: {{allow: [{_q(subject)}]}}, subscribe: {{allow: [{_q(inbox)}]}}}}}}"
        )
    body = "\n".join(users)
    return (
        "# generated by `liftwatch broker config`: include it from nats-server.conf\n"
        f"authorization {{\n  users = [\n{body}\n  ]\n}}\n"
    )


def write_broker_config(session: Session, out_dir: Path, layout: BrokerLayout) -> list[Path]:
    """Write mosquitto.passwd, mosquitto.acl, mosquitto.conf and nats-auth.conf into ``out_dir``
    (files with hashes are readable by their owner only)."""
    creds = live_credentials(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "mosquitto.passwd": (mosquitto_passwd(creds, layout), 0o600),
        "mosquitto.acl": (mosquitto_acl(layout), 0o644),
        "mosquitto.conf": (mosquitto_conf(layout), 0o644),
        "nats-auth.conf": (nats_auth_conf(creds, layout), 0o600),
    }
    written: list[Path] = []
    for name, (text, mode) in files.items():
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        tmp.chmod(mode)
        tmp.replace(path)  # a broker reloading (SIGHUP) never reads half a file
        written.append(path)
    return written
