"""96333 emergency rescue (电梯应急处置): incidents, dispatch, three-level escalation, surge planning,
KPIs."""
