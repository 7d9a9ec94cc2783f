"""inspection: inspections (periodic, self-test, re-inspection) and their non-conformities (issue 13).

Expand only: new tables, nothing else changes, so release 0013 keeps running against it (it declares no
oldest_reader and inherits 0013's).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body_unit_code", sa.String(length=32), nullable=False),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column("scheduled_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("original_id", sa.Integer(), nullable=True),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conclusion", sa.String(length=32), nullable=True),
        sa.Column("report_number", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["original_id"], ["inspections.id"], name=op.f("fk_inspections_original_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index("ix_inspections_code", "inspections", ["registration_code", "scheduled_date"])
    op.create_index("ix_inspections_due", "inspections", ["performed_at", "due_date"])
    op.create_index("ix_inspections_inspector", "inspections", ["inspector"])

    op.create_table(
        "inspection_nonconformities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("rectify_by", sa.Date(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_nonconformities_inspection_id_inspections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_nonconformities")),
        sa.UniqueConstraint("inspection_id", "item_no", name="uq_inspection_nonconformities_no"),
    )
    op.create_index(
        op.f("ix_inspection_nonconformities_inspection_id"),
        "inspection_nonconformities",
        ["inspection_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_inspection_nonconformities_inspection_id"), table_name="inspection_nonconformities"
    )
    op.drop_table("inspection_nonconformities")
    op.drop_index("ix_inspections_inspector", table_name="inspections")
    op.drop_index("ix_inspections_due", table_name="inspections")
    op.drop_index("ix_inspections_code", table_name="inspections")
    op.drop_table("inspections")
