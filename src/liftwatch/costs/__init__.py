"""Cost disclosure (费用公开): residential maintenance costs per elevator from contracts and repairs, and
advertising income in the car on a separate ledger per use unit, published half-yearly. docs/COSTS.md."""
