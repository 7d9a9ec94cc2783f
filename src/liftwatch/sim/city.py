"""Generate a plausible city. (Interface fixed; implementation in progress.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine


@dataclass
class CityStats:
    elevators: int = 0
    units: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        return f"generated {self.elevators} elevators in {self.seconds:.1f} s"


def generate_city(
    engine: Engine, elevators: int, seed: int = 1, as_of: date | None = None, progress: bool = True
) -> CityStats:
    raise NotImplementedError
