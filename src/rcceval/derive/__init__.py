"""rcceval.derive.placements."""
