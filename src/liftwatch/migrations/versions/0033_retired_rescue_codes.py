"""retired rescue codes: the 96333 codes elevators gave up for new ones, never given again and still finding
the elevator that held them (issue 16, item 7).

Expand only: a new table, so the release before keeps running against it.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 09:48:59.407771
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retired_rescue_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_retired_rescue_codes")),
    )
    op.create_index(
        "ix_retired_rescue_codes_registration_code",
        "retired_rescue_codes",
        ["registration_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_retired_rescue_codes_registration_code", table_name="retired_rescue_codes")
    op.drop_table("retired_rescue_codes")
