"""inspection self-tests and non-conformity items: the maintenance unit's self-tests (自行检测, TSG
T7008-2023) and the inspection item a non-conformity concerns (issue 13, items 6 and 8).

Expand only: one new table and one new column with a server default (""), so the release before keeps
running against it (it inserts non-conformities without the column and never reads the new table); it
declares no oldest_reader and inherits the one before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_self_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("conclusion", sa.String(length=32), nullable=False),
        sa.Column("tester", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_self_tests")),
        sa.UniqueConstraint("registration_code", "tested_on", name="uq_inspection_self_tests_day"),
    )
    op.create_index(
        "ix_inspection_self_tests_unit", "inspection_self_tests", ["unit_code", "tested_on"], unique=False
    )
    with op.batch_alter_table("inspection_nonconformities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("inspection_nonconformities", schema=None) as batch_op:
        batch_op.drop_column("item")
    op.drop_index("ix_inspection_self_tests_unit", table_name="inspection_self_tests")
    op.drop_table("inspection_self_tests")
