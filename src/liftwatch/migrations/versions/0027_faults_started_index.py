"""an index on the faults' start time for the city's figures (issue 15, item 5: speed).

The KPI tables and trends count the faults that started in a month, per group of elevators
(``telemetry.queries.fault_counts_by_group``). The only index led by the registration code, so each count
read every fault of the year: on the 300,000-elevator benchmark city (1.33 M faults) the 12-month fault
trend took 3.9 s, 0.8 s with this index (docs/PERFORMANCE.md, "Analytics"). It covers the count
(start time, fault type, registration code), so neither the count nor its join to the registry reads the
table.

Expand only: an index, so the release before keeps running against it.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 21:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_faults_started_type", "faults", ["started_at", "fault_type", "registration_code"])


def downgrade() -> None:
    op.drop_index("ix_faults_started_type", table_name="faults")
