"""complaints (投诉): intake, trail, timers and notices (issue 14, item 6).

Expand only: new tables, nothing else changes, so the release before keeps running against it (it declares
no oldest_reader and inherits the one before).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["complaint_id"], ["complaints.id"], name=op.f(f"fk_{table}_complaint_id_complaints")
    )


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_ref", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=True),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("maintenance_unit", sa.String(length=32), nullable=False),
        sa.Column("use_unit", sa.String(length=32), nullable=False),
        sa.Column("named_unit", sa.String(length=32), nullable=False),
        sa.Column("responsible_unit", sa.String(length=32), nullable=False),
        sa.Column("complainant_name", sa.String(length=64), nullable=False),
        sa.Column("complainant_phone", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        _when("due_at"),
        _when("overdue_at"),
        sa.Column("overdue_step", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("verify_note", sa.Text(), nullable=False),
        sa.Column("verified_by", sa.String(length=64), nullable=False),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        _when("received_at", nullable=False),
        _when("assigned_at"),
        _when("answered_at"),
        _when("verified_at"),
        _when("closed_at"),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("channel", "external_ref", name="uq_complaints_channel_ref"),
        sa.UniqueConstraint("receipt", name=op.f("uq_complaints_receipt")),
    )
    op.create_index("ix_complaints_code", "complaints", ["registration_code", "received_at"])
    op.create_index("ix_complaints_received", "complaints", ["received_at"])
    op.create_index("ix_complaints_responsible_state", "complaints", ["responsible_unit", "state"])
    op.create_index("ix_complaints_maintenance_unit", "complaints", ["maintenance_unit", "received_at"])
    op.create_index("ix_complaints_address", "complaints", ["address_hash", "received_at"])
    op.create_index("ix_complaints_updated", "complaints", ["updated_at"])
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        _when("at", nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("complaint_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    op.create_index("ix_complaint_events_complaint", "complaint_events", ["complaint_id", "at"])
    op.create_table(
        "complaint_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _when("due_at", nullable=False),
        _when("fired_at"),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        _fk("complaint_timers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_timers")),
    )
    op.create_index("ix_complaint_timers_due", "complaint_timers", ["fired_at", "due_at"])
    op.create_index(op.f("ix_complaint_timers_complaint_id"), "complaint_timers", ["complaint_id"])
    op.create_table(
        "complaint_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _when("created_at", nullable=False),
        _when("delivered_at"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _when("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        _fk("complaint_notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_complaint_notices_key")),
    )
    op.create_index("ix_complaint_notices_due", "complaint_notices", ["delivered_at", "created_at"])
    op.create_index(op.f("ix_complaint_notices_complaint_id"), "complaint_notices", ["complaint_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_complaint_notices_complaint_id"), table_name="complaint_notices")
    op.drop_index("ix_complaint_notices_due", table_name="complaint_notices")
    op.drop_table("complaint_notices")
    op.drop_index(op.f("ix_complaint_timers_complaint_id"), table_name="complaint_timers")
    op.drop_index("ix_complaint_timers_due", table_name="complaint_timers")
    op.drop_table("complaint_timers")
    op.drop_index("ix_complaint_events_complaint", table_name="complaint_events")
    op.drop_table("complaint_events")
    for name in (
        "ix_complaints_updated",
        "ix_complaints_address",
        "ix_complaints_maintenance_unit",
        "ix_complaints_responsible_state",
        "ix_complaints_received",
        "ix_complaints_code",
    ):
        op.drop_index(name, table_name="complaints")
    op.drop_table("complaints")
