"""Places: the gazetteer, its importers, the name matcher, distances."""
