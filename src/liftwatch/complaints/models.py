"""Complaint tables: complaints (投诉) with their append-only trail, durable SLA timers (they survive a
restart, like hazard_timers) and the notices an overdue complaint sends (an outbox written with the change
it tells of)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liftwatch.core.db import Base, UTCDateTime


class Complaint(Base):
    """One complaint. ``(channel, external_ref)`` is unique: a 12345 work order or a public form sent again
    is one complaint. ``receipt`` is the number the complainant looks its status up with. The elevator's
    units are kept as they were when it came (a later change of contract does not move the complaint), and
    the complainant's name and phone are personal data the service shows to the centre only.
    ``address_hash`` and ``text_hash`` (keyed digests, never the address or text) back the public form's
    rate limit and duplicate check."""

    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("channel", "external_ref", name="uq_complaints_channel_ref"),
        Index("ix_complaints_code", "registration_code", "received_at"),
        Index("ix_complaints_received", "received_at"),
        Index("ix_complaints_responsible_state", "responsible_unit", "state"),
        Index("ix_complaints_maintenance_unit", "maintenance_unit", "received_at"),
        Index("ix_complaints_address", "address_hash", "received_at"),
        Index("ix_complaints_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # workflow.Channel
    external_ref: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(24))  # workflow.Category
    text: Mapped[str] = mapped_column(Text)
    registration_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    district: Mapped[str] = mapped_column(String(64), default="")
    maintenance_unit: Mapped[str] = mapped_column(String(32), default="")  # at receipt
    use_unit: Mapped[str] = mapped_column(String(32), default="")  # at receipt
    named_unit: Mapped[str] = mapped_column(String(32), default="")  # the unit the complaint names
    responsible_unit: Mapped[str] = mapped_column(String(32), default="")  # who must answer
    complainant_name: Mapped[str] = mapped_column(String(64), default="")
    complainant_phone: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16))  # workflow.ComplaintState
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the current step's limit
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_step: Mapped[str] = mapped_column(String(16), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(64), default="")
    verdict: Mapped[str] = mapped_column(String(16), default="")  # "" | workflow.Verdict
    verify_note: Mapped[str] = mapped_column(Text, default="")
    verified_by: Mapped[str] = mapped_column(String(64), default="")
    close_reason: Mapped[str] = mapped_column(Text, default="")
    hazard_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # hazards', by id
    address_hash: Mapped[str] = mapped_column(String(64), default="")
    text_hash: Mapped[str] = mapped_column(String(64), default="")
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintEvent(Base):
    """Every change to a complaint: who, when, what (append-only)."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index("ix_complaint_events_complaint", "complaint_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ComplaintTimer(Base):
    """An SLA limit of a complaint (workflow.Step); ``fire_due_timers`` fires due ones, also after a
    restart."""

    __tablename__ = "complaint_timers"
    __table_args__ = (Index("ix_complaint_timers_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # workflow.Step
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class ComplaintNotice(Base):
    """A notice to deliver (overdue), written in the transaction of the change it tells of; ``recipient`` is
    a unit code or "regulator". Delivery columns as hazard_notices', for core/outbox.py's loop. Never the
    complainant's personal data."""

    __tablename__ = "complaint_notices"
    __table_args__ = (Index("ix_complaint_notices_due", "delivered_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    registration_code: Mapped[str] = mapped_column(String(40), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
