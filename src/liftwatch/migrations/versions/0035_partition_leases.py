"""partition leases: several detector processes share the telemetry partitions, each partition owned by one
at a time, taken over when its owner dies (issue 17, item 2).

Expand only: two new tables, so the release before keeps running against them.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partition_leases",
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partition", name=op.f("pk_partition_leases")),
    )
    op.create_table(
        "detector_members",
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_detector_members")),
    )


def downgrade() -> None:
    op.drop_table("detector_members")
    op.drop_table("partition_leases")
