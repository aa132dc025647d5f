"""Data protection: erasing a focal point, rotating the data keys (docs/DATA_PROTECTION.md)."""
