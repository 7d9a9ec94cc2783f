"""The simulated city: registry, rides and faults with ground truth, reproducible by seed."""
