"""Routes of inspection: scheduling, results, signing, re-inspection, self-tests, an elevator's inspections,
the overdue list and the pass rate.
Thin: the service decides scope and rules; every writing route commits what the service changed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from liftwatch.core.types import DbId, PathCode, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.inspection import service
from liftwatch.inspection.schemas import (
    DueOut,
    ElevatorInspectionsOut,
    InspectionDetail,
    InspectionOut,
    NonconformityOut,
    OverdueOut,
    PassRateOut,
    ReInspectionIn,
    ResultIn,
    ScheduledOut,
    ScheduleIn,
    SelfTestIn,
    SelfTestOut,
    SignedOut,
)

router = APIRouter(prefix="/api/v1/inspection", tags=["inspection"])


def _detail(session: SessionDep, row: service.StoredInspection) -> InspectionDetail:
    return InspectionDetail(
        inspection=InspectionOut.model_validate(row),
        nonconformities=[
            NonconformityOut.model_validate(n) for n in service.nonconformities_of(session, row)
        ],
    )


@router.post(
    "/inspections", response_model=ScheduledOut, status_code=201, responses={200: {"model": ScheduledOut}}
)
def schedule(
    data: ScheduleIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ScheduledOut:
    """Schedule the elevator's next periodic inspection (定期检验), due by the rule in force: 201 when new,
    200 when one is already scheduled."""
    row, created = service.schedule_next(
        session, actor, data.code, data.body_unit_code, data.inspector, clock, settings, data.scheduled_date
    )
    session.commit()
    response.status_code = 201 if created else 200
    return ScheduledOut(created=created, inspection=InspectionOut.model_validate(row))


@router.get("/inspections", response_model=list[InspectionOut])
def list_inspections(
    actor: ActorDep,
    session: SessionDep,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
) -> Any:
    return service.list_inspections(session, actor, code)


@router.get("/inspections/{inspection_id}", response_model=InspectionDetail)
def get_inspection(inspection_id: DbId, actor: ActorDep, session: SessionDep) -> InspectionDetail:
    return _detail(session, service.get_inspection(session, actor, inspection_id))


@router.put("/inspections/{inspection_id}/result", response_model=InspectionDetail)
def record_result(
    inspection_id: DbId,
    data: ResultIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> InspectionDetail:
    """Record or correct the result while unsigned (its inspector only); 409 once signed."""
    findings = [service.Finding(f.text, f.severity, f.rectify_by, f.item) for f in data.nonconformities]
    row = service.record_result(
        session,
        actor,
        inspection_id,
        data.performed_at,
        data.conclusion,
        data.report_number,
        findings,
        clock,
        settings,
    )
    session.commit()
    return _detail(session, row)


@router.post("/inspections/{inspection_id}/sign", response_model=SignedOut)
def sign(
    inspection_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> SignedOut:
    """Sign the result: never changed afterwards; each non-conformity opens a rectification work order."""
    out = service.sign(session, actor, inspection_id, clock, settings)
    session.commit()
    nxt = out.next_inspection
    return SignedOut(
        inspection=InspectionOut.model_validate(out.inspection),
        work_order_ids=out.work_order_ids,
        next_inspection=InspectionOut.model_validate(nxt) if nxt is not None else None,
    )


@router.post(
    "/inspections/{inspection_id}/re-inspections",
    response_model=ScheduledOut,
    status_code=201,
    responses={200: {"model": ScheduledOut}},
)
def schedule_re_inspection(
    inspection_id: DbId,
    data: ReInspectionIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ScheduledOut:
    """Schedule the re-inspection (复检) of a signed result with non-conformities, after rectification."""
    row, created = service.schedule_re_inspection(
        session, actor, inspection_id, data.scheduled_date, clock, settings
    )
    session.commit()
    response.status_code = 201 if created else 200
    return ScheduledOut(created=created, inspection=InspectionOut.model_validate(row))


@router.get("/overdue", response_model=list[OverdueOut])
def overdue(actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep) -> Any:
    """Elevators in the caller's scope whose inspection is past due (oldest first)."""
    return service.overdue(session, actor, clock, settings)


@router.get("/pass-rate", response_model=PassRateOut)
def pass_rate(
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[date, Query(description="first day of the period")],
    end: Annotated[date, Query(description="the day after the period")],
    unit: Annotated[QueryStr | None, Query(max_length=32, description="a maintenance unit's code")] = None,
    district: Annotated[QueryStr | None, Query(max_length=64, description="a district")] = None,
) -> PassRateOut:
    """The first-attempt pass rate (检验合格率) in the caller's scope: periodic inspections passed at the
    first attempt ÷ periodic inspections concluded, performed in [start, end)."""
    rate = service.pass_rate(session, actor, start, end, settings, unit, district)
    return PassRateOut(start=start, end=end, passed=rate.passed, concluded=rate.concluded, rate=rate.rate)


@router.post("/self-tests", response_model=SelfTestOut, status_code=201)
def record_self_test(
    data: SelfTestIn, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Any:
    """Record a self-test (自行检测) of an elevator your maintenance unit maintains; never changed afterwards
    (the same elevator and day again: 409)."""
    row = service.record_self_test(
        session,
        actor,
        data.code,
        data.tested_on,
        data.conclusion,
        data.tester,
        data.notes,
        clock,
        settings,
    )
    session.commit()
    return row


@router.get("/self-tests", response_model=list[SelfTestOut])
def list_self_tests(
    actor: ActorDep,
    session: SessionDep,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
) -> Any:
    """Self-tests in the caller's scope, newest first."""
    return service.list_self_tests(session, actor, code)


@router.get("/elevators/{code}", response_model=ElevatorInspectionsOut)
def elevator_inspections(
    code: PathCode,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ElevatorInspectionsOut:
    """An elevator's inspection record: the next periodic inspection's due date (and the self-tests before
    it under the reform schedule), its inspections and its self-tests, as far as the caller may read them."""
    out = service.elevator_inspections(session, actor, code, clock, settings)
    return ElevatorInspectionsOut(
        registration_code=out.registration_code,
        due=DueOut(
            due=out.due.due,
            interval_years=out.due.interval_years,
            age_years=out.due.age_years,
            self_tests=list(out.due.self_tests),
        ),
        inspections=[InspectionOut.model_validate(r) for r in out.inspections],
        self_tests=[SelfTestOut.model_validate(r) for r in out.self_tests],
    )
