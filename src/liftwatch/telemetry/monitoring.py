"""The monitoring read side (远程监测): counts of the elevators in an actor's scope by live state, and the
elevators in fault or offline, at city scale (300,000 elevators): grouped queries on ``live_status`` and
``faults``, limited to the codes in scope (``registry.queries.scoped_codes``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, case, exists, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import as_utc
from liftwatch.registry import queries as registry
from liftwatch.telemetry.faults import FaultType, Severity
from liftwatch.telemetry.models import Fault, LiveStatus

#: The most elevators the list and the map show; the page says how many more there are.
LIST_LIMIT = 500
#: Codes per IN (...) list: below SQLite's and PostgreSQL's bind-parameter limits.
CHUNK = 5000
#: Worst first. ``offline`` is the level of an offline elevator without any other open fault.
SEVERITY_ORDER: tuple[str, ...] = tuple(
    s.value for s in (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.INFO)
)
OFFLINE = "offline"
_RANK = {value: len(SEVERITY_ORDER) - i for i, value in enumerate(SEVERITY_ORDER)}  # critical 4 ... info 1
_BY_RANK = {rank: value for value, rank in _RANK.items()}
# Offline is a state of its own on this page, not a fault level: counted as offline, coloured grey.
_OFFLINE_FAULT = FaultType.TERMINAL_OFFLINE.value


@dataclass(frozen=True)
class Scope:
    """The registration codes an actor may see (None: all), and how to test a column against them.

    PostgreSQL gets the whole scope as one array parameter (``= ANY(:codes)``); SQLite gets IN lists of
    :data:`CHUNK` codes, below its bind-parameter limit, and the callers add up the pieces."""

    codes: set[str] | None
    postgres: bool

    @classmethod
    def of(cls, session: Session, actor: Actor) -> Scope:
        codes = registry.scoped_codes(session, actor)
        return cls(codes, session.get_bind().dialect.name == "postgresql")

    def chunks(self) -> Iterator[list[str] | None]:
        if self.codes is None:
            yield None
            return
        ordered = list(self.codes)
        size = max(1, len(ordered)) if self.postgres else CHUNK
        for i in range(0, len(ordered), size):
            yield ordered[i : i + size]

    def within(self, column: Any, chunk: list[str] | None) -> ColumnElement[bool]:
        if chunk is None:
            return true()
        if self.postgres:
            return column == any_(bindparam(None, chunk, type_=postgresql.ARRAY(String)))  # type: ignore[no-any-return]
        return column.in_(chunk)  # type: ignore[no-any-return]


def _rank_expr() -> Any:
    return case(_RANK, value=Fault.severity, else_=0)


def _open_fault() -> ColumnElement[bool]:
    return Fault.cleared_at.is_(None)


@dataclass(frozen=True)
class Counts:
    """Elevators in scope by monitoring state; ``by_severity`` counts each elevator once, at its worst open
    fault (terminal offline excluded: that is ``offline``)."""

    elevators: int
    reporting: int
    online: int
    offline: int
    never_reported: int
    in_fault: int
    by_severity: dict[str, int]
    trapped: int


def monitor_counts(session: Session, actor: Actor, clock: Any, scope: Scope | None = None) -> Counts:
    scope = scope or Scope.of(session, actor)
    codes = scope.codes
    if codes is None:
        _, total = registry.list_elevators(session, actor, registry.ElevatorFilter(), clock, page=1, size=1)
    else:
        total = len(codes)
    online: Counter[bool] = Counter()
    by_rank: Counter[int] = Counter()
    trapped = 0
    for chunk in scope.chunks():
        for state, n in session.execute(
            select(LiveStatus.online, func.count())
            .where(scope.within(LiveStatus.registration_code, chunk))
            .group_by(LiveStatus.online)
        ):
            online[bool(state)] += int(n)
        # Per elevator: its worst open fault, and whether one of them is an entrapment; then per level.
        trapped_expr = case((Fault.fault_type == FaultType.ENTRAPMENT.value, 1), else_=0)
        worst = (
            select(
                Fault.registration_code,
                func.max(_rank_expr()).label("rank"),
                func.max(trapped_expr).label("trapped"),
            )
            .where(
                _open_fault(),
                Fault.fault_type != _OFFLINE_FAULT,
                scope.within(Fault.registration_code, chunk),
            )
            .group_by(Fault.registration_code)
            .subquery()
        )
        for rank, n, n_trapped in session.execute(
            select(worst.c.rank, func.count(), func.sum(worst.c.trapped)).group_by(worst.c.rank)
        ):
            by_rank[int(rank)] += int(n)
            trapped += int(n_trapped or 0)
    reporting = online[True] + online[False]
    by_severity = {value: by_rank.get(_RANK[value], 0) for value in SEVERITY_ORDER}
    return Counts(
        elevators=total,
        reporting=reporting,
        online=online[True],
        offline=online[False],
        never_reported=max(0, total - reporting),
        in_fault=sum(by_severity.values()),
        by_severity=by_severity,
        trapped=trapped,
    )


@dataclass(frozen=True)
class OpenFault:
    fault_type: str
    severity: str
    started_at: datetime


@dataclass
class MonitorRow:
    """One elevator in fault or offline, with what the list and the map show of it."""

    registration_code: str
    since: datetime
    offline: bool = False
    faults: list[OpenFault] = field(default_factory=list)
    district: str = ""
    street: str = ""
    address: str = ""
    maintenance_unit: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def level(self) -> str:
        """The worst open fault's severity; ``offline`` when the terminal is silent and nothing else is."""
        ranks = [_RANK.get(f.severity, 0) for f in self.faults if f.fault_type != _OFFLINE_FAULT]
        if ranks and max(ranks) > 0:
            return _BY_RANK[max(ranks)]
        if self.offline or any(f.fault_type == _OFFLINE_FAULT for f in self.faults):
            return OFFLINE
        return Severity.INFO.value

    @property
    def fault_types(self) -> list[str]:
        seen: list[str] = []
        for f in self.faults:
            if f.fault_type not in seen:
                seen.append(f.fault_type)
        return seen


def monitor_rows(
    session: Session,
    actor: Actor,
    fault_type: str = "",
    severity: str = "",
    limit: int = LIST_LIMIT,
    scope: Scope | None = None,
) -> tuple[list[MonitorRow], int]:
    """Elevators in scope with an open fault or an offline terminal, newest trouble first, at most
    ``limit``; and how many match in all. A filter keeps elevators with an open fault of that type and
    whose worst open fault has that severity."""
    scope = scope or Scope.of(session, actor)
    # One (code, since) per elevator in trouble: a few thousand even in a large city, so they are all
    # fetched and sorted here, which also gives the total without a second query.
    latest: dict[str, datetime] = {}
    for chunk in scope.chunks():
        conds: list[ColumnElement[bool]] = [_open_fault(), scope.within(Fault.registration_code, chunk)]
        if fault_type:
            conds.append(Fault.fault_type == fault_type)
        if severity:
            worst = (
                select(Fault.registration_code.label("code"))
                .where(
                    _open_fault(),
                    Fault.fault_type != _OFFLINE_FAULT,
                    scope.within(Fault.registration_code, chunk),
                )
                .group_by(Fault.registration_code)
                .having(func.max(_rank_expr()) == _RANK[severity])
            )
            conds.append(Fault.registration_code.in_(worst))
        for code, started in session.execute(
            select(Fault.registration_code, func.max(Fault.started_at))
            .where(*conds)
            .group_by(Fault.registration_code)
        ):
            latest[code] = started
        if not (fault_type or severity):
            # Offline without an open fault: the detector raises terminal_offline with it, so this is rare,
            # but a status row alone must still show.
            for code, seen in session.execute(
                select(LiveStatus.registration_code, LiveStatus.last_seen_at).where(
                    LiveStatus.online.is_(False),
                    scope.within(LiveStatus.registration_code, chunk),
                    ~exists().where(Fault.registration_code == LiveStatus.registration_code, _open_fault()),
                )
            ):
                latest[code] = seen
    total = len(latest)
    top = sorted(latest.items(), key=lambda kv: (as_utc(kv[1]), kv[0]), reverse=True)[:limit]
    rows = {code: MonitorRow(registration_code=code, since=as_utc(since)) for code, since in top}
    _fill(session, rows)
    return list(rows.values()), total


def _fill(session: Session, rows: dict[str, MonitorRow]) -> None:
    """Open faults, terminal state and (from the registry) place and maintenance unit of the listed
    elevators, in three queries however many there are."""
    codes = list(rows)
    if not codes:
        return
    for code, fault_type, severity, started in session.execute(
        select(Fault.registration_code, Fault.fault_type, Fault.severity, Fault.started_at)
        .where(_open_fault(), Fault.registration_code.in_(codes))
        .order_by(Fault.started_at.desc())
    ):
        rows[code].faults.append(OpenFault(fault_type, severity, as_utc(started)))
    for code, online in session.execute(
        select(LiveStatus.registration_code, LiveStatus.online).where(LiveStatus.registration_code.in_(codes))
    ):
        rows[code].offline = not online
    for code, place in registry.places_of(session, codes).items():
        row = rows[code]
        row.district, row.street, row.address = place.district, place.street, place.address
        row.latitude, row.longitude, row.maintenance_unit = (
            place.latitude,
            place.longitude,
            place.maintenance_unit,
        )
