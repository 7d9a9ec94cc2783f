"""maintenance flags: the signs of fake maintenance found on signed records, for a regulator to review
(issue 13, item 5).

Expand only: one new table, nothing else changes, so the release before keeps running against it (it
declares no oldest_reader and inherits the one before).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_maintenance_flags_work_order_id_work_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["maintenance_records.id"],
            name=op.f("fk_maintenance_flags_record_id_maintenance_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_maintenance_flags_key")),
    )
    op.create_index("ix_maintenance_flags_state", "maintenance_flags", ["state", "created_at"])
    op.create_index("ix_maintenance_flags_code", "maintenance_flags", ["registration_code"])
    op.create_index(op.f("ix_maintenance_flags_work_order_id"), "maintenance_flags", ["work_order_id"])
    op.create_index(op.f("ix_maintenance_flags_record_id"), "maintenance_flags", ["record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_maintenance_flags_record_id"), table_name="maintenance_flags")
    op.drop_index(op.f("ix_maintenance_flags_work_order_id"), table_name="maintenance_flags")
    op.drop_index("ix_maintenance_flags_code", table_name="maintenance_flags")
    op.drop_index("ix_maintenance_flags_state", table_name="maintenance_flags")
    op.drop_table("maintenance_flags")
