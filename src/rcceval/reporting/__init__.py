"""rcceval.reporting."""
