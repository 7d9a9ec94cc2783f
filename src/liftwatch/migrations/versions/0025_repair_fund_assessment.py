"""the emergency use of the repair fund for a hazard; safety assessments of old elevators and three-no
measures (issue 14, items 2 and 3).

Expand only: new tables, nothing else changes, so the release before keeps running against it (it declares
no oldest_reader and inherits the one before).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hazard_fund_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("open_hazard_id", sa.Integer(), nullable=True),
        sa.Column("request_key", sa.String(length=120), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("use_unit", sa.String(length=32), nullable=False),
        sa.Column("applicant", sa.String(length=24), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_fen", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("completed_by", sa.String(length=64), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hazard_id"], ["hazards.id"], name=op.f("fk_hazard_fund_requests_hazard_id_hazards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_fund_requests")),
        sa.UniqueConstraint("open_hazard_id", name=op.f("uq_hazard_fund_requests_open_hazard_id")),
        sa.UniqueConstraint("request_key", name=op.f("uq_hazard_fund_requests_request_key")),
    )
    op.create_index("ix_hazard_fund_requests_hazard", "hazard_fund_requests", ["hazard_id"])
    op.create_index("ix_hazard_fund_requests_state", "hazard_fund_requests", ["state", "district"])
    op.create_table(
        "hazard_fund_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("voucher", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["hazard_fund_requests.id"],
            name=op.f("fk_hazard_fund_payments_request_id_hazard_fund_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_fund_payments")),
        sa.UniqueConstraint("request_id", "voucher", name="uq_hazard_fund_payments_voucher"),
    )
    op.create_index(op.f("ix_hazard_fund_payments_request_id"), "hazard_fund_payments", ["request_id"])
    op.create_table(
        "safety_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=120), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("assessor", sa.String(length=200), nullable=False),
        sa.Column("assessor_unit", sa.String(length=32), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decision_on", sa.Date(), nullable=True),
        sa.Column("hazard_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_assessments")),
        sa.UniqueConstraint("request_key", name=op.f("uq_safety_assessments_request_key")),
    )
    op.create_index("ix_safety_assessments_code", "safety_assessments", ["registration_code", "assessed_on"])
    op.create_table(
        "three_no_measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=120), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("taken_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_three_no_measures")),
        sa.UniqueConstraint("request_key", name=op.f("uq_three_no_measures_request_key")),
    )
    op.create_index("ix_three_no_measures_code", "three_no_measures", ["registration_code", "id"])


def downgrade() -> None:
    op.drop_index("ix_three_no_measures_code", table_name="three_no_measures")
    op.drop_table("three_no_measures")
    op.drop_index("ix_safety_assessments_code", table_name="safety_assessments")
    op.drop_table("safety_assessments")
    op.drop_index(op.f("ix_hazard_fund_payments_request_id"), table_name="hazard_fund_payments")
    op.drop_table("hazard_fund_payments")
    op.drop_index("ix_hazard_fund_requests_state", table_name="hazard_fund_requests")
    op.drop_index("ix_hazard_fund_requests_hazard", table_name="hazard_fund_requests")
    op.drop_table("hazard_fund_requests")
