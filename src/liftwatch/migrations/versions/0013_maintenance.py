"""maintenance: contracts, work orders with their events, deadlines and notices, on-site records and photos
(issue 13).

Expand only: new tables, nothing else changes, so release 0012 keeps running against it (it declares no
oldest_reader and inherits 0012's).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("responsible", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_contracts")),
    )
    op.create_index(
        "ix_maintenance_contracts_code", "maintenance_contracts", ["registration_code", "start_date"]
    )
    op.create_index("ix_maintenance_contracts_unit", "maintenance_contracts", ["unit_code"])

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=True),
        sa.Column("interval", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("source", "source_ref", name="uq_work_orders_source_ref"),
    )
    op.create_index("ix_work_orders_code", "work_orders", ["registration_code", "created_at"])
    op.create_index("ix_work_orders_unit_state", "work_orders", ["unit_code", "state"])

    op.create_table(
        "maintenance_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_maintenance_notices_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_maintenance_notices_key")),
    )
    op.create_index("ix_maintenance_notices_due", "maintenance_notices", ["delivered_at", "created_at"])
    op.create_index(op.f("ix_maintenance_notices_work_order_id"), "maintenance_notices", ["work_order_id"])

    op.create_table(
        "maintenance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.Column("amend_reason", sa.Text(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("check_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_in_lat", sa.Float(), nullable=False),
        sa.Column("check_in_lon", sa.Float(), nullable=False),
        sa.Column("scanned_code", sa.String(length=40), nullable=False),
        sa.Column("check_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_out_lat", sa.Float(), nullable=True),
        sa.Column("check_out_lon", sa.Float(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("worker_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_signed_by", sa.String(length=64), nullable=False),
        sa.Column("unit_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["maintenance_records.id"],
            name=op.f("fk_maintenance_records_amends_id_maintenance_records"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_maintenance_records_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_records")),
    )
    op.create_index(op.f("ix_maintenance_records_work_order_id"), "maintenance_records", ["work_order_id"])

    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_work_order_events_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    op.create_index("ix_work_order_events_order", "work_order_events", ["work_order_id", "at"])

    op.create_table(
        "work_order_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_work_order_timers_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_timers")),
    )
    op.create_index("ix_work_order_timers_due", "work_order_timers", ["fired_at", "due_at"])
    op.create_index(op.f("ix_work_order_timers_work_order_id"), "work_order_timers", ["work_order_id"])

    op.create_table(
        "maintenance_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["maintenance_records.id"],
            name=op.f("fk_maintenance_attachments_record_id_maintenance_records"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_maintenance_attachments_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_attachments")),
        sa.UniqueConstraint("path", name=op.f("uq_maintenance_attachments_path")),
    )
    op.create_index(
        op.f("ix_maintenance_attachments_work_order_id"), "maintenance_attachments", ["work_order_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_maintenance_attachments_work_order_id"), table_name="maintenance_attachments")

    op.drop_table("maintenance_attachments")
    op.drop_index(op.f("ix_work_order_timers_work_order_id"), table_name="work_order_timers")
    op.drop_index("ix_work_order_timers_due", table_name="work_order_timers")

    op.drop_table("work_order_timers")
    op.drop_index("ix_work_order_events_order", table_name="work_order_events")

    op.drop_table("work_order_events")
    op.drop_index(op.f("ix_maintenance_records_work_order_id"), table_name="maintenance_records")

    op.drop_table("maintenance_records")
    op.drop_index(op.f("ix_maintenance_notices_work_order_id"), table_name="maintenance_notices")
    op.drop_index("ix_maintenance_notices_due", table_name="maintenance_notices")

    op.drop_table("maintenance_notices")
    op.drop_index("ix_work_orders_unit_state", table_name="work_orders")
    op.drop_index("ix_work_orders_code", table_name="work_orders")

    op.drop_table("work_orders")
    op.drop_index("ix_maintenance_contracts_unit", table_name="maintenance_contracts")
    op.drop_index("ix_maintenance_contracts_code", table_name="maintenance_contracts")

    op.drop_table("maintenance_contracts")
