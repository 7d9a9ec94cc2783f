"""The ratings service (星级评定, 红黑榜): rate a period and store it, and the reads of the pages and the API.

``compute`` gathers every maintenance unit's figures for the period (``ratings/queries.py``), rates and ranks
them with the pure rule (``ratings/rate.py``) and stores one ``rating_periods`` row with one ``unit_ratings``
row per unit. Rating a period again replaces its rows (idempotent: the same records give the same rows);
other periods' rows stay, so a unit's rows across periods are its history.

Scope: admins and regulators compute and read every unit's rating; maintenance-unit staff read their own
unit's rating with every line and the counts behind it (another unit's history is *not found*; a period's
ratings show them only their own row); anyone else is refused (403). The public page reads
``public_period``: unit names, stars, ranks, lists and figures, no person's data.

The on-demand eligibility of maintenance (``maintenance.plans.qualify_on_demand``) takes the unit's stars from
here: ``qualify_on_demand`` passes the latest stored rating and the minimum (``on_demand_min_stars``) in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.db import insert_ignoring_conflicts
from liftwatch.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import plans
from liftwatch.ratings import queries
from liftwatch.ratings.domain import Listing
from liftwatch.ratings.models import RatingPeriodRow, UnitRatingRow
from liftwatch.ratings.periods import Period, PeriodKind, parse_period
from liftwatch.ratings.rate import RatingSettings, rank_period
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue import service as rescue

__all__ = [
    "CENTRE",
    "READERS",
    "PublicPeriod",
    "compute",
    "histories",
    "latest_stars",
    "own_unit",
    "period_named",
    "periods",
    "public_period",
    "qualify_on_demand",
    "ratings_of",
    "unit_history",
]

#: Who computes ratings and reads every unit's.
CENTRE = frozenset({Role.ADMIN, Role.REGULATOR})
#: Who reads ratings at all (maintenance staff: their own unit's).
READERS = CENTRE | {Role.MAINTENANCE}


def _settings(rating_settings: RatingSettings | None) -> RatingSettings:
    if rating_settings is not None:
        return rating_settings
    from liftwatch.ratings.settings import rating_settings_from_env

    return rating_settings_from_env()


def _instant(day: Any, settings: Settings) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(settings.timezone)).astimezone(UTC)


def compute(
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: Settings,
    period: Period | str,
    rating_settings: RatingSettings | None = None,
) -> RatingPeriodRow:
    """Rate every maintenance unit for ``period`` (``2026-H2``, ``2026-Q4``, ``2026-11``) and store it,
    replacing what the period held. A period that has not begun is refused. Flushes; the caller commits."""
    if actor.role not in CENTRE:
        raise Forbidden(f"role '{actor.role.value}' may not compute ratings")
    if isinstance(period, str):
        try:
            period = parse_period(period)
        except ValueError as exc:
            raise InvalidInput(FieldError("period", str(exc))) from exc
    rs = _settings(rating_settings)
    now = clock.now()
    start, end = _instant(period.start, settings), _instant(period.end, settings)
    if start >= now:
        raise InvalidInput(FieldError("period", f"{period.label} has not begun"))
    kpi = rescue.kpi_settings(rescue.RescueSettings.for_city(settings))
    last_day = period.end.fromordinal(period.end.toordinal() - 1)
    counted = queries.gather(session, start, end, period.start, last_day, period.months, now, kpi)
    by_unit = {c.figures.unit: c for c in counted}
    ranked = rank_period([c.figures for c in counted], rs)
    names = registry_queries.unit_names(session, by_unit)

    # the period's row is created if missing without a read first: the ratings worker and a regulator's
    # button may rate a new period at once, and the second must replace the first's rows, not fail on the
    # label (PostgreSQL makes the second wait for the first's commit; the lock below orders the rest)
    stored = {
        "kind": period.kind.value,
        "start_date": period.start,
        "end_date": period.end,
        "computed_at": now,
        "computed_by": actor.username,
        "settings": {f.name: getattr(rs, f.name) for f in fields(rs)},
    }
    session.execute(
        insert_ignoring_conflicts(session, RatingPeriodRow, ["label"]).values(label=period.label, **stored)
    )
    row = session.scalars(
        select(RatingPeriodRow)
        .where(RatingPeriodRow.label == period.label)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    session.execute(delete(UnitRatingRow).where(UnitRatingRow.period_id == row.id))
    for name, value in stored.items():
        setattr(row, name, value)
    session.flush()
    for r in ranked:
        c = by_unit[r.unit]
        values = {k: v for k, v in asdict(c.figures).items() if k not in ("unit", "elevators")}
        shape = r.as_dict()
        session.add(
            UnitRatingRow(
                period_id=row.id,
                unit_code=r.unit,
                unit_name=names.get(r.unit, ""),
                elevators=r.elevators,
                rated=r.rated,
                total=r.total,
                stars=r.stars,
                rank=r.rank,
                listing=r.listing.value,
                lines=shape["lines"],
                figures={"values": values, "counts": c.counts},
                why=shape["why"],
            )
        )
    session.flush()
    return row


# ---------------------------------------------------------------- reads


def _require(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        raise Forbidden(f"role '{actor.role.value}' may not read ratings")


def own_unit(session: Session, actor: Actor) -> str | None:
    """The code of the maintenance unit the actor works for (None for the centre)."""
    if actor.unit_id is None:
        return None
    return registry_queries.unit_codes(session, [actor.unit_id]).get(actor.unit_id)


_KIND_ORDER = {PeriodKind.HALF_YEAR.value: 0, PeriodKind.QUARTER.value: 1, PeriodKind.MONTH.value: 2}


def _newest_first(rows: list[RatingPeriodRow]) -> list[RatingPeriodRow]:
    """Latest end first; of periods ending together the longer first (a half-year before its last month)."""
    return sorted(rows, key=lambda p: (-p.end_date.toordinal(), _KIND_ORDER.get(p.kind, 9), p.label))


def periods(session: Session, actor: Actor) -> list[RatingPeriodRow]:
    """The rated periods, newest first."""
    _require(actor, READERS)
    return _newest_first(list(session.scalars(select(RatingPeriodRow))))


def period_named(session: Session, label: str) -> RatingPeriodRow:
    """A rated period by its name; NotFound when it was never computed."""
    row = session.scalar(select(RatingPeriodRow).where(RatingPeriodRow.label == label.strip().upper()))
    if row is None:
        raise NotFound(f"no ratings for period '{label}'")
    return row


def _rows(session: Session, period_id: int, unit: str | None = None) -> list[UnitRatingRow]:
    stmt = select(UnitRatingRow).where(UnitRatingRow.period_id == period_id)
    if unit is not None:
        stmt = stmt.where(UnitRatingRow.unit_code == unit)
    rows = list(session.scalars(stmt))
    return sorted(rows, key=lambda r: (not r.rated, r.rank or 0, r.unit_code))


def ratings_of(session: Session, actor: Actor, label: str) -> tuple[RatingPeriodRow, list[UnitRatingRow]]:
    """A period's ratings, best first (not rated last): every unit's for the centre, the actor's own unit's
    only for maintenance staff."""
    _require(actor, READERS)
    period = period_named(session, label)
    if actor.role in CENTRE:
        return period, _rows(session, period.id)
    unit = own_unit(session, actor)
    return period, _rows(session, period.id, unit) if unit else []


def unit_history(
    session: Session, actor: Actor, unit_code: str
) -> list[tuple[RatingPeriodRow, UnitRatingRow]]:
    """A unit's ratings across the rated periods, newest first; another unit's is *not found* for staff."""
    _require(actor, READERS)
    if actor.role not in CENTRE and own_unit(session, actor) != unit_code:
        raise NotFound(f"unit '{unit_code}' not found")
    if registry_queries.unit_by_code(session, unit_code) is None:
        raise NotFound(f"unit '{unit_code}' not found")
    rows = session.execute(
        select(RatingPeriodRow, UnitRatingRow)
        .join(UnitRatingRow, UnitRatingRow.period_id == RatingPeriodRow.id)
        .where(UnitRatingRow.unit_code == unit_code)
    ).all()
    order = {p.id: i for i, p in enumerate(_newest_first([p for p, _ in rows]))}
    return sorted(((p, r) for p, r in rows), key=lambda pr: order[pr[0].id])


def histories(session: Session, actor: Actor) -> dict[str, list[tuple[str, int, int | None]]]:
    """Every unit's (period, total, stars) across the rated periods, oldest first: the centre's view."""
    _require(actor, CENTRE)
    rows = session.execute(
        select(RatingPeriodRow, UnitRatingRow.unit_code, UnitRatingRow.total, UnitRatingRow.stars).join(
            UnitRatingRow, UnitRatingRow.period_id == RatingPeriodRow.id
        )
    ).all()
    order = {p.id: i for i, p in enumerate(_newest_first(list({p.id: p for p, *_ in rows}.values())))}
    out: dict[str, list[tuple[str, int, int | None]]] = {}
    for p, unit, total, stars in sorted(rows, key=lambda r: -order[r[0].id]):
        out.setdefault(unit, []).append((p.label, total, stars))
    return out


@dataclass(frozen=True)
class PublicPeriod:
    """The published ratings of one period: every unit's row (names and figures only) and the lists."""

    period: RatingPeriodRow
    rows: list[UnitRatingRow]

    @property
    def red(self) -> list[UnitRatingRow]:
        return [r for r in self.rows if r.listing == Listing.RED.value]

    @property
    def black(self) -> list[UnitRatingRow]:
        return [r for r in self.rows if r.listing == Listing.BLACK.value]


def public_period(session: Session, label: str | None = None) -> PublicPeriod | None:
    """The ratings the public sees: of ``label``, or of the latest rated period; None before the first."""
    if label:
        period = period_named(session, label)
    else:
        every = _newest_first(list(session.scalars(select(RatingPeriodRow))))
        if not every:
            return None
        period = every[0]
    return PublicPeriod(period, _rows(session, period.id))


def public_labels(session: Session) -> list[str]:
    """The names of the rated periods, newest first (the public page's picker)."""
    return [p.label for p in _newest_first(list(session.scalars(select(RatingPeriodRow))))]


# ---------------------------------------------------------------- on-demand eligibility


def latest_stars(session: Session, units: list[str] | set[str]) -> dict[str, int | None]:
    """Each unit's stars in its latest rated period (None: not rated there); units never rated are absent."""
    wanted = sorted(set(units))
    if not wanted:
        return {}
    rows = session.execute(
        select(RatingPeriodRow, UnitRatingRow.unit_code, UnitRatingRow.stars)
        .join(UnitRatingRow, UnitRatingRow.period_id == RatingPeriodRow.id)
        .where(UnitRatingRow.unit_code.in_(wanted))
    ).all()
    order = {p.id: i for i, p in enumerate(_newest_first(list({p.id: p for p, _, _ in rows}.values())))}
    out: dict[str, tuple[int, int | None]] = {}
    for p, unit, stars in rows:
        if unit not in out or order[p.id] < out[unit][0]:
            out[unit] = (order[p.id], stars)
    return {unit: stars for unit, (_, stars) in out.items()}


def qualify_on_demand(
    session: Session,
    unit_code: str,
    facts: plans.QualificationInput,
    rating_settings: RatingSettings | None = None,
) -> plans.Qualification:
    """Maintenance's on-demand qualification with the unit's real rating: its latest stored stars and the
    minimum (``LIFTWATCH_RATING_ON_DEMAND_MIN_STARS``) put into ``facts``; the reason names both."""
    rs = _settings(rating_settings)
    stars = latest_stars(session, [unit_code]).get(unit_code)
    return plans.qualify_on_demand(_with(facts, unit_stars=stars, min_stars=int(rs.on_demand_min_stars)))


def _with(facts: plans.QualificationInput, **changes: Any) -> plans.QualificationInput:
    from dataclasses import replace

    return replace(facts, **changes)
