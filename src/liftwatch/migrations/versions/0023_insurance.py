"""insurance: liability policies per elevator and premium factors per period (issue 14, item 5).

Expand only: new tables, nothing else changes, so the release before keeps running against it (it declares
no oldest_reader and inherits the one before).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insurance_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insurer_unit_id", sa.Integer(), nullable=False),
        sa.Column("policy_number", sa.String(length=64), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("insured_unit_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("limit_per_person_fen", sa.BigInteger(), nullable=False),
        sa.Column("limit_per_accident_fen", sa.BigInteger(), nullable=False),
        sa.Column("premium_fen", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["insurer_unit_id"], ["units.id"], name=op.f("fk_insurance_policies_insurer_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["insured_unit_id"], ["units.id"], name=op.f("fk_insurance_policies_insured_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurance_policies")),
        sa.UniqueConstraint("insurer_unit_id", "policy_number", name="uq_insurance_policies_number"),
    )
    op.create_index("ix_insurance_policies_code", "insurance_policies", ["registration_code", "end_date"])
    op.create_index("ix_insurance_policies_insurer", "insurance_policies", ["insurer_unit_id", "end_date"])
    op.create_table(
        "insurance_premium_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("top", sa.JSON(), nullable=False),
        sa.Column("adjusted_premium_fen", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["insurance_policies.id"],
            name=op.f("fk_insurance_premium_factors_policy_id_insurance_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurance_premium_factors")),
        sa.UniqueConstraint("policy_id", "period", name="uq_insurance_premium_factors_policy_period"),
    )
    op.create_index("ix_insurance_premium_factors_period", "insurance_premium_factors", ["period"])


def downgrade() -> None:
    op.drop_index("ix_insurance_premium_factors_period", table_name="insurance_premium_factors")
    op.drop_table("insurance_premium_factors")
    op.drop_index("ix_insurance_policies_insurer", table_name="insurance_policies")
    op.drop_index("ix_insurance_policies_code", table_name="insurance_policies")
    op.drop_table("insurance_policies")
