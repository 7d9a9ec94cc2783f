"""terminal credentials: per-terminal broker accounts (hashes only) for Mosquitto and NATS

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Written before rolling upgrades: a contract, only code at 0007 ran against it (0011 records it).
oldest_reader: str = "0007"


def upgrade() -> None:
    op.create_table(
        "terminal_credentials",
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("nats_password_hash", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("registration_code", name=op.f("pk_terminal_credentials")),
        sa.UniqueConstraint("username", name=op.f("uq_terminal_credentials_username")),
    )


def downgrade() -> None:
    op.drop_table("terminal_credentials")
