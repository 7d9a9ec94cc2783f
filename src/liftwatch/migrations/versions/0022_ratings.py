"""ratings: stored ratings of maintenance units per period with the figures behind them (issue 14, item 4).

Expand only: new tables, nothing else changes, so the release before keeps running against it (it declares
no oldest_reader and inherits the one before).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_periods")),
        sa.UniqueConstraint("label", name="uq_rating_periods_label"),
    )
    op.create_table(
        "unit_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("elevators", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("listing", sa.String(length=8), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["rating_periods.id"], name=op.f("fk_unit_ratings_period_id_rating_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_ratings")),
        sa.UniqueConstraint("period_id", "unit_code", name="uq_unit_ratings_period_unit"),
    )
    op.create_index("ix_unit_ratings_unit", "unit_ratings", ["unit_code", "period_id"])


def downgrade() -> None:
    op.drop_index("ix_unit_ratings_unit", table_name="unit_ratings")
    op.drop_table("unit_ratings")
    op.drop_table("rating_periods")
