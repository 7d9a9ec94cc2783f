"""Elevator liability insurance (电梯责任保险): policies per elevator, the premium factor from the risk grade
with its factors shown to the insurer, the coverage KPI of elevators in public places. docs/INSURANCE.md."""
