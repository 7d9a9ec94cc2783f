"""Complaints (投诉): from 12345, WeChat, 96333 and the public page in the car, linked to an elevator or a
unit; answered and verified within their limits (durable deadlines); they feed risk, ratings and the
complaint-rate KPI. docs/COMPLAINTS.md."""
