"""Rescue tables: incidents and their audit trail, the one-open-incident-per-elevator lock, crews,
durable escalation timers (they survive a restart: the scheduler reads them from the database) and the
notice outbox (notices written with the change, delivered by the rescue worker after the commit)."""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class TimerKind(StrEnum):
    ACK = "ack"  # no acknowledgement by the deadline -> L2
    ARRIVAL = "arrival"  # not arrived by the deadline -> L2 (if still L1)
    L3 = "l3"  # not arrived by the deadline + grace -> L3


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_code_alarm", "registration_code", "alarm_at"),
        Index("ix_incidents_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(4))
    persons_trapped: Mapped[int | None] = mapped_column(Integer, nullable=True)
    caller_name: Mapped[str] = mapped_column(String(64), default="")
    callback_phone: Mapped[str] = mapped_column(String(32), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    fault_id: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)
    maintenance_unit: Mapped[str] = mapped_column(String(32), default="")  # contracted unit (L1)
    responder_unit: Mapped[str] = mapped_column(String(32), default="")
    crew_id: Mapped[str | None] = mapped_column(ForeignKey("crews.id"), nullable=True)
    arrival_limit_min: Mapped[int] = mapped_column(Integer)
    alarm_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_false_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_l2_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_l3_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    all_released: Mapped[bool] = mapped_column(Boolean, default=False)
    cause: Mapped[str | None] = mapped_column(String(24), nullable=True)
    cause_detail: Mapped[str] = mapped_column(Text, default="")
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")  # false alarm, cancellation, self-release
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Dispatch(Base):
    """One dispatch of an incident (派单): a level, a unit, a crew (none when the unit had no free crew, or
    for the fire service), and what happened to it. Escalation adds one; earlier crews stay on the job until
    they or the operator withdraw. The incident's dispatched / acknowledged / arrived times are derived from
    these rows (the first of each). An L3 row is the 119 call: ``dispatched_by`` the operator who called,
    ``reference`` the fire service's reference."""

    __tablename__ = "rescue_dispatches"
    __table_args__ = (
        Index("ix_rescue_dispatches_incident", "incident_id", "dispatched_at"),
        Index("ix_rescue_dispatches_unit", "unit", "dispatched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    level: Mapped[str] = mapped_column(String(4))
    unit: Mapped[str] = mapped_column(String(32), default="")  # unit code; "119" for the fire service
    crew_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_by: Mapped[str] = mapped_column(String(64), default="")
    eta_s: Mapped[int | None] = mapped_column(Integer, nullable=True)  # predicted travel at dispatch
    reference: Mapped[str] = mapped_column(String(64), default="")  # e.g. the 119 call's reference
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # this one released
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(64), default="")
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")


class OpenIncidentLock(Base):
    """At most one open incident per elevator: the primary key makes a second one fail, whatever races."""

    __tablename__ = "open_incidents"

    registration_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))


class IncidentEvent(Base):
    """Every change to an incident: who, when, what."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentFault(Base):
    """Every IoT fault an incident took in: the one that opened it and each that joined it (an alarm button
    pressed during an entrapment). The key makes a redelivered fault change nothing, whenever it comes
    again, even after its incident closed."""

    __tablename__ = "incident_faults"

    fault_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Crew(Base):
    """A rescue crew of a maintenance unit or a public rescue station."""

    __tablename__ = "crews"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), index=True)  # unit code
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32), default="")
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # its login
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    position_at: Mapped[datetime] = mapped_column(UTCDateTime)
    on_shift: Mapped[bool] = mapped_column(Boolean, default=True)  # off: on leave, vehicle out of service
    # Daily shift on the city's clock, LIFTWATCH_TIMEZONE (e.g. 08:00-20:00; an end before the start runs
    # past midnight); none: round the clock.
    shift_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    shift_end: Mapped[time | None] = mapped_column(Time, nullable=True)
    busy_incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RescueTimer(Base):
    """A deadline of an incident; the scheduler fires due ones, also after a restart."""

    __tablename__ = "rescue_timers"
    __table_args__ = (Index("ix_rescue_timers_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class NoticeOutbox(Base):
    """A notice to deliver (log, webhook), written in the transaction of the change it tells of, so it
    leaves only if the change was committed, and is not lost if a process stops before sending it. The
    rescue worker delivers due rows at least once; ``key`` (stable) lets the receiver drop repeats."""

    __tablename__ = "notice_outbox"
    __table_args__ = (Index("ix_notice_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # "<incident>:<event>:<kind>"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(4))
    registration_code: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed ones; a delivery ends them
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


def on_duty(crew: Crew, at: datetime, tz: tzinfo) -> bool:
    """The crew is on shift at ``at``: its daily window on the city's clock ``tz``, and not stood down."""
    if not crew.on_shift:
        return False
    if crew.shift_start is None or crew.shift_end is None:
        return True
    local = at.astimezone(tz).time()
    start, end = crew.shift_start, crew.shift_end
    return start <= local < end if start <= end else (local >= start or local < end)
