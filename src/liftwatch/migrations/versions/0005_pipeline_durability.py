"""pipeline durability: dead letters carry their elevator and replay time; checkpoints their stream epoch

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Written before rolling upgrades: a contract, only code at 0005 ran against it (0011 records it).
oldest_reader: str = "0005"


def upgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registration_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_dead_letters_code_reason", ["registration_code", "reason"], unique=False)
    with op.batch_alter_table("detector_checkpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stream_epoch", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("detector_checkpoints", schema=None) as batch_op:
        batch_op.drop_column("stream_epoch")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letters_code_reason")
        batch_op.drop_column("replayed_at")
        batch_op.drop_column("registration_code")
