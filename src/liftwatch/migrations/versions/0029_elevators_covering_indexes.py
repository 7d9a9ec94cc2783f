"""two covering indexes on the registry for the city's figures and the dashboard (issue 15, item 5).

The KPI tables of the current month count the elevators in use per district or street with their IoT
terminals, and the dashboard counts each area's elevators and the bounds of their coordinates; each read
every row of the 300,000-elevator benchmark city's registry. From these indexes alone (SQLite, 300,000
elevators): in use per district 264 ms to 42 ms, per street 182 ms to 101 ms, the scope's total 85 ms to
34 ms, the city's districts with their counts and bounds 330 ms to 108 ms (docs/PERFORMANCE.md,
"Analytics").

Expand only: indexes, so the release before keeps running against them.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 01:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_elevators_in_service", "elevators", ["status", "district", "street", "iot_terminal_id"]
    )
    op.create_index("ix_elevators_area", "elevators", ["district", "status", "latitude", "longitude"])


def downgrade() -> None:
    op.drop_index("ix_elevators_area", table_name="elevators")
    op.drop_index("ix_elevators_in_service", table_name="elevators")
