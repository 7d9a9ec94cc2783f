"""Periodic inspection (定期检验, TSG T7001-2023), self-tests (自行检测, TSG T7008-2023), non-conformities,
rectification and re-inspection (issue 13). docs/INSPECTION.md."""
