"""Statistics of alerts and of the reporting network."""
