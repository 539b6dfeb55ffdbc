"""rcceval.analyses.quality."""
