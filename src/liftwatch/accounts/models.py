"""User accounts and roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A long-lived, revocable credential of a gateway account (物联网网关密钥).

    Only the SHA-256 of the whole key is stored: the key is 256 random bits, so a fast hash is enough (no
    dictionary to guess from) and the lookup by ``prefix`` stays one indexed read per request. The key acts
    as its account: role gateway and the account's unit scope."""

    __tablename__ = "gateway_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # lwk_ + 8: public, for lookup and display
    secret_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the whole key
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RevokedToken(Base):
    """A signed-out session token (its ``jti``), refused until it would have expired anyway.

    Why a deny-list and not a per-user token version: signing out on one screen (a shared 96333 console
    workstation, say) must not end the user's other sessions. A password change ends them all through the
    token's password stamp (``pwd`` claim), so it needs no row here. Rows past ``expires_at`` are deleted
    whenever a token is revoked, so the table holds at most one token lifetime of sign-outs."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)
