"""Kengele: the SMS gateway of a community alert network."""

__version__ = "0.1.0"
