"""Wiring of the long-running workers (filled in by the worker-module change)."""
