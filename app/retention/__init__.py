"""Retention: what is past its time is purged or pseudonymised (statistics stay)."""
