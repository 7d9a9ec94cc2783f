"""Hazard tables: hazards (隐患) with their append-only trail, the evidence of each fix, durable deadlines
(they survive a restart, like work_order_timers), the notices escalation sends (an outbox: written with
the change it tells of) and the emergency use of the repair fund with its disbursements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Hazard(Base):
    """One hidden danger on one elevator. ``(source, source_ref)`` is unique: an inspection finding, a
    complaint or a spot check reported again is one hazard. ``responsible_unit`` is the unit code that must
    rectify it; ``supervised`` marks supervised rectification (挂牌督办), shown on the public list."""

    __tablename__ = "hazards"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_hazards_source_ref"),
        Index("ix_hazards_code", "registration_code", "reported_at"),
        Index("ix_hazards_unit_state", "responsible_unit", "state"),
        Index("ix_hazards_supervised", "supervised", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))  # workflow.HazardSource
    source_ref: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(16))  # workflow.HazardLevel
    description: Mapped[str] = mapped_column(Text, default="")
    responsible_unit: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_set_by: Mapped[str] = mapped_column(String(64), default="")  # "" : the level's default
    state: Mapped[str] = mapped_column(String(16))  # workflow.HazardState
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    work_order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # maintenance's, by id
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verified_by: Mapped[str] = mapped_column(String(64), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HazardEvent(Base):
    """Every change to a hazard: who, when, what (append-only)."""

    __tablename__ = "hazard_events"
    __table_args__ = (Index("ix_hazard_events_hazard", "hazard_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class HazardEvidence(Base):
    """Evidence of a fix submitted by the responsible unit: a text and, optionally, a photo of the
    hazard's corrective work order (``attachment_id``, a maintenance attachment). The regulator's decision
    on it is recorded here too."""

    __tablename__ = "hazard_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    attachment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str] = mapped_column(String(16), default="")  # "" | verified | rejected
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class HazardTimer(Base):
    """An escalation step of a hazard (workflow.Step); ``fire_due_timers`` fires due ones, also after a
    restart."""

    __tablename__ = "hazard_timers"
    __table_args__ = (Index("ix_hazard_timers_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # workflow.Step
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class HazardNotice(Base):
    """A notice to deliver (overdue, supervised, escalated), written in the transaction of the change it
    tells of. ``recipient`` is a unit code or "regulator"; ``key`` is stable for the receiver to drop
    repeats. The delivery columns are those of maintenance_notices, so the same delivery loop fits."""

    __tablename__ = "hazard_notices"
    __table_args__ = (Index("ix_hazard_notices_due", "delivered_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    registration_code: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")


class HazardFundRequest(Base):
    """A request for the emergency use of the repair fund (维修资金紧急使用) for a hazard on a residential
    elevator (fund.py). ``request_key`` makes a request sent twice one request; ``open_hazard_id`` is the
    hazard's id while the request is open (requested or approved) and NULL after, so the unique index
    allows at most one open request per hazard even for two simultaneous requests. ``district`` is the
    elevator's when asked, for the city's totals by district."""

    __tablename__ = "hazard_fund_requests"
    __table_args__ = (
        Index("ix_hazard_fund_requests_hazard", "hazard_id"),
        Index("ix_hazard_fund_requests_state", "state", "district"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    open_hazard_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    district: Mapped[str] = mapped_column(String(64), default="")
    use_unit: Mapped[str] = mapped_column(String(32))  # the unit code that asks and pays out
    applicant: Mapped[str] = mapped_column(String(24))  # fund.Applicant
    amount_fen: Mapped[int] = mapped_column(Integer)  # asked for
    quote: Mapped[str] = mapped_column(Text)  # the contractor's quote (报价): who, what, reference
    purpose: Mapped[str] = mapped_column(Text)  # what the money fixes, tied to the hazard
    state: Mapped[str] = mapped_column(String(16))  # fund.FundState
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")  # the refusal's reason, or a note
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    completed_by: Mapped[str] = mapped_column(String(64), default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completion_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HazardFundPayment(Base):
    """One disbursement of an approved request (支付记录): the amount, the day and the voucher (凭证号);
    ``(request_id, voucher)`` is unique, so a payment recorded twice is one."""

    __tablename__ = "hazard_fund_payments"
    __table_args__ = (UniqueConstraint("request_id", "voucher", name="uq_hazard_fund_payments_voucher"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hazard_fund_requests.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    voucher: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
