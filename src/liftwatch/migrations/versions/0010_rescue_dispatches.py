"""rescue dispatches: every dispatch its own row (escalation adds one); incidents carry the closing reason and
the cancellation time. Existing incidents' dispatches are carried over from their audit trail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Written before rolling upgrades: a contract, only code at 0010 ran against it (0011 records it).
oldest_reader: str = "0010"

_incidents = sa.table(
    "incidents",
    sa.column("id", sa.Integer()),
    sa.column("level", sa.String()),
    sa.column("maintenance_unit", sa.String()),
    sa.column("responder_unit", sa.String()),
    sa.column("crew_id", sa.String()),
    sa.column("dispatched_at", sa.DateTime(timezone=True)),
    sa.column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.column("arrived_at", sa.DateTime(timezone=True)),
    sa.column("released_at", sa.DateTime(timezone=True)),
)
_events = sa.table(
    "incident_events",
    sa.column("id", sa.Integer()),
    sa.column("incident_id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("details", sa.JSON()),
)
_crews = sa.table(
    "crews", sa.column("id", sa.String()), sa.column("unit", sa.String()), sa.column("username", sa.String())
)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC; compare everything as aware UTC."""
    from datetime import UTC

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def upgrade() -> None:
    dispatches = op.create_table(
        "rescue_dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("crew_id", sa.String(length=40), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_by", sa.String(length=64), nullable=False),
        sa.Column("eta_s", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=False),
        sa.Column("withdraw_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_rescue_dispatches_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescue_dispatches")),
    )
    with op.batch_alter_table("rescue_dispatches", schema=None) as batch_op:
        batch_op.create_index("ix_rescue_dispatches_incident", ["incident_id", "dispatched_at"], unique=False)
        batch_op.create_index("ix_rescue_dispatches_unit", ["unit", "dispatched_at"], unique=False)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.Text(), nullable=False, server_default=""))
    _carry_over(op.get_bind(), dispatches)


def _carry_over(conn: sa.Connection, dispatches: sa.Table) -> None:
    """One row per ``dispatched`` entry of each incident's audit trail (level, crew, ETA, time). The old
    code took the earlier crew off at each escalation, so every dispatch but the last is withdrawn at the
    next one ("escalated", by the system). Acknowledgements and arrivals go to the dispatch of the crew
    whose login made them, else to the dispatch current at that time. The incident's stage times then
    become the first dispatch, acknowledgement and arrival. An incident with a dispatch time and no trail
    entry gets one row from its own columns."""
    units = {row.id: row.unit for row in conn.execute(sa.select(_crews.c.id, _crews.c.unit))}
    logins = {
        row.username: row.id
        for row in conn.execute(
            sa.select(_crews.c.id, _crews.c.username).where(_crews.c.username.is_not(None))
        )
    }
    trail: dict[int, list[Any]] = {}
    for ev in conn.execute(
        sa.select(_events)
        .where(_events.c.kind.in_(["dispatched", "acknowledged", "arrived", "released"]))
        .order_by(_events.c.incident_id, _events.c.id)
    ):
        trail.setdefault(ev.incident_id, []).append(ev)
    for inc in conn.execute(sa.select(_incidents).order_by(_incidents.c.id)).all():
        rows: list[dict[str, Any]] = []
        for ev in trail.get(inc.id, []):
            details = ev.details or {}
            at = _aware(ev.at)
            if ev.kind == "dispatched":
                if rows and rows[-1]["withdrawn_at"] is None:
                    rows[-1].update(withdrawn_at=at, withdrawn_by="system", withdraw_reason="escalated")
                crew = details.get("crew")
                level = str(details.get("level") or inc.level)
                if crew is None and level != "L1":
                    continue  # no crew found at L2: nobody was sent
                rows.append(
                    {
                        "level": level,
                        "unit": units.get(crew, "") if crew else inc.maintenance_unit,
                        "crew_id": crew,
                        "dispatched_at": at,
                        "dispatched_by": ev.actor,
                        "eta_s": details.get("eta_s"),
                        "reference": "",
                        "acknowledged_at": None,
                        "arrived_at": None,
                        "released_at": None,
                        "withdrawn_at": None,
                        "withdrawn_by": "",
                        "withdraw_reason": "",
                    }
                )
                continue
            if not rows:
                continue
            crew = logins.get(ev.actor)
            target = next((r for r in reversed(rows) if crew and r["crew_id"] == crew), rows[-1])
            field = {"acknowledged": "acknowledged_at", "arrived": "arrived_at", "released": "released_at"}[
                ev.kind
            ]
            if target[field] is None:
                target[field] = at
        if not rows and inc.dispatched_at is not None:
            rows.append(
                {
                    "level": inc.level if inc.level in ("L1", "L2") else "L1",
                    "unit": inc.responder_unit or inc.maintenance_unit,
                    "crew_id": inc.crew_id,
                    "dispatched_at": _aware(inc.dispatched_at),
                    "dispatched_by": "system",
                    "eta_s": None,
                    "reference": "",
                    "acknowledged_at": _aware(inc.acknowledged_at),
                    "arrived_at": _aware(inc.arrived_at),
                    "released_at": _aware(inc.released_at),
                    "withdrawn_at": None,
                    "withdrawn_by": "",
                    "withdraw_reason": "",
                }
            )
        if not rows:
            continue
        conn.execute(sa.insert(dispatches), [{"incident_id": inc.id, **r} for r in rows])
        acks = [r["acknowledged_at"] for r in rows if r["acknowledged_at"] is not None]
        arrivals = [r["arrived_at"] for r in rows if r["arrived_at"] is not None]
        conn.execute(
            sa.update(_incidents)
            .where(_incidents.c.id == inc.id)
            .values(
                dispatched_at=rows[0]["dispatched_at"],
                acknowledged_at=min(acks) if acks else None,
                arrived_at=min(arrivals) if arrivals else _aware(inc.arrived_at),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("close_reason")
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("rescue_dispatches", schema=None) as batch_op:
        batch_op.drop_index("ix_rescue_dispatches_unit")
        batch_op.drop_index("ix_rescue_dispatches_incident")
    op.drop_table("rescue_dispatches")
