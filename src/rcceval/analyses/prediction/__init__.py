"""rcceval.analyses.prediction."""
