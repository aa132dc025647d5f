"""The operations-room page, served at /ops/."""
