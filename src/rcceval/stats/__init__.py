"""rcceval.stats."""
