"""applications: one-window applications (一网通办: construction notices, use registration, its change
and cancellation, inspection requests, modernisation projects, adding elevators to old residential
buildings), each department's review with its durable deadline, and their trail (issue 16, items 3-5).

Expand only: new tables, so the release before keeps running against it.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("applicant_unit", sa.String(length=32), nullable=False),
        sa.Column("applicant", sa.String(length=64), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("reference", name=op.f("uq_applications_reference")),
    )
    op.create_index("ix_applications_code", "applications", ["registration_code"], unique=False)
    op.create_index("ix_applications_stage", "applications", ["stage", "submitted_at"], unique=False)
    op.create_index("ix_applications_unit", "applications", ["applicant_unit", "submitted_at"], unique=False)

    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
    )
    op.create_index(
        "ix_application_events_application", "application_events", ["application_id", "at"], unique=False
    )

    op.create_table(
        "application_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=24), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("late_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_reviews_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_reviews")),
        sa.UniqueConstraint("application_id", "department", name="uq_application_reviews_department"),
    )
    op.create_index(
        "ix_application_reviews_application_id", "application_reviews", ["application_id"], unique=False
    )

    op.create_table(
        "application_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["application_reviews.id"],
            name=op.f("fk_application_timers_review_id_application_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_timers")),
    )
    op.create_index("ix_application_timers_due", "application_timers", ["fired_at", "due_at"], unique=False)
    op.create_index("ix_application_timers_review_id", "application_timers", ["review_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_application_timers_review_id", table_name="application_timers")
    op.drop_index("ix_application_timers_due", table_name="application_timers")

    op.drop_table("application_timers")
    op.drop_index("ix_application_reviews_application_id", table_name="application_reviews")

    op.drop_table("application_reviews")
    op.drop_index("ix_application_events_application", table_name="application_events")

    op.drop_table("application_events")
    op.drop_index("ix_applications_unit", table_name="applications")
    op.drop_index("ix_applications_stage", table_name="applications")
    op.drop_index("ix_applications_code", table_name="applications")

    op.drop_table("applications")
