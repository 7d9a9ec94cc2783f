"""Maintenance tables: contracts (维保合同), work orders (工单) with their audit trail, durable deadlines
(they survive a restart, like rescue's timers), the notices an overdue order sends (an outbox: written
with the change), the on-site records (维保记录: check-in, items, parts, signatures; a signed record is
never changed, an amendment is a new record) and the photos attached to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class MaintenanceContract(Base):
    """A maintenance contract of one elevator with one maintenance unit, valid from ``start_date`` to
    ``end_date`` inclusive (an ended contract's ``end_date`` is its last valid day). The service keeps at
    most one valid contract per elevator on any date."""

    __tablename__ = "maintenance_contracts"
    __table_args__ = (
        Index("ix_maintenance_contracts_code", "registration_code", "start_date"),
        Index("ix_maintenance_contracts_unit", "unit_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    model: Mapped[str] = mapped_column(String(16))  # MaintenanceModel
    price_fen: Mapped[int] = mapped_column(Integer)  # per year, in fen (分): 12000 yuan = 1200000
    responsible: Mapped[str] = mapped_column(String(64), default="")  # the responsible worker's username
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str] = mapped_column(String(64), default="")
    end_reason: Mapped[str] = mapped_column(Text, default="")


class WorkOrder(Base):
    """One job on one elevator. ``(source, source_ref)`` is unique: a fault, a rescue, an inspection finding
    or a planned visit gives one work order however often it is reported."""

    __tablename__ = "work_orders"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_work_orders_source_ref"),
        Index("ix_work_orders_code", "registration_code", "created_at"),
        Index("ix_work_orders_unit_state", "unit_code", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(32))  # the maintenance unit doing it
    kind: Mapped[str] = mapped_column(String(16))  # WorkOrderKind
    source: Mapped[str] = mapped_column(String(16))  # WorkOrderSource
    source_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    interval: Mapped[str | None] = mapped_column(String(16), nullable=True)  # a preventive visit's Interval
    summary: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))  # WorkOrderState
    assignee: Mapped[str] = mapped_column(String(64), default="")
    planned_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # checked in
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # signed by the worker
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkOrderEvent(Base):
    """Every change to a work order: who, when, what."""

    __tablename__ = "work_order_events"
    __table_args__ = (Index("ix_work_order_events_order", "work_order_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WorkOrderTimer(Base):
    """A deadline of a work order (SLA due, escalation); ``fire_due_timers`` fires due ones, also after a
    restart."""

    __tablename__ = "work_order_timers"
    __table_args__ = (Index("ix_work_order_timers_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # workflow.TimerKind
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class MaintenanceNotice(Base):
    """A notice to deliver (an overdue or escalated work order), written in the transaction of the change it
    tells of. ``recipient`` is a unit code or "regulator"; ``key`` is stable for the receiver to drop
    repeats. The maintenance worker delivers them (``delivered_at``); a failed webhook attempt counts in
    ``attempts`` and moves ``next_attempt_at`` (none: due at once)."""

    __tablename__ = "maintenance_notices"
    __table_args__ = (Index("ix_maintenance_notices_due", "delivered_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    registration_code: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # failed ones
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")


class MaintenanceRecord(Base):
    """What was done on site (维保记录). ``items`` is a list of {code, result, value, note} (catalogue
    codes), ``parts`` a list of {name, quantity, note}. Once the worker signs, the record is never changed:
    a correction is a new record with ``amends_id`` and ``amend_reason``."""

    __tablename__ = "maintenance_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_records.id"), nullable=True)
    amend_reason: Mapped[str] = mapped_column(Text, default="")
    registration_code: Mapped[str] = mapped_column(String(40))
    worker: Mapped[str] = mapped_column(String(64))
    check_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_lat: Mapped[float] = mapped_column(Float)
    check_in_lon: Mapped[float] = mapped_column(Float)
    scanned_code: Mapped[str] = mapped_column(String(40))
    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    check_out_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    check_out_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    worker_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unit_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unit_signed_by: Mapped[str] = mapped_column(String(64), default="")
    unit_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A photo of a work order, stored as ``path`` under LIFTWATCH_VAR_DIR (uploads/<yyyy>/<mm>/<uuid>.<ext>);
    the file is in place only once this row is committed."""

    __tablename__ = "maintenance_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_records.id"), nullable=True)
    path: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")  # as uploaded
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MaintenanceFlag(Base):
    """A sign of fake maintenance (假维保) found on a signed record (maintenance/fakes.py), kept for a
    regulator to confirm or dismiss with a note. ``key`` (record, kind, the other visit of a pair) makes
    judging a record again add nothing."""

    __tablename__ = "maintenance_flags"
    __table_args__ = (
        Index("ix_maintenance_flags_state", "state", "created_at"),
        Index("ix_maintenance_flags_code", "registration_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("maintenance_records.id"), index=True)
    registration_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(32))
    worker: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))  # fakes.FakeKind
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))  # open | confirmed | dismissed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewer: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
