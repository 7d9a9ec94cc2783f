"""Applications handled in one window (一网通办): construction notices, use registration and its change or
cancellation, inspection requests, modernisation projects, and adding elevators to old residential
buildings (既有多层住宅加装电梯)."""
