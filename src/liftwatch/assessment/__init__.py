"""Elevators under focused supervision: the measures taken on three-no elevators (三无电梯) and the safety
assessment (安全评估) of residential elevators in use 15 years and more. docs/SUPERVISION.md."""
