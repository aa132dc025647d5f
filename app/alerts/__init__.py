"""Alerts and incidents: status workflow, audit trail, operations API."""
