"""Triage: pure functions from an SMS text to category, severity, place and reasons (no I/O)."""
