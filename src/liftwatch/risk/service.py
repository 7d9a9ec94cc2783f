"""Risk grading's service (风险分级): recompute and store the scores, and the reads of the page and the API.

``recompute`` gathers each elevator's facts (``risk/queries.py``), scores them with the pure scorer
(``risk/score.py``) and upserts one ``risk_scores`` row per elevator: for the whole city, a district, or
only the elevators a caller knows changed (incremental). A full run also drops the rows of elevators no
longer in use. It writes nothing else and needs no actor: it is the CLI's and the workers' job.

Scope of the reads (outside it an elevator is *not found*, as the registry decides): admins and regulators
read every score; maintenance and use-unit staff the scores of their own elevators; anyone else is refused
(403). The city's distribution and the ranking by district are the centre's only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeAlias, cast

from sqlalchemy import Select, String, Table, any_, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.complaints import queries as complaints_queries
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.hazards import service as hazards
from liftwatch.inspection import service as inspection
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue import queries as rescue_queries
from liftwatch.risk import queries
from liftwatch.risk.domain import ElevatorFacts, Factor, Grade
from liftwatch.risk.models import RiskScoreRow
from liftwatch.risk.score import RiskSettings, score_many
from liftwatch.telemetry import queries as telemetry_queries

__all__ = [
    "CENTRE",
    "READERS",
    "Distribution",
    "Recomputed",
    "StoredScore",
    "changed_since",
    "distribution",
    "districts",
    "recompute",
    "score_of",
    "stored_bounds",
    "stored_score",
    "top_risks",
]

StoredScore: TypeAlias = RiskScoreRow

#: Who reads the whole city's scores, its distribution and ranking.
CENTRE = frozenset({Role.ADMIN, Role.REGULATOR})
#: Who reads scores at all (unit staff: their own elevators).
READERS = CENTRE | {Role.MAINTENANCE, Role.USE_UNIT}


@dataclass
class Recomputed:
    """What a recomputation did: elevators scored per grade, rows dropped, seconds taken."""

    by_grade: dict[Grade, int] = field(default_factory=lambda: dict.fromkeys(Grade, 0))
    dropped: int = 0
    seconds: float = 0.0

    @property
    def elevators(self) -> int:
        return sum(self.by_grade.values())


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or replace the rows: one statement compiled once and executed for many rows (executemany;
    PostgreSQL batches it into multi-row VALUES itself), PostgreSQL or SQLite. A multi-row ``.values()``
    was compiled anew per chunk: half the time of a full run went to compiling it."""
    if not rows:
        return
    table = cast(Table, RiskScoreRow.__table__)  # the Table: executemany without the ORM's bulk path
    stmt: Any
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        stmt = lite_insert(table)
    cols = {c: stmt.excluded[c] for c in rows[0] if c != "registration_code"}
    session.connection().execute(
        stmt.on_conflict_do_update(index_elements=["registration_code"], set_=cols), rows
    )


#: The fields of ``ElevatorFacts``: every one a plain value, so a shallow dict is its JSON (``asdict``'s deep
#: copy took a quarter of a full run).
_FACT_FIELDS = tuple(f.name for f in fields(ElevatorFacts))
_FACTOR_CODES = {f: f.value for f in Factor}


def _plain(facts: ElevatorFacts) -> dict[str, Any]:
    return {name: getattr(facts, name) for name in _FACT_FIELDS}


def recompute(
    session: Session,
    clock: Clock,
    settings: Settings,
    risk_settings: RiskSettings,
    codes: Collection[str] | None = None,
    district: str | None = None,
    after_batch: Callable[[], None] | None = None,
) -> Recomputed:
    """Score and store the elevators in use: all of them, those of ``district``, or only ``codes`` (the
    incremental run of a caller that knows which elevators changed). Flushes; the caller commits (and
    ``after_batch`` may commit each batch: the worker's full run holds no write lock for its whole run)."""
    started = time.perf_counter()
    now = clock.now()
    out = Recomputed()
    seen: set[str] = set()
    for batch in queries.gather(session, clock, settings, district=district, codes=codes):
        where = {g.facts.elevator: g for g in batch}
        rows = []
        for s in score_many([g.facts for g in batch], risk_settings):
            out.by_grade[s.grade] += 1
            rows.append(
                {
                    "registration_code": s.elevator,
                    "district": where[s.elevator].district,
                    "score": s.score,
                    "grade": s.grade.value,
                    "contributions": [
                        {"factor": _FACTOR_CODES[c.factor], "value": c.value, "points": c.points}
                        for c in s.contributions
                    ],  # Contribution.as_dict, without an enum's value looked up 16 times an elevator
                    "facts": _plain(where[s.elevator].facts),
                    "computed_at": now,
                }
            )
        _upsert(session, rows)
        seen.update(where)
        if after_batch is not None:
            after_batch()
    if codes is not None:  # the named elevators no longer in use
        stale = sorted(set(codes) - seen)
    else:  # rows this run did not write: elevators retired (or moved out of the district)
        stored = select(RiskScoreRow.registration_code)
        if district is not None:
            stored = stored.where(RiskScoreRow.district == district)
        stale = sorted(set(session.scalars(stored)) - seen)
    for i in range(0, len(stale), 5000):
        session.execute(delete(RiskScoreRow).where(RiskScoreRow.registration_code.in_(stale[i : i + 5000])))
    out.dropped = len(stale)
    session.flush()
    out.seconds = round(time.perf_counter() - started, 2)
    return out


# ---------------------------------------------------------------- what changed


#: The other domains' records whose change may move a score: (table, columns stamped when a row is
#: written or moves on). Read by table name through the shared metadata (the domains' models are private
#: to them); faults count by when they were raised, the rest by their last update.
def changed_since(session: Session, since: datetime) -> set[str]:
    """The elevators whose inputs changed after ``since``: the elevator file (registry), faults, incidents,
    work orders, fake-maintenance flags and contracts, inspections, hazards and complaints, each through its
    own domain's read. What only the passing of time changes (a fault leaving the 90-day window, a visit
    growing later, traffic) waits for the daily full run."""
    codes = registry_queries.codes_changed_since(session, since)
    for read in (
        telemetry_queries.codes_changed_since,
        rescue_queries.codes_changed_since,
        maintenance_queries.codes_changed_since,
        inspection.codes_changed_since,
        hazards.codes_changed_since,
        complaints_queries.codes_changed_since,
    ):
        codes |= read(session, since)
    return codes


def stored_bounds(session: Session) -> tuple[datetime | None, datetime | None, int]:
    """The oldest and the newest ``computed_at`` of the stored scores and their number: the risk worker's
    watermark survives a restart in the scores themselves (no table of its own)."""
    low, high, n = session.execute(
        select(func.min(RiskScoreRow.computed_at), func.max(RiskScoreRow.computed_at), func.count())
    ).one()
    return low, high, int(n)


# ---------------------------------------------------------------- reads


def _require(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        raise Forbidden(f"role '{actor.role.value}' may not read risk scores")


def score_of(session: Session, actor: Actor, registration_code: str) -> StoredScore:
    """An elevator's stored score; NotFound outside the actor's scope or before its first computation."""
    _require(actor, READERS)
    registry_queries.get_elevator(session, actor, registration_code)  # scope: NotFound outside it
    row = session.get(RiskScoreRow, registration_code)
    if row is None:
        raise NotFound(f"no risk score for elevator '{registration_code}' yet")
    return row


def stored_score(session: Session, registration_code: str) -> StoredScore | None:
    """The stored score of an elevator the caller already holds in scope (the elevator file shows its
    grade); None before its first computation."""
    return session.get(RiskScoreRow, registration_code)


@dataclass(frozen=True)
class Distribution:
    """Elevators per grade (every grade listed), their total and when the scores were last computed."""

    counts: dict[Grade, int]
    total: int
    computed_at: Any  # datetime | None

    def share(self, grade: Grade) -> float:
        return self.counts[grade] / self.total if self.total else 0.0


def _scoped(session: Session, actor: Actor, stmt: Select[Any]) -> Select[Any]:
    if actor.role in CENTRE:
        return stmt
    return stmt.where(RiskScoreRow.registration_code.in_(_own_codes(session, actor)))


def _own_codes(session: Session, actor: Actor) -> list[str]:
    return sorted(registry_queries.scoped_codes(session, actor) or set())


def distribution(session: Session, actor: Actor, district: str | None = None) -> Distribution:
    """The city's (or a district's) elevators per grade: the centre's view."""
    _require(actor, CENTRE)
    stmt = select(RiskScoreRow.grade, func.count(), func.max(RiskScoreRow.computed_at))
    if district:
        stmt = stmt.where(RiskScoreRow.district == district)
    counts = dict.fromkeys(Grade, 0)
    latest = None
    for grade, n, at in session.execute(stmt.group_by(RiskScoreRow.grade)):
        counts[Grade(grade)] = int(n)
        latest = at if latest is None or (at is not None and at > latest) else latest
    return Distribution(counts, sum(counts.values()), latest)


def districts(session: Session, actor: Actor) -> list[str]:
    """The districts that have scores, for the page's filter."""
    _require(actor, CENTRE)
    stmt = select(RiskScoreRow.district).distinct().where(RiskScoreRow.district != "")
    return sorted(session.scalars(stmt))


def top_risks(
    session: Session, actor: Actor, district: str | None = None, limit: int = 50
) -> list[StoredScore]:
    """The highest scores (of ``district``), highest first; the centre's view (unit staff: their own)."""
    _require(actor, READERS)
    stmt = _scoped(session, actor, select(RiskScoreRow))
    if district:
        stmt = stmt.where(RiskScoreRow.district == district)
    stmt = stmt.order_by(RiskScoreRow.score.desc(), RiskScoreRow.registration_code).limit(limit)
    return list(session.scalars(stmt))


def stored_grades(session: Session, codes: Collection[str]) -> dict[str, str]:
    """The stored grade of each of ``codes`` that has one (lists of elevators the caller already holds in
    scope, in batches well under the databases' parameter limits)."""
    wanted = list(dict.fromkeys(codes))
    out: dict[str, str] = {}
    if wanted and session.get_bind().dialect.name == "postgresql":
        # one array parameter, whatever the count: the dashboard's 20,000 map points in one query
        # (20 IN lists of 1,000 parameters each took 110-420 ms to bind and plan on 300,000 elevators)
        codes_param = bindparam("codes", wanted, type_=postgresql.ARRAY(String))
        stmt = select(RiskScoreRow.registration_code, RiskScoreRow.grade).where(
            RiskScoreRow.registration_code == any_(codes_param)
        )
        return {code: grade for code, grade in session.execute(stmt)}
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        stmt = select(RiskScoreRow.registration_code, RiskScoreRow.grade).where(
            RiskScoreRow.registration_code.in_(chunk)
        )
        out.update({code: grade for code, grade in session.execute(stmt)})
    return out
