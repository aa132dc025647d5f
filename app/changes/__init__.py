"""The change sequence: one number per committed change of an alert or an incident."""
