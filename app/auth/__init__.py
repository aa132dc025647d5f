"""API keys with roles (viewer, operator, admin)."""
