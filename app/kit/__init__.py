"""Shared plumbing: base model, clock, errors, phones, pagination."""
