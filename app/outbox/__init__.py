"""Outbox: delivery rows (SMS, webhooks), the worker that sends them, status callbacks."""
