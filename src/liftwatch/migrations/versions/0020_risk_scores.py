"""risk: the stored risk score of each elevator (风险分级) with its explanation and facts (issue 14, item 1).

Expand only: one new table, nothing else changes, so the release before keeps running against it (it
declares no oldest_reader and inherits the one before).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_scores",
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("registration_code", name=op.f("pk_risk_scores")),
    )
    op.create_index("ix_risk_scores_score", "risk_scores", ["score"])
    op.create_index("ix_risk_scores_district_score", "risk_scores", ["district", "score"])
    op.create_index("ix_risk_scores_grade", "risk_scores", ["grade"])


def downgrade() -> None:
    op.drop_index("ix_risk_scores_grade", table_name="risk_scores")
    op.drop_index("ix_risk_scores_district_score", table_name="risk_scores")
    op.drop_index("ix_risk_scores_score", table_name="risk_scores")
    op.drop_table("risk_scores")
