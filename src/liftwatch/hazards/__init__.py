"""Hidden dangers (隐患排查治理): hazards from inspection, maintenance, complaints, monitoring and spot
checks, their rectification deadline, evidence of the fix, the regulator's verification, escalation when
overdue and supervised rectification (挂牌督办) of major ones. docs/HAZARDS.md."""
