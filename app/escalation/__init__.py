"""Escalation: policies, the steps frozen onto an alert, the engine, liaisons' SMS commands."""
