"""Channels: the ways SMS and missed calls reach the gateway and leave it (Twilio, handsets,
aggregators), stored as data."""
