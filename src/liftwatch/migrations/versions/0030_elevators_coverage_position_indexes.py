"""two indexes on the registry: the coverage figures' and the map's view (issue 15, item 5).

The coverage KPIs count the elevators in use by place type with their terminal, coordinates, age and
in-car mobile signal, and the insured among those in public places; each read every row of the
300,000-elevator benchmark city's registry (about 250 ms apiece on SQLite). From this index alone, the
counts grouped by place type (in its order, no sort) 264 ms to 104 ms, and the codes in use in public
places the insured are counted among 240 ms to 115 ms (docs/PERFORMANCE.md, "Analytics").

The dashboard's map counts (or lists) the elevators inside its view; zoomed in on a street no other index
narrows the rows by their coordinates, so each view read the whole city. ``ix_elevators_position``
(latitude, longitude, status) finds a view's rows by latitude and counts them from the index alone.

Expand only: indexes, so the release before keeps running against them.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 05:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Led by the place type, not the status: the counts go in its order, and a query of the elevators in use
#: per district keeps the index 0029 made for it (SQLite, no statistics on a new index yet, took this one
#: and sorted: 44 ms to 292 ms).
COLUMNS = [
    "place_type",
    "status",
    "registration_code",
    "iot_terminal_id",
    "mobile_signal",
    "commissioning_date",
    "installation_date",
    "latitude",
    "longitude",
]


def upgrade() -> None:
    op.create_index("ix_elevators_coverage", "elevators", COLUMNS)
    op.create_index("ix_elevators_position", "elevators", ["latitude", "longitude", "status"])


def downgrade() -> None:
    op.drop_index("ix_elevators_position", table_name="elevators")
    op.drop_index("ix_elevators_coverage", table_name="elevators")
