"""Registry tables: units (organisations), elevators, and the elevator file's append-only timeline."""

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
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from liftwatch.core.db import Base, UTCDateTime


class Unit(Base):
    """An organisation: use unit, maintenance unit, manufacturer, inspection body, insurer, rescue station."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # unified social credit code
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(32), index=True)
    licence_no: Mapped[str] = mapped_column(String(64), default="")
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    district: Mapped[str] = mapped_column(String(64), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Elevator(Base):
    """One elevator, escalator or moving walk, identified by its registration code (使用登记证编号)."""

    __tablename__ = "elevators"
    __table_args__ = (
        Index("ix_elevators_district_street", "district", "street"),
        Index("ix_elevators_commissioning_date", "commissioning_date"),
        # the city's figures: elevators in use per district or street and their terminals, read from the
        # index alone; the dashboard's areas (counts, coordinates' bounds) likewise (migration 0029)
        Index("ix_elevators_in_service", "status", "district", "street", "iot_terminal_id"),
        Index("ix_elevators_area", "district", "status", "latitude", "longitude"),
        # the coverage figures: by place type, in use, with what each counts, and the codes in public
        # places, read from the index alone (migration 0030)
        Index(
            "ix_elevators_coverage",
            "place_type",
            "status",
            "registration_code",
            "iot_terminal_id",
            "mobile_signal",
            "commissioning_date",
            "installation_date",
            "latitude",
            "longitude",
        ),
        # the map's view: its elevators found by latitude, counted from the index alone (migration 0030)
        Index("ix_elevators_position", "latitude", "longitude", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40), unique=True)
    equipment_code: Mapped[str] = mapped_column(String(40), default="", index=True)
    rescue_code: Mapped[str] = mapped_column(String(16), unique=True)  # 96333应急救援识别码
    kind: Mapped[str] = mapped_column(String(16), index=True)
    manufacturer: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    serial_number: Mapped[str] = mapped_column(String(100), default="")
    rated_load_kg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rated_speed_mps: Mapped[float | None] = mapped_column(Float, nullable=True)
    stops: Mapped[int | None] = mapped_column(Integer, nullable=True)
    floors: Mapped[int | None] = mapped_column(Integer, nullable=True)
    installation_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    commissioning_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    design_life_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    design_life_cycles: Mapped[int | None] = mapped_column(Integer, nullable=True)
    district: Mapped[str] = mapped_column(String(64), default="")
    street: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    building: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    place_type: Mapped[str] = mapped_column(String(32), index=True)
    use_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    maintenance_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    iot_terminal_id: Mapped[str] = mapped_column(String(64), default="")
    no_property_management: Mapped[bool] = mapped_column(Boolean, default=False)
    no_maintenance_contract: Mapped[bool] = mapped_column(Boolean, default=False)
    no_repair_fund: Mapped[bool] = mapped_column(Boolean, default=False)
    # in-car mobile signal (轿厢内移动信号): None while nobody has checked (docs/ANALYTICS.md, coverage)
    mobile_signal: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    use_unit: Mapped[Unit | None] = relationship(foreign_keys=[use_unit_id], lazy="joined")
    maintenance_unit: Mapped[Unit | None] = relationship(foreign_keys=[maintenance_unit_id], lazy="joined")

    @property
    def three_no(self) -> bool:
        """三无电梯: no property management, no maintenance contract and no repair fund."""
        return self.no_property_management and self.no_maintenance_contract and self.no_repair_fund


class ElevatorEvent(Base):
    """One entry on the elevator file's timeline. Append-only: rows are never updated or deleted."""

    __tablename__ = "elevator_events"
    __table_args__ = (Index("ix_elevator_events_elevator_occurred", "elevator_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by writers that may see the same fact twice (redelivered telemetry): unique, so it lands once.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)


class RetiredRescueCode(Base):
    """A 96333 rescue code an elevator gave up for a new one. Never given to another elevator: a sticker
    not yet replaced, or a caller who remembers it, still finds the elevator that held it."""

    __tablename__ = "retired_rescue_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    registration_code: Mapped[str] = mapped_column(String(40), index=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")


class AppendOnlyViolation(RuntimeError):
    pass


@event.listens_for(ElevatorEvent, "before_update")
def _refuse_update(_mapper: Mapper[Any], _conn: Any, target: ElevatorEvent) -> None:
    raise AppendOnlyViolation(f"elevator file entries are append-only (event {target.id})")


@event.listens_for(ElevatorEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[Any], _conn: Any, target: ElevatorEvent) -> None:
    raise AppendOnlyViolation(f"elevator file entries are append-only (event {target.id})")
