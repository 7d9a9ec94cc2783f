"""assessment.models: filled in by issue 14 (in progress)."""
