"""Workflow definitions: deterministic orchestration only (no I/O, no clock, no randomness)."""
