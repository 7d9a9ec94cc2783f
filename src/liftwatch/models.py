"""Every table, imported in one place so metadata is complete (Alembic, create_all)."""

from liftwatch.accounts.models import User
from liftwatch.core.db import Base
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit

__all__ = ["Base", "Elevator", "ElevatorEvent", "Unit", "User"]
