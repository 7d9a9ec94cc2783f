"""The demo's complaints (投诉), once (a second run adds nothing): three dozen over the last three weeks from
every channel (12345, WeChat, 96333 calls and the public page in the car), about elevators in use, at every
stage of their life: waiting for the centre (some past the 24 h limit), with the unit (some past the answer
limit), answered and waiting for verification, verified founded or unfounded (two of the founded ones opened
a hidden danger), and closed. Everything goes through ``complaints.service`` at the time it happened (a
``FixedClock`` moved along), so the trail, the SLA timers and the overdue marks are the service's own; the
timers already due fire at the end. Deterministic by seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.complaints import service, workflow
from liftwatch.complaints.workflow import Category, Channel, Verdict
from liftwatch.core.clock import Clock, FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards.workflow import HazardLevel
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.domain import ElevatorStatus

__all__ = ["ComplaintSeed", "seed_complaints"]

COUNT = 36
CENTRE = Actor("operator", Role.RESCUE_OPERATOR)
REGULATOR = Actor("regulator", Role.REGULATOR)
#: what passengers write, by category
TEXTS: dict[Category, tuple[str, ...]] = {
    Category.OUT_OF_SERVICE: ("电梯停运两天了，也没有贴通知", "电梯一直停在一楼不动，老人上不了楼"),
    Category.ENTRAPMENT: ("昨晚被困电梯二十分钟，救援太慢", "电梯突然停在两层之间，按警铃没人应答"),
    Category.NOISE: ("电梯运行时有很大的异响，还会抖动", "开关门时咣当作响，感觉很不安全"),
    Category.UNSAFE: ("轿厢里照明坏了，很黑", "层门关不严，门缝很大", "轿厢里堆放装修垃圾"),
    Category.MAINTENANCE_NOT_DONE: ("维保记录本上个月没有签字，没见人来保养", "维保人员来了十分钟就走了"),
    Category.FEES: ("物业额外收取电梯使用费，不合理", "刷卡乘梯要另外收费"),
    Category.OTHER: ("电梯里的救援电话贴纸看不清了", "希望增加一部电梯"),
}
ANSWERS = ("已安排维保人员现场检查，更换了损坏部件，运行正常", "经核查已整改完毕，并加强日常巡查")
#: the stage each complaint is left at, in turn
STAGES = ("received", "assigned", "answered", "founded", "unfounded", "closed")


@dataclass(frozen=True)
class ComplaintSeed:
    complaints: int
    hazards: int
    overdue: int

    def summary(self) -> str:
        late, opened = self.overdue, self.hazards
        return f"complaints: {self.complaints} ({late} past a limit, {opened} hidden dangers opened)"


def seed_complaints(session: Session, clock: Clock, settings: Settings, seed: int = 1) -> ComplaintSeed:
    """File the demo's complaints (module docstring), unless there are some already."""
    now = clock.now()
    if service.list_complaints(session, SYSTEM_ACTOR, service.Filter(), now, limit=1):
        return ComplaintSeed(0, 0, 0)
    elevators, _ = registry_queries.list_elevators(
        session,
        SYSTEM_ACTOR,
        registry_queries.ElevatorFilter(status=ElevatorStatus.IN_USE.value),
        clock,
        size=5000,
    )
    if not elevators:
        return ComplaintSeed(0, 0, 0)
    rng = random.Random(f"{seed}:complaints")
    secret = settings.resolved_secret_key
    channels = (
        [Channel.HOTLINE_12345] * 4 + [Channel.WECHAT] * 2 + [Channel.PHONE_96333, Channel.PUBLIC_PAGE] * 2
    )
    made = hazards = 0
    for n in range(COUNT):
        e = rng.choice(elevators)
        category = rng.choice(list(Category))
        text = rng.choice(TEXTS[category])
        channel = rng.choice(channels)
        stage = STAGES[n % len(STAGES)]
        at = FixedClock(now - timedelta(days=rng.uniform(0.2, 21)))
        if channel is Channel.PUBLIC_PAGE:
            token = service.form_token(secret, e.registration_code, at.now() - timedelta(seconds=45))
            try:
                out = service.public_intake(
                    session, e.registration_code, category, text, token, "", f"10.8.{n}.1", secret, at
                )
            except service.Refused:  # the same text about the same elevator drawn twice
                continue
        else:
            data = service.Intake(
                channel,
                f"DEMO-{seed}-{n:03d}",
                category,
                text,
                code=e.rescue_code or e.registration_code,
                complainant_name=rng.choice("张王李赵刘陈杨黄") + rng.choice(("先生", "女士")),
                complainant_phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                assign=stage != "received",
            )
            out = service.intake(session, CENTRE, data, at)
        c = out.complaint
        made += 1
        if stage == "received" or not c.responsible_unit:
            continue
        if c.state == "received":
            at.advance(timedelta(hours=rng.uniform(1, 30)))
            service.assign(session, CENTRE, c.id, at)
        if stage == "assigned":
            continue
        at.advance(timedelta(hours=rng.uniform(2, 140)))
        if at.now() >= now:
            continue
        service.answer(session, Actor(c.responsible_unit, Role.ADMIN), c.id, rng.choice(ANSWERS), at)
        if stage == "answered":
            continue
        at.advance(timedelta(hours=rng.uniform(4, 60)))
        if at.now() >= now:
            continue
        founded = stage == "founded" or (stage == "closed" and rng.random() < 0.7)
        danger = founded and hazards < 2 and category in workflow.DANGER_CATEGORIES
        service.verify(
            session,
            REGULATOR,
            c.id,
            Verdict.FOUNDED if founded else Verdict.UNFOUNDED,
            "电话回访投诉人并现场核实" if founded else "现场核实未发现所述问题",
            at,
            settings,
            open_hazard=danger,
            hazard_level=HazardLevel.GENERAL,
        )
        hazards += int(danger)
        if stage == "closed":
            at.advance(timedelta(hours=rng.uniform(1, 24)))
            if at.now() < now:
                service.close(session, CENTRE, c.id, "", at)
    session.flush()
    fired = service.fire_due_timers(session, clock)
    overdue = len({n.complaint_id for n in fired})
    return ComplaintSeed(made, hazards, overdue)
