"""costs: maintenance cost and advertising income ledgers per use unit, half-yearly publications (issue 14,
item 7).

Expand only: new tables, nothing else changes, so the release before keeps running against it (it declares
no oldest_reader and inherits the one before).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("use_unit", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=True),
        sa.Column("residential", sa.Boolean(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("source_ref", sa.String(length=140), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["cost_entries.id"], name=op.f("fk_cost_entries_reverses_id_cost_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_entries")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_cost_entries_reverses_id")),
        sa.UniqueConstraint("use_unit", "source_ref", name="uq_cost_entries_source_ref"),
    )
    op.create_index("ix_cost_entries_unit_period", "cost_entries", ["use_unit", "period"])
    op.create_table(
        "cost_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("use_unit", sa.String(length=32), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_publications")),
        sa.UniqueConstraint("use_unit", "period", name="uq_cost_publications_period"),
    )


def downgrade() -> None:
    op.drop_table("cost_publications")
    op.drop_index("ix_cost_entries_unit_period", table_name="cost_entries")
    op.drop_table("cost_entries")
