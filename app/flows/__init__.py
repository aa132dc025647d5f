"""Flows: the steps that cross domains (an SMS through triage, alerts and escalation; a
liaison's reply; a manual alert; the escalation step; a provider's delivery status and the
page fallback; channels going down and up). Flows call the domains' services; no domain
calls a flow (the runtime runs them, the routes call them)."""
