"""parts and recalls: each elevator's main parts with their design life, manufacturers' recalls and the
elevators each reaches with its rectification work order (issue 16, item 2).

Expand only: new tables, so the release before keeps running against it.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 09:01:56.500467
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("current_key", sa.String(length=80), nullable=True),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("maker_key", sa.String(length=100), nullable=False),
        sa.Column("model_key", sa.String(length=64), nullable=False),
        sa.Column("serial_key", sa.String(length=64), nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=False),
        sa.Column("design_life_years", sa.Integer(), nullable=True),
        sa.Column("design_life_cycles", sa.BigInteger(), nullable=True),
        sa.Column("end_of_life_on", sa.Date(), nullable=True),
        sa.Column("counter_at_install", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=False),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        sa.Column("wear", sa.String(length=8), server_default="unknown", nullable=False),
        sa.Column("wear_share", sa.Float(), nullable=True),
        sa.Column("wear_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["replaced_by_id"], ["parts.id"], name=op.f("fk_parts_replaced_by_id_parts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parts")),
        sa.UniqueConstraint("current_key", name=op.f("uq_parts_current_key")),
    )
    op.create_index("ix_parts_code", "parts", ["registration_code", "kind"], unique=False)
    op.create_index("ix_parts_end_of_life", "parts", ["end_of_life_on"], unique=False)
    op.create_index("ix_parts_model", "parts", ["kind", "model_key", "maker_key"], unique=False)
    op.create_index("ix_parts_wear", "parts", ["wear", "wear_share"], unique=False)

    op.create_table(
        "recalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("maker_key", sa.String(length=100), nullable=False),
        sa.Column("model_key", sa.String(length=64), nullable=False),
        sa.Column("serial_first", sa.String(length=64), nullable=False),
        sa.Column("serial_last", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recalls")),
        sa.UniqueConstraint("reference", name=op.f("uq_recalls_reference")),
    )
    op.create_table(
        "recall_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("registration_code", sa.String(length=40), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["part_id"], ["parts.id"], name=op.f("fk_recall_items_part_id_parts")),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["recalls.id"], name=op.f("fk_recall_items_recall_id_recalls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_items")),
        sa.UniqueConstraint("recall_id", "part_id", name="uq_recall_items_part"),
    )
    op.create_index("ix_recall_items_code", "recall_items", ["registration_code"], unique=False)
    op.create_index("ix_recall_items_recall_id", "recall_items", ["recall_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recall_items_recall_id", table_name="recall_items")
    op.drop_index("ix_recall_items_code", table_name="recall_items")

    op.drop_table("recall_items")
    op.drop_table("recalls")
    op.drop_index("ix_parts_wear", table_name="parts")
    op.drop_index("ix_parts_model", table_name="parts")
    op.drop_index("ix_parts_end_of_life", table_name="parts")
    op.drop_index("ix_parts_code", table_name="parts")

    op.drop_table("parts")
