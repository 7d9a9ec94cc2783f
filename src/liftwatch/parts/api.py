"""Routes of main parts (主要部件) and recalls (召回): an elevator's parts with their wear, recording and
replacing a part, the parts near or past their design life, issuing (or previewing) a recall and following
it. Thin: the service decides scope and rules; every writing route commits what the service changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from liftwatch.core.types import DbId, PathCode, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind
from liftwatch.parts.schemas import (
    AffectedOut,
    CyclesOut,
    PartIn,
    PartOut,
    PartViewOut,
    PreviewOut,
    ProgressOut,
    RecallIn,
    RecallItemOut,
    RecallOut,
    RecallViewOut,
    RecordedOut,
    ReplaceIn,
    WornListOut,
    WornPartOut,
)
from liftwatch.parts.settings import PartSettings, part_settings_of

router = APIRouter(prefix="/api/v1", tags=["parts"])


def part_settings(request: Request) -> PartSettings:
    """The LIFTWATCH_PARTS_* settings, read once per application (kept on ``app.state``)."""
    return part_settings_of(request.app.state)


def _new(data: PartIn) -> service.NewPart:
    return service.NewPart(**data.model_dump(exclude={"reason"}))


def view_out(view: service.PartView) -> dict[str, Any]:
    a = view.assessment
    c = view.cycles
    return {
        "part": PartOut.model_validate(view.part),
        "current": view.current,
        "wear": a.state,
        "years_share": None if a.years_share is None else round(a.years_share, 3),
        "cycles_share": None if a.cycles_share is None else round(a.cycles_share, 3),
        "cycles": CyclesOut(used=c.used, estimated=c.estimated, since=c.since) if c else None,
    }


def _recorded(done: service.Recorded) -> RecordedOut:
    return RecordedOut(
        part=PartOut.model_validate(done.part), recalls=sorted({i.recall_id for i in done.recalled})
    )


@router.get("/elevators/{registration_code}/parts", response_model=list[PartViewOut])
def elevator_parts(
    registration_code: PathCode,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Any:
    """The elevator's main parts with their wear: current ones first, then those taken out."""
    views = service.parts_of(session, actor, registration_code, clock, settings, part_settings(request))
    return [view_out(v) for v in views]


@router.post("/elevators/{registration_code}/parts", response_model=RecordedOut, status_code=201)
def record_part(
    registration_code: PathCode,
    data: PartIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> RecordedOut:
    """Record a main part (admins; maintenance and use units on their own elevators). 409 when the
    elevator has a current part of that kind: replace it."""
    ps = part_settings(request)
    done = service.record_part(session, actor, registration_code, _new(data), clock, settings, ps)
    session.commit()
    return _recorded(done)


@router.post("/parts/{part_id}/replace", response_model=RecordedOut, status_code=201)
def replace_part(
    part_id: DbId,
    data: ReplaceIn,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> RecordedOut:
    """Replace a current part by a new one of its kind; the old one stays on the file with the reason."""
    ps = part_settings(request)
    done = service.replace_part(session, actor, part_id, _new(data), data.reason, clock, settings, ps)
    session.commit()
    return _recorded(done)


@router.get("/parts/worn", response_model=WornListOut)
def worn_parts(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    district: Annotated[QueryStr | None, Query(max_length=64)] = None,
    kind: PartKind | None = None,
) -> WornListOut:
    """Current parts near or past their design life (LIFTWATCH_PARTS_NEAR_SHARE) in the caller's scope,
    the furthest worn first, at most 1,000."""
    worn, cut = service.worn_parts(
        session, actor, clock, settings, part_settings(request), district or None, kind
    )
    return WornListOut(
        parts=[WornPartOut(**view_out(w.view), district=w.district) for w in worn], truncated=cut
    )


def _recall_in(data: RecallIn) -> service.NewRecall:
    return service.NewRecall(**data.model_dump())


def recall_out(view: service.RecallView) -> RecallViewOut:
    p = view.progress
    return RecallViewOut(
        recall=RecallOut.model_validate(view.recall),
        progress=ProgressOut(
            total=p.total, done=p.done, overdue=p.overdue, without_order=p.without_order, complete=p.complete
        ),
        items=[
            RecallItemOut(
                registration_code=i.item.registration_code,
                part_id=i.item.part_id,
                serial=i.item.serial,
                work_order_id=i.item.work_order_id,
                work_order_state=i.work_order_state,
                status=i.status,
                problem=i.item.problem,
            )
            for i in view.items
        ],
    )


@router.post("/recalls/preview", response_model=PreviewOut)
def preview_recall(
    data: RecallIn, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> PreviewOut:
    """The elevators a recall would reach, written nowhere (admins and regulators)."""
    issued = service.issue_recall(session, actor, _recall_in(data), clock, settings, preview=True)
    session.rollback()
    return PreviewOut(affected=[AffectedOut(**a.__dict__) for a in issued.affected])


@router.post(
    "/recalls", response_model=RecallViewOut, status_code=201, responses={200: {"model": RecallViewOut}}
)
def issue_recall(
    data: RecallIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> RecallViewOut:
    """Issue a recall: one rectification work order for each elevator whose current part it names, due
    by ``due_on``. The same reference again: 200 with the first recall (409 on other terms)."""
    issued = service.issue_recall(session, actor, _recall_in(data), clock, settings)
    session.commit()
    if not issued.created:
        response.status_code = 200
    recall_id = issued.recall.id if issued.recall is not None else 0
    return recall_out(service.get_recall(session, actor, recall_id, clock))


@router.get("/recalls", response_model=list[RecallViewOut])
def list_recalls(actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    """Recalls, newest first, over the elevators the caller may see."""
    return [recall_out(v) for v in service.list_recalls(session, actor, clock)]


@router.get("/recalls/{recall_id}", response_model=RecallViewOut)
def get_recall(recall_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> RecallViewOut:
    """The recall with each affected elevator's rectification."""
    return recall_out(service.get_recall(session, actor, recall_id, clock))
