"""gateway API keys: long-lived, revocable keys of gateway accounts (only their SHA-256 is stored)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Written before rolling upgrades: a contract, only code at 0006 ran against it (0011 records it).
oldest_reader: str = "0006"


def upgrade() -> None:
    op.create_table(
        "gateway_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_gateway_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_gateway_api_keys_prefix")),
    )
    with op.batch_alter_table("gateway_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_api_keys_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_api_keys_user_id"))
    op.drop_table("gateway_api_keys")
