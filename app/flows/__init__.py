"""Flows: the steps that cross domains (an SMS through triage, alerts and escalation; a
liaison's reply; a manual alert). Flows call the domains' services; no domain calls a flow."""
