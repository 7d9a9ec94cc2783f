"""hazards: hidden dangers (隐患排查治理), their trail, the evidence of each fix, escalation deadlines and
their notices (issue 14, item 2).

Expand only: five new tables, nothing else changes, so the release before keeps running against it (it
declares no oldest_reader and inherits the one before).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name=op.f(f"fk_{table}_hazard_id_hazards"))


def upgrade() -> None:
    op.create_table(
        "hazards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible_unit", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_set_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("supervised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazards")),
        sa.UniqueConstraint("source", "source_ref", name="uq_hazards_source_ref"),
    )
    op.create_index("ix_hazards_code", "hazards", ["registration_code", "reported_at"])
    op.create_index("ix_hazards_unit_state", "hazards", ["responsible_unit", "state"])
    op.create_index("ix_hazards_supervised", "hazards", ["supervised", "state"])
    op.create_table(
        "hazard_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("hazard_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_events")),
    )
    op.create_index("ix_hazard_events_hazard", "hazard_events", ["hazard_id", "at"])
    op.create_table(
        "hazard_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        _fk("hazard_evidence"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_evidence")),
    )
    op.create_index(op.f("ix_hazard_evidence_hazard_id"), "hazard_evidence", ["hazard_id"])
    op.create_table(
        "hazard_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        _fk("hazard_timers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_timers")),
    )
    op.create_index("ix_hazard_timers_due", "hazard_timers", ["fired_at", "due_at"])
    op.create_index(op.f("ix_hazard_timers_hazard_id"), "hazard_timers", ["hazard_id"])
    op.create_table(
        "hazard_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        _fk("hazard_notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_hazard_notices_key")),
    )
    op.create_index("ix_hazard_notices_due", "hazard_notices", ["delivered_at", "created_at"])
    op.create_index(op.f("ix_hazard_notices_hazard_id"), "hazard_notices", ["hazard_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hazard_notices_hazard_id"), table_name="hazard_notices")
    op.drop_index("ix_hazard_notices_due", table_name="hazard_notices")
    op.drop_table("hazard_notices")
    op.drop_index(op.f("ix_hazard_timers_hazard_id"), table_name="hazard_timers")
    op.drop_index("ix_hazard_timers_due", table_name="hazard_timers")
    op.drop_table("hazard_timers")
    op.drop_index(op.f("ix_hazard_evidence_hazard_id"), table_name="hazard_evidence")
    op.drop_table("hazard_evidence")
    op.drop_index("ix_hazard_events_hazard", table_name="hazard_events")
    op.drop_table("hazard_events")
    op.drop_index("ix_hazards_supervised", table_name="hazards")
    op.drop_index("ix_hazards_unit_state", table_name="hazards")
    op.drop_index("ix_hazards_code", table_name="hazards")
    op.drop_table("hazards")
