"""The city's elevator registry: elevators, units and the elevator file (一梯一档)."""
