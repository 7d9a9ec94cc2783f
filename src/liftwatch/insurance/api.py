"""Routes of insurance (电梯安全责任保险): policies for insurers and admins (record, import, change, cancel,
read), the repricing of a period and its premium factors with the risk factors behind them, an insured
elevator's view, and the coverage KPI for regulators and admins. Thin: the service decides scope and rules;
every writing route commits what the service changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import DbId, PathCode, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.insurance import service
from liftwatch.insurance.domain import PUBLIC_PLACE_TYPES, PolicyStatus
from liftwatch.insurance.schemas import (
    CoverageOut,
    DistrictCoverageOut,
    ElevatorOut,
    FactorLine,
    ImportIn,
    ImportOut,
    PeriodFactorOut,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    PremiumFactorOut,
    ReasonIn,
    RecordedOut,
    RepricedOut,
    RepriceIn,
    UninsuredOut,
)

router = APIRouter(prefix="/api/v1/insurance", tags=["insurance"])

CSV_MAX_BYTES = 4 * 2**20

COVERAGE_DEFINITION = (
    "elevators in use in public places with a valid liability policy on the day / elevators in use in "
    "public places (public places: the risk domain's crowded and public place tiers)"
)


def _factor(row: service.StoredFactor | None) -> PremiumFactorOut | None:
    if row is None:
        return None
    return PremiumFactorOut(
        period=row.period,
        factor=row.factor,
        grade=row.grade,
        score=row.score,
        top=[FactorLine(**t) for t in row.top],
        adjusted_premium_fen=row.adjusted_premium_fen,
        computed_at=row.computed_at,
    )


def _outs(
    session: SessionDep, settings: SettingsDep, clock: ClockDep, rows: list[service.StoredPolicy]
) -> list[PolicyOut]:
    day = service.local_today(clock, settings)
    codes = service.insurer_codes(session, rows)
    factors = service.latest_factors(session, [r.id for r in rows])
    return [
        PolicyOut(
            id=r.id,
            policy_number=r.policy_number,
            insurer=codes.get(r.insurer_unit_id, ""),
            registration_code=r.registration_code,
            insured=codes.get(r.insured_unit_id) if r.insured_unit_id else None,
            start_date=r.start_date,
            end_date=r.end_date,
            limit_per_person_fen=r.limit_per_person_fen,
            limit_per_accident_fen=r.limit_per_accident_fen,
            premium_fen=r.premium_fen,
            status=service.status_of(r, day),
            cancelled_at=r.cancelled_at,
            cancel_reason=r.cancel_reason,
            premium_factor=_factor(factors.get(r.id)),
        )
        for r in rows
    ]


def _data(p: PolicyIn) -> service.PolicyData:
    return service.PolicyData(
        p.registration_code,
        p.policy_number,
        p.start_date,
        p.end_date,
        p.limit_per_person_fen,
        p.limit_per_accident_fen,
        p.premium_fen,
        p.insurer or None,
    )


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    status: Annotated[list[PolicyStatus] | None, Query()] = None,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
) -> list[PolicyOut]:
    """The policies in the caller's scope (an insurer: its own), latest end first."""
    day = service.local_today(clock, settings)
    rows = service.list_policies(session, actor, day, status or (), code)
    return _outs(session, settings, clock, rows)


@router.post(
    "/policies", response_model=RecordedOut, status_code=201, responses={200: {"model": RecordedOut}}
)
def record_policy(
    data: PolicyIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> RecordedOut:
    """Record a policy: 201 when new, 200 when its number was recorded already (updated or unchanged)."""
    out = service.record_policy(session, actor, _data(data), clock)
    session.commit()
    response.status_code = 201 if out.outcome is service.Outcome.CREATED else 200
    return RecordedOut(outcome=out.outcome.value, policy=_outs(session, settings, clock, [out.policy])[0])


@router.post("/policies/import", response_model=ImportOut)
def import_policies(data: ImportIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> ImportOut:
    """Record a list of policies, all or nothing (errors named ``policies.<row>.<field>``); importing the
    same list again changes nothing."""
    report = service.import_policies(session, actor, [_data(p) for p in data.policies], clock)
    session.commit()
    return ImportOut(
        rows=report.rows, created=report.created, updated=report.updated, unchanged=report.unchanged
    )


@router.post("/policies/import.csv", response_model=ImportOut)
def import_policies_csv(
    file: Annotated[UploadFile, File(description="a UTF-8 .csv list with the columns of docs/INSURANCE.md")],
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
) -> ImportOut:
    """The same import from a CSV file: all or nothing, errors named ``policies.<row>.<field>`` (row 0: the
    first line under the header); the same file again changes nothing."""
    service.require_policy_writer(actor)
    raw = file.file.read(CSV_MAX_BYTES + 1)
    if len(raw) > CSV_MAX_BYTES:
        raise InvalidInput(FieldError("file", f"is larger than {CSV_MAX_BYTES // 2**20} MB"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(FieldError("file", "is not UTF-8 text")) from None
    report = service.import_policies(session, actor, service.parse_csv(text), clock)
    session.commit()
    return ImportOut(
        rows=report.rows, created=report.created, updated=report.updated, unchanged=report.unchanged
    )


@router.get("/policies/{policy_id}", response_model=PolicyOut)
def get_policy(
    policy_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> PolicyOut:
    return _outs(session, settings, clock, [service.get_policy(session, actor, policy_id)])[0]


@router.patch("/policies/{policy_id}", response_model=PolicyOut)
def update_policy(
    policy_id: DbId,
    data: PolicyPatch,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> PolicyOut:
    change = service.PolicyChange(
        data.start_date,
        data.end_date,
        data.limit_per_person_fen,
        data.limit_per_accident_fen,
        data.premium_fen,
    )
    row = service.update_policy(session, actor, policy_id, change, clock)
    session.commit()
    return _outs(session, settings, clock, [row])[0]


@router.post("/policies/{policy_id}/cancel", response_model=PolicyOut)
def cancel_policy(
    policy_id: DbId,
    data: ReasonIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> PolicyOut:
    """Cancel a policy (退保); again changes nothing."""
    row = service.cancel_policy(session, actor, policy_id, data.reason, clock)
    session.commit()
    return _outs(session, settings, clock, [row])[0]


@router.post("/reprice", response_model=RepricedOut)
def reprice(data: RepriceIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> RepricedOut:
    """Price the policies in scope in force during the period from their elevators' risk grades."""
    out = service.reprice(session, actor, clock, data.period)
    session.commit()
    return RepricedOut(period=out.period, policies=out.policies, by_grade=dict(out.by_grade))


@router.get("/premium-factors", response_model=list[PeriodFactorOut])
def premium_factors(
    actor: ActorDep,
    session: SessionDep,
    period: Annotated[QueryStr, Query(min_length=4, max_length=16, description="2026-Q4, 2026-H2, 2026-11")],
) -> list[PeriodFactorOut]:
    """The premium factors of a period with the grade, score and risk factors behind each."""
    out = []
    for row, policy in service.factors_of_period(session, actor, period):
        factor = _factor(row)
        assert factor is not None
        out.append(
            PeriodFactorOut(
                policy_id=policy.id,
                policy_number=policy.policy_number,
                registration_code=policy.registration_code,
                premium_fen=policy.premium_fen,
                premium_factor=factor,
            )
        )
    return out


@router.get("/elevators/{registration_code}", response_model=ElevatorOut)
def insured_elevator(
    registration_code: PathCode, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> ElevatorOut:
    """An insured elevator: its policies in scope, its risk grade, score and every factor's contribution."""
    view = service.elevator_view(session, actor, registration_code)
    return ElevatorOut(
        registration_code=view.registration_code,
        grade=view.grade,
        score=view.score,
        contributions=[FactorLine(**c) for c in view.contributions],
        computed_at=view.computed_at,
        policies=_outs(session, settings, clock, view.policies),
    )


def _district(row: service.DistrictCoverage) -> DistrictCoverageOut:
    return DistrictCoverageOut(district=row.district, public=row.public, insured=row.insured, share=row.share)


@router.get("/coverage", response_model=CoverageOut)
def coverage(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    district: Annotated[QueryStr | None, Query(max_length=64)] = None,
) -> Any:
    """The coverage KPI of elevators in public places (DOMAIN.md section 6) by district, and the uninsured."""
    cov = service.coverage(session, actor, service.local_today(clock, settings), district)
    return CoverageOut(
        day=cov.day,
        definition=COVERAGE_DEFINITION,
        public_place_types=sorted(PUBLIC_PLACE_TYPES),
        total=_district(cov.total),
        districts=[_district(r) for r in cov.districts],
        uninsured_total=cov.uninsured_total,
        uninsured=[UninsuredOut(**vars(u)) for u in cov.uninsured],
    )
