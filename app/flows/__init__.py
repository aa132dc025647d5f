"""Flows: the steps that cross domains. Flows call the domains' services; no domain calls a
flow (the routes and the runtime do).

- inbound: an SMS or a flash, from its storage through triage, alerts and escalation
- replies: a liaison's answer by SMS (OK 12, FIN 12, FAUX 12...)
- manual: an alert entered by hand
- status: an alert's status changes and what escalation does about them
- escalation_step: paging the next liaison when a page is not acknowledged in time
- provider_reports: how an SMS or call fared (with the page fallback), a channel that spoke
- channel_health: channels announced down and up, the periodic check
- channel_edits: an admin's edits of the channels, and the zones they cut off or give back
- roster: a liaison put off duty or deactivated, and their pages still queued
- places: removing a place of the gazetteer
"""
