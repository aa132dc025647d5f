"""Inbound: Twilio webhook routes, stored raw messages, the pipeline that turns them into alerts."""
