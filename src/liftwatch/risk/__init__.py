"""Risk grading (风险分级, issue 14 item 1): a score per elevator from what the other domains know of it,
every factor's contribution listed, grades A-D. docs/RISK.md."""
