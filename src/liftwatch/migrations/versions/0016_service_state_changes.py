"""service state changes: each elevator's changes of service mode (正常, 检修 ...) and of online state, with
the terminal's trip and door-cycle counters at that moment, recorded by the detector worker (issue 13,
items 3 and 5: fake-maintenance kinds judged from telemetry, usage counts for on-demand maintenance).

Expand only: one new table, nothing else changes, so the release before keeps running against it (it
declares no oldest_reader and inherits the one before).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=True),
        sa.Column("trips", sa.BigInteger(), nullable=True),
        sa.Column("door_cycles", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_state_changes")),
        # the replay key (a redelivered message re-derives the same change) and the read's index
        sa.UniqueConstraint(
            "registration_code",
            "at",
            "kind",
            "value",
            name=op.f("uq_service_state_changes_registration_code"),
        ),
    )


def downgrade() -> None:
    op.drop_table("service_state_changes")
