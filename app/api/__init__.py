"""The HTTP API: thin routes, one module per domain; they call services and flows."""
