"""incident faults: every IoT fault an incident took in, keyed by fault id, so a fault that joined an open
incident and comes again (a redelivery, a restore) is recognised like the one that opened it. Filled from the
incidents' own fault and the faults their "joined" events name.

Expand only: the previous release (0011) keeps running against it (it reads and writes incidents.fault_id,
which stays; the code of this release checks both).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_incidents = sa.table(
    "incidents",
    sa.column("id", sa.Integer()),
    sa.column("fault_id", sa.String()),
    sa.column("alarm_at", sa.DateTime(timezone=True)),
)
_events = sa.table(
    "incident_events",
    sa.column("incident_id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String()),
    sa.column("details", sa.JSON()),
)


def upgrade() -> None:
    faults = op.create_table(
        "incident_faults",
        sa.Column("fault_id", sa.String(length=120), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_faults_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("fault_id", name=op.f("pk_incident_faults")),
    )
    op.create_index(op.f("ix_incident_faults_incident_id"), "incident_faults", ["incident_id"])
    conn = op.get_bind()
    rows: dict[str, dict[str, Any]] = {}
    opened = sa.select(_incidents.c.id, _incidents.c.fault_id, _incidents.c.alarm_at).where(
        _incidents.c.fault_id.is_not(None)
    )
    for incident_id, fault_id, at in conn.execute(opened):
        rows[fault_id] = {"fault_id": fault_id, "incident_id": incident_id, "at": at}
    joined = sa.select(_events.c.incident_id, _events.c.at, _events.c.details).where(
        _events.c.kind == "joined"
    )
    for incident_id, at, details in conn.execute(joined):
        fault_id = (details or {}).get("fault_id")
        if fault_id and fault_id not in rows:
            rows[fault_id] = {"fault_id": fault_id, "incident_id": incident_id, "at": at}
    if rows:
        op.bulk_insert(faults, list(rows.values()))


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_faults_incident_id"), table_name="incident_faults")
    op.drop_table("incident_faults")
