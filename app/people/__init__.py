"""People: focal points (reporters) and liaisons."""
